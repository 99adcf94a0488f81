package web

import (
	"net/http"
	"strings"
	"sync"

	"github.com/instancehub/instancehub"
	"github.com/labstack/echo/v5"
)

// apiListComputes lists a page of compute instances: ?search=, ?mine=true,
// ?owner=EMAIL, ?sort=name|-name|created|-created, ?page=.
func (s *Server) apiListComputes(c *echo.Context) error {
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	// The API's computes show no next stop: their schedules go unread.
	q := instancehub.ListQuery{Search: c.QueryParam("search"), Owner: c.QueryParam("owner"), Sort: instancehub.InstanceSort(c.QueryParam("sort")), Page: page, NoNextStops: true}
	switch c.QueryParam("mine") {
	case "", "false":
	case "true":
		q.OnlyMine = true
	default:
		return instancehub.FieldError("mine", "mine is true or false.")
	}
	list, err := s.service.ListInstances(c.Request().Context(), q)
	if err != nil {
		return err
	}
	if list.OwnerError != "" {
		return instancehub.FieldError("owner", list.OwnerError)
	}
	buf := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(buf)
	b := append((*buf)[:0], `{"value":[`...)
	origin := s.absolute(c, "")
	// The kept computes are for the version the page cache read, when it
	// could read one.
	k, keep := c.Request().Context().Value(keepingKey{}).(*keeping)
	for i, inst := range list.Instances {
		if i > 0 {
			b = append(b, ',')
		}
		encode := func(b []byte) []byte {
			v := s.computeOf(origin, inst, nil)
			return appendCompute(b, &v)
		}
		if keep {
			b = s.computes.appendCompute(b, k.version, fragmentKey{origin: origin, name: inst.Name}, encode)
		} else {
			b = encode(b)
		}
	}
	b = appendListEnd(append(b, ']'), list.Total, s.nextLink(c, page, list.Pages))
	*buf = b
	return s.keepAs(c, http.StatusOK, echo.MIMEApplicationJSON, b, false)
}

// jsonBuffers holds the buffers the list is encoded into: keepAs copies
// what it keeps, and an answer is written before its buffer goes back.
var jsonBuffers = sync.Pool{New: func() any { return new([]byte) }}

// apiGetCompute answers one instance, with its schedules.
func (s *Server) apiGetCompute(c *echo.Context) error {
	inst, schedules, err := s.service.InstanceWithSchedules(c.Request().Context(), c.Param("name"))
	if err != nil {
		return err
	}
	if acceptsYAML(c) {
		return s.computeFile(c, inst, schedules)
	}
	return s.sendJSON(c, http.StatusOK, s.computeOf(s.absolute(c, ""), inst, schedules))
}

// apiAct starts a Start, Stop or Restart: 202 with the operation to poll.
func (s *Server) apiAct(c *echo.Context) error {
	var kind instancehub.OperationKind
	switch c.Param("action") {
	case "start":
		kind = instancehub.OpStart
	case "stop":
		kind = instancehub.OpStop
	case "restart":
		kind = instancehub.OpRestart
	default:
		return echo.ErrNotFound
	}
	return s.apiSubmit(c, kind)
}

// apiDeleteCompute starts a Delete: 202 with the operation to poll.
func (s *Server) apiDeleteCompute(c *echo.Context) error { return s.apiSubmit(c, instancehub.OpDelete) }

func (s *Server) apiSubmit(c *echo.Context, kind instancehub.OperationKind) error {
	inst, err := s.service.Act(c.Request().Context(), c.Param("name"), kind)
	if err != nil {
		return err
	}
	s.closeApplications(kind, inst.Name)
	return s.accepted(c, inst.LastOperation)
}

// accepted answers 202 with the operation and where to poll it.
func (s *Server) accepted(c *echo.Context, op *instancehub.Operation) error {
	h := c.Response().Header()
	h.Set(echo.HeaderLocation, s.operationAddress(op))
	h.Set("Retry-After", "5")
	return s.sendJSON(c, http.StatusAccepted, operationOf(op))
}

// apiOperations lists an instance's operations, newest first.
func (s *Server) apiOperations(c *echo.Context) error {
	ops, err := s.service.Operations(c.Request().Context(), c.Param("name"))
	if err != nil {
		return err
	}
	out := listJSON[operationJSON]{Value: make([]operationJSON, 0, len(ops)), Count: len(ops)}
	for _, op := range ops {
		out.Value = append(out.Value, operationOf(op))
	}
	return s.sendJSON(c, http.StatusOK, out)
}

// apiOperation answers one operation; while it runs, Retry-After says when
// to ask again.
func (s *Server) apiOperation(c *echo.Context) error {
	id, ok := idParam(c)
	if !ok {
		return instancehub.Errorf(instancehub.ENOTFOUND, "%s has no operation %q.", c.Param("name"), instancehub.Clip(c.Param("id"), 40))
	}
	op, err := s.service.Operation(c.Request().Context(), c.Param("name"), id)
	if err != nil {
		return err
	}
	if op.Status == instancehub.StatusInProgress {
		c.Response().Header().Set("Retry-After", "5")
	}
	return s.sendJSON(c, http.StatusOK, operationOf(op))
}

// acceptsYAML reports whether the client asked for the instance as a
// compute-instance file: Accept names YAML before JSON.
func acceptsYAML(c *echo.Context) bool {
	accept := strings.ToLower(c.Request().Header.Get(echo.HeaderAccept))
	y := strings.Index(accept, "yaml")
	j := strings.Index(accept, "json")
	return y >= 0 && (j < 0 || y < j)
}
