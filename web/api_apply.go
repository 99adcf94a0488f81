package web

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/amlyaml"
	"github.com/labstack/echo/v5"
)

// mimeYAML is the media type of YAML (RFC 9512).
const mimeYAML = "application/yaml"

// readComputeFile reads a request's compute-instance file, YAML or JSON,
// and fills in what it leaves to the workspace: the default region and
// idle shutdown.
func (s *Server) readComputeFile(c *echo.Context) (instancehub.CreateRequest, *amlyaml.File, error) {
	r := c.Request()
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get(echo.HeaderContentType), ";")[0]))
	switch ct {
	case echo.MIMEApplicationJSON, mimeYAML, "application/x-yaml", "text/yaml", "text/x-yaml":
	default:
		return instancehub.CreateRequest{}, nil, instancehub.Errorf(instancehub.EINVALID,
			"Send a compute-instance file as YAML (Content-Type: application/yaml) or JSON (application/json).")
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, int64(amlyaml.MaxFileSize)+1))
	if err != nil {
		return instancehub.CreateRequest{}, nil, instancehub.Errorf(instancehub.EINVALID, "The request body could not be read.")
	}
	file, err := amlyaml.Decode(data)
	if err != nil {
		return instancehub.CreateRequest{}, nil, err
	}
	req := file.Request
	ctx := r.Context()
	if !file.LocationSet {
		if req.Region, err = s.service.DefaultRegion(ctx); err != nil {
			return req, nil, err
		}
	}
	if !file.IdleSet {
		ws, err := s.service.WorkspaceSettings(ctx)
		if err != nil {
			return req, nil, err
		}
		req.IdleShutdownOn, req.IdleMinutes = ws.IdleShutdownOn, strconv.Itoa(int(ws.IdleShutdown/time.Minute))
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	return req, file, nil
}

// fileKeys names, for the service's refusals of a file, the keys of the
// file the fields came from.
var fileKeys = map[string]string{
	"name": "name", "vm_size": "size", "region": "location", "ssh_public_key": "ssh_settings.ssh_key_value",
	"virtual_network": "network_settings.vnet_name", "subnet": "network_settings.subnet",
	"idle_minutes": "idle_time_before_shutdown_minutes", "assign_to": "create_on_behalf_of.user_object_id",
	"schedules": "schedules.compute_start_stop", "description": "description", "tags": "tags", "identity": "identity",
	"idempotency_key": "Idempotency-Key",
}

var scheduleField = regexp.MustCompile(`^schedule-(\d+)-(\w+)$`)

// inFileTerms renames the field errors of a refused create to the keys of
// the file that caused them, and says where they are in it.
func inFileTerms(err error, file *amlyaml.File) error {
	fields := instancehub.ErrorFields(err)
	if instancehub.ErrorCode(err) != instancehub.EINVALID || len(fields) == 0 {
		return err
	}
	out := &instancehub.Error{Code: instancehub.EINVALID, Message: instancehub.ErrorMessage(err), Fields: map[string]string{}}
	for k, v := range fields {
		switch m := scheduleField.FindStringSubmatch(k); {
		case k == "virtual_network" && file.Positions["network_settings.vnet_name"] == "" && file.Positions["network_settings.subnet"] != "":
			k = "network_settings.subnet" // the subnet's resource ID named the network
		case fileKeys[k] != "":
			k = fileKeys[k]
		case m != nil && m[2] == "start_time":
			k = fmt.Sprintf("schedules.compute_start_stop[%s].trigger.start_time", m[1])
		case m != nil:
			k = fmt.Sprintf("schedules.compute_start_stop[%s].trigger", m[1])
		}
		if at, ok := file.Positions[k]; ok {
			v = at + ": " + v
		}
		out.Fields[k] = v
	}
	return out
}

// apiCreateCompute creates an instance from a compute-instance file: 202
// with the create operation to poll. With an Idempotency-Key, a retry
// answers the same, and makes nothing.
func (s *Server) apiCreateCompute(c *echo.Context) error {
	req, file, err := s.readComputeFile(c)
	if err != nil {
		return err
	}
	return s.createFromFile(c, req, file)
}

// apiApplyCompute makes what a file describes true: it creates the instance
// when there is none of that name, and answers 200 when one exists as the
// file describes. An instance can't be changed once made, so one that
// differs is a conflict that names the keys.
func (s *Server) apiApplyCompute(c *echo.Context) error {
	req, file, err := s.readComputeFile(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	inst, schedules, err := s.service.InstanceWithSchedules(ctx, strings.TrimSpace(req.Name))
	switch instancehub.ErrorCode(err) {
	case instancehub.ENOTFOUND:
		return s.createFromFile(c, req, file)
	case "":
	default:
		return err
	}
	req.VirtualNetwork = s.service.NetworkRef(ctx, req.Region, req.VirtualNetwork)
	if diff := differences(inst, schedules, req); len(diff) > 0 {
		return instancehub.Errorf(instancehub.ECONFLICT,
			"%s exists and differs from the file in %s. An instance's settings are fixed when it is created: delete it first, or give the file another name.",
			inst.Name, strings.Join(diff, ", "))
	}
	return s.sendJSON(c, http.StatusOK, s.computeOf(s.absolute(c, ""), inst, schedules))
}

// createFromFile creates the instance of a file: 202 with its create
// operation, the same for a retry with the same Idempotency-Key.
func (s *Server) createFromFile(c *echo.Context, req instancehub.CreateRequest, file *amlyaml.File) error {
	inst, err := s.service.CreateInstance(c.Request().Context(), req)
	if err != nil {
		return inFileTerms(err, file)
	}
	if inst.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	c.Response().Header().Set("Content-Location", s.computeAddress(inst.Name))
	return s.accepted(c, inst.LastOperation)
}

// differences lists the file's keys whose values differ from the instance.
func differences(d *instancehub.Instance, schedules []*instancehub.Schedule, req instancehub.CreateRequest) []string {
	var diff []string
	check := func(key string, same bool) {
		if !same {
			diff = append(diff, key)
		}
	}
	check("size", strings.EqualFold(d.VMSize, req.VMSize))
	check("location", d.Region == req.Region)
	check("description", d.Description == strings.TrimSpace(req.Description))
	check("tags", maps.Equal(d.Tags, req.Tags))
	check("ssh_public_access_enabled", d.SSHEnabled == req.SSHEnabled)
	// A key left for later is the owner's to add: one there since is no
	// difference.
	check("ssh_settings.ssh_key_value", !req.SSHEnabled || req.SSHKeyLater || strings.TrimSpace(req.SSHPublicKey) == d.SSHPublicKey)
	check("network_settings.vnet_name", req.VirtualNetwork == "" || req.VirtualNetwork == d.VirtualNetwork)
	check("network_settings.subnet", req.Subnet == "" || req.Subnet == d.Subnet)
	check("identity", d.Identity.SystemAssigned == req.Identity.SystemAssigned &&
		slices.Equal(sortedCopy(d.Identity.UserAssigned), sortedCopy(req.Identity.UserAssigned)))
	idle := 0
	if req.IdleShutdownOn {
		idle, _ = strconv.Atoi(req.IdleMinutes)
	}
	check("idle_time_before_shutdown_minutes", int(d.IdleShutdown/time.Minute) == idle)
	check("schedules", len(schedules) == countSchedules(req.Schedules))
	check("setup_scripts", sameScripts(d.Setup, req.Setup))
	return diff
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	for i := range c {
		c[i] = strings.ToLower(c[i])
	}
	slices.Sort(c)
	return c
}

func countSchedules(rs []instancehub.ScheduleRequest) int {
	n := 0
	for _, r := range rs {
		if !r.Blank() {
			n++
		}
	}
	return n
}

// computeFile answers an instance as a compute-instance file of az ml, for
// GET with Accept: application/yaml.
func (s *Server) computeFile(c *echo.Context, inst *instancehub.Instance, schedules []*instancehub.Schedule) error {
	onBehalfOf := ""
	if inst.OwnerID != inst.CreatedByID {
		onBehalfOf = inst.OwnerEmail
	}
	data, err := amlyaml.Encode(inst, schedules, onBehalfOf)
	if err != nil {
		return err
	}
	return s.keepAs(c, http.StatusOK, mimeYAML+"; charset=utf-8", data, false)
}

// sameScripts compares an instance's scripts with a file's, a timeout left
// out of the file being the default.
func sameScripts(a, b instancehub.SetupScripts) bool {
	same := func(x, y *instancehub.SetupScript) bool {
		if x == nil || y == nil {
			return x == y
		}
		tx, ty := cmp.Or(x.Timeout, instancehub.DefaultSetupTimeout), cmp.Or(y.Timeout, instancehub.DefaultSetupTimeout)
		return x.Command == y.Command && instancehub.SetupPath(x.Path) == instancehub.SetupPath(y.Path) && x.Arguments == y.Arguments && tx == ty
	}
	return same(a.Creation, b.Creation) && same(a.Startup, b.Startup)
}
