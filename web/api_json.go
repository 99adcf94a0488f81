package web

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// The API's shapes follow the reference product's compute resource (Azure
// Machine Learning's workspaces/computes), so that people who know it
// recognise it: a resource with name and location, and properties.properties
// holding what is particular to a compute instance.

type computeJSON struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	Tags       map[string]string `json:"tags,omitempty"`
	Identity   *identityJSON     `json:"identity,omitempty"`
	Properties computeProperties `json:"properties"`
}

type identityJSON struct {
	Type                   string              `json:"type"`
	UserAssignedIdentities map[string]struct{} `json:"userAssignedIdentities,omitempty"`
}

type computeProperties struct {
	ComputeType       string                  `json:"computeType"`
	ComputeLocation   string                  `json:"computeLocation"`
	Description       string                  `json:"description,omitempty"`
	ProvisioningState string                  `json:"provisioningState"`
	CreatedOn         time.Time               `json:"createdOn"`
	ModifiedOn        time.Time               `json:"modifiedOn"`
	Properties        computeInstanceSettings `json:"properties"`
}

type computeInstanceSettings struct {
	VMSize                 string             `json:"vmSize"`
	State                  string             `json:"state"`
	Applications           []applicationJSON  `json:"applications"`
	ConnectivityEndpoints  connectivityJSON   `json:"connectivityEndpoints"`
	SSHSettings            sshSettingsJSON    `json:"sshSettings"`
	Subnet                 subnetJSON         `json:"subnet"`
	CreatedBy              personJSON         `json:"createdBy"`
	AssignedUser           *personJSON        `json:"assignedUser,omitempty"`
	LastOperation          *lastOperationJSON `json:"lastOperation,omitempty"`
	Schedules              *schedulesJSON     `json:"schedules,omitempty"`
	IdleTimeBeforeShutdown string             `json:"idleTimeBeforeShutdown,omitempty"`
	OSImageMetadata        *osImageJSON       `json:"osImageMetadata,omitempty"`
	SetupScripts           *setupScriptsJSON  `json:"setupScripts,omitempty"`
	Errors                 []apiErrorBody     `json:"errors,omitempty"`
}

// osImageJSON is the reference's ImageMetadata: the OS image version the
// instance runs and the newest in its region ("" when Azure could not say).
type osImageJSON struct {
	CurrentImageVersion    string `json:"currentImageVersion"`
	LatestImageVersion     string `json:"latestImageVersion"`
	IsLatestOsImageVersion bool   `json:"isLatestOsImageVersion"`
}

// setupScriptsJSON are an instance's setup scripts in the reference's REST
// shape: an inline script's data is its text in base64, a file's its path
// in the owner's files (scriptSource workspaceStorage).
type setupScriptsJSON struct {
	Scripts struct {
		CreationScript *scriptJSON `json:"creationScript,omitempty"`
		StartupScript  *scriptJSON `json:"startupScript,omitempty"`
	} `json:"scripts"`
}

type scriptJSON struct {
	ScriptSource    string `json:"scriptSource"`
	ScriptData      string `json:"scriptData"`
	ScriptArguments string `json:"scriptArguments,omitempty"`
	Timeout         string `json:"timeout"`
}

func setupScriptsOf(s instancehub.SetupScripts) *setupScriptsJSON {
	if !s.Any() {
		return nil
	}
	one := func(s *instancehub.SetupScript) *scriptJSON {
		if s == nil {
			return nil
		}
		j := &scriptJSON{ScriptSource: "inline", ScriptData: base64.StdEncoding.EncodeToString([]byte(s.Command)),
			ScriptArguments: s.Arguments, Timeout: fmt.Sprintf("%dm", int(s.Timeout/time.Minute))}
		if s.Path != "" {
			j.ScriptSource, j.ScriptData = "workspaceStorage", s.Path
		}
		return j
	}
	j := &setupScriptsJSON{}
	j.Scripts.CreationScript, j.Scripts.StartupScript = one(s.Creation), one(s.Startup)
	return j
}

type applicationJSON struct {
	DisplayName string `json:"displayName"`
	EndpointURI string `json:"endpointUri"`
}

type connectivityJSON struct {
	PublicIPAddress  string `json:"publicIpAddress,omitempty"`
	PrivateIPAddress string `json:"privateIpAddress,omitempty"`
}

type sshSettingsJSON struct {
	SSHPublicAccess string `json:"sshPublicAccess"`
	AdminUserName   string `json:"adminUserName"`
	SSHPort         int    `json:"sshPort"`
	AdminPublicKey  string `json:"adminPublicKey,omitempty"`
}

type subnetJSON struct {
	VirtualNetwork string `json:"virtualNetwork"`
	Name           string `json:"name"`
}

type personJSON struct {
	UserName string `json:"userName"`
	UserID   string `json:"userId"`
}

type lastOperationJSON struct {
	OperationName    string    `json:"operationName"`
	OperationStatus  string    `json:"operationStatus"`
	OperationTime    time.Time `json:"operationTime"`
	OperationTrigger string    `json:"operationTrigger"`
}

type schedulesJSON struct {
	ComputeStartStop []scheduleJSON `json:"computeStartStop"`
}

type scheduleJSON struct {
	ID          string          `json:"id"`
	Status      string          `json:"status"`
	Action      string          `json:"action"`
	TriggerType string          `json:"triggerType"`
	Cron        *cronJSON       `json:"cron,omitempty"`
	Recurrence  *recurrenceJSON `json:"recurrence,omitempty"`
}

type cronJSON struct {
	Expression string `json:"expression"`
	TimeZone   string `json:"timeZone"`
}

type recurrenceJSON struct {
	Frequency string             `json:"frequency"`
	Interval  int                `json:"interval"`
	TimeZone  string             `json:"timeZone"`
	Schedule  recurrenceSchedule `json:"schedule"`
}

type recurrenceSchedule struct {
	Hours    []int    `json:"hours"`
	Minutes  []int    `json:"minutes"`
	WeekDays []string `json:"weekDays"`
}

// operationJSON is an operation as a client polls it, in the shape of
// Azure's asynchronous operation results.
type operationJSON struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Status    string        `json:"status"`
	Compute   string        `json:"compute"`
	Trigger   string        `json:"trigger"`
	Rule      string        `json:"rule,omitempty"`
	UserName  string        `json:"userName,omitempty"`
	Step      string        `json:"step,omitempty"`
	StartTime time.Time     `json:"startTime"`
	EndTime   *time.Time    `json:"endTime,omitempty"`
	Error     *apiErrorBody `json:"error,omitempty"`
}

// listJSON is a page of a list, with the address of the next.
type listJSON[T any] struct {
	Value    []T    `json:"value"`
	Count    int    `json:"count"`
	NextLink string `json:"nextLink,omitempty"`
}

// apiState is the reference's ComputeInstanceState of s: an instance whose
// VM is missing reads as Unusable.
func apiState(s instancehub.State) string {
	if s == instancehub.StateMissing {
		return string(instancehub.StateUnusable)
	}
	return string(s)
}

// provisioningState is the resource's: Azure's value for where its
// creation or deletion stands.
func provisioningState(s instancehub.State) string {
	switch s {
	case instancehub.StateCreating:
		return "Creating"
	case instancehub.StateCreateFailed:
		return "Failed"
	case instancehub.StateDeleting:
		return "Deleting"
	case instancehub.StateUnknown:
		return "Unknown"
	}
	return "Succeeded"
}

func (s *Server) computeAddress(name string) string {
	return apiPrefix + "/computes/" + url.PathEscape(name)
}

func (s *Server) operationAddress(op *instancehub.Operation) string {
	return fmt.Sprintf("%s/computes/%s/operations/%d", apiPrefix, url.PathEscape(op.InstanceName), op.ID)
}

// computeOf renders an instance in the reference's shape; origin is the
// portal's address as the client reached it (s.absolute(c, "")), which its
// applications' addresses begin with.
func (s *Server) computeOf(origin string, inst *instancehub.Instance, schedules []*instancehub.Schedule) computeJSON {
	p := computeInstanceSettings{
		VMSize: inst.VMSize, State: apiState(inst.State), Applications: []applicationJSON{},
		ConnectivityEndpoints: connectivityJSON{PublicIPAddress: inst.PublicIP, PrivateIPAddress: inst.PrivateIP},
		SSHSettings:           sshSettingsJSON{SSHPublicAccess: "Disabled", AdminUserName: instancehub.SSHUser, SSHPort: inst.SSHPort},
		Subnet:                subnetJSON{VirtualNetwork: inst.VirtualNetwork, Name: inst.Subnet},
		CreatedBy:             personJSON{UserName: inst.CreatedByName, UserID: strconv.FormatInt(inst.CreatedByID, 10)},
		SetupScripts:          setupScriptsOf(inst.Setup),
	}
	if inst.SSHEnabled {
		p.SSHSettings.SSHPublicAccess, p.SSHSettings.AdminPublicKey = "Enabled", inst.SSHPublicKey
	}
	if inst.OwnerID != inst.CreatedByID {
		p.AssignedUser = &personJSON{UserName: inst.OwnerName, UserID: strconv.FormatInt(inst.OwnerID, 10)}
	}
	if inst.State == instancehub.StateRunning {
		p.Applications = make([]applicationJSON, 0, len(instancehub.Applications))
		for _, app := range instancehub.Applications {
			p.Applications = append(p.Applications, applicationJSON{DisplayName: app.Label,
				EndpointURI: origin + "/instances/" + url.PathEscape(inst.Name) + "/apps/" + app.Slug + "/"})
		}
	}
	if op := inst.LastOperation; op != nil {
		p.LastOperation = &lastOperationJSON{OperationName: string(op.Kind), OperationStatus: op.StatusLabel(),
			OperationTime: op.StartedAt, OperationTrigger: string(op.Trigger)}
		if op.Status == instancehub.StatusFailed {
			p.Errors = []apiErrorBody{{Code: op.ErrorCode, Message: op.ErrorMessage}}
		}
	}
	if img := inst.OSImage; img != nil {
		p.OSImageMetadata = &osImageJSON{CurrentImageVersion: img.Version, LatestImageVersion: img.Latest, IsLatestOsImageVersion: img.IsLatest()}
	}
	if inst.IdleShutdown > 0 {
		p.IdleTimeBeforeShutdown = fmt.Sprintf("PT%dM", int(inst.IdleShutdown/time.Minute))
	}
	if len(schedules) > 0 {
		p.Schedules = &schedulesJSON{}
		for _, sch := range schedules {
			p.Schedules.ComputeStartStop = append(p.Schedules.ComputeStartStop, scheduleOf(sch))
		}
	}
	out := computeJSON{
		ID: s.computeAddress(inst.Name), Name: inst.Name, Type: "Microsoft.MachineLearningServices/workspaces/computes",
		Location: inst.Region, Tags: inst.Tags,
		Properties: computeProperties{ComputeType: "ComputeInstance", ComputeLocation: inst.Region, Description: inst.Description,
			ProvisioningState: provisioningState(inst.State), CreatedOn: inst.CreatedAt, ModifiedOn: inst.UpdatedAt, Properties: p},
	}
	if !inst.Identity.None() {
		out.Identity = &identityJSON{Type: inst.Identity.Type()}
		if len(inst.Identity.UserAssigned) > 0 {
			out.Identity.UserAssignedIdentities = map[string]struct{}{}
			for _, id := range inst.Identity.UserAssigned {
				out.Identity.UserAssignedIdentities[id] = struct{}{}
			}
		}
	}
	return out
}

func scheduleOf(sch *instancehub.Schedule) scheduleJSON {
	out := scheduleJSON{ID: fmt.Sprint(sch.ID), Status: "Enabled", Action: string(sch.Action), TriggerType: string(sch.Kind)}
	if sch.Kind == instancehub.ScheduleCron {
		out.Cron = &cronJSON{Expression: sch.Cron, TimeZone: sch.TimeZone}
		return out
	}
	days := make([]string, 0, len(sch.WeekDays))
	for _, d := range sch.WeekDays {
		days = append(days, d.String())
	}
	hours, minutes := slices.Clone(sch.Hours), slices.Clone(sch.Minutes)
	slices.Sort(hours)
	slices.Sort(minutes)
	out.Recurrence = &recurrenceJSON{Frequency: "Week", Interval: 1, TimeZone: sch.TimeZone,
		Schedule: recurrenceSchedule{Hours: hours, Minutes: minutes, WeekDays: days}}
	return out
}

func operationOf(op *instancehub.Operation) operationJSON {
	out := operationJSON{ID: fmt.Sprint(op.ID), Name: string(op.Kind), Status: string(op.Status), Compute: op.InstanceName,
		Trigger: string(op.Trigger), Rule: op.Rule, UserName: op.UserName, StartTime: op.StartedAt}
	if op.Status == instancehub.StatusInProgress {
		out.Step = op.Step
	}
	if !op.FinishedAt.IsZero() {
		end := op.FinishedAt
		out.EndTime = &end
	}
	if op.Status == instancehub.StatusFailed {
		out.Error = &apiErrorBody{Code: strings.TrimSpace(op.ErrorCode), Message: op.ErrorMessage}
		if out.Error.Code == "" {
			out.Error.Code = instancehub.ECLOUD
		}
	}
	return out
}
