package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// page is what the layout needs from this request.
func (s *Server) page(c *echo.Context, section string) *views.Page {
	p := &views.Page{
		User:          instancehub.UserFromContext(c.Request().Context()),
		Workspace:     s.cfg.Workspace,
		Section:       section,
		StaticVersion: s.staticVersion,
		Rows:          s.rows,
	}
	if token := sessionToken(c); token != "" {
		p.CSRFToken = instancehub.CSRFToken(token)
	}
	// A notice left by a redirect belongs to the next whole page, not to a
	// fragment another tab happens to poll.
	if !isHTMX(c) {
		if tone, msg := s.takeNotice(c); msg != "" {
			tone, stays := strings.CutSuffix(tone, lastingNotice)
			p.Notice = &views.Notice{Tone: tone, Message: msg, Stays: stays}
		}
	}
	return p
}

// render writes a component with status, its page data in the context.
func (s *Server) render(c *echo.Context, status int, section string, component templ.Component) error {
	buf, page, err := s.renderPage(c, section, component)
	defer putPageBuffer(buf)
	if err != nil {
		return err
	}
	return s.keep(c, status, buf.Bytes(), page.Notice != nil)
}

// renderPage renders a component, its page data in the context, into a
// buffer of pageBuffers, which the caller puts back (putPageBuffer).
func (s *Server) renderPage(c *echo.Context, section string, component templ.Component) (*bytes.Buffer, *views.Page, error) {
	page := s.page(c, section)
	ctx := views.WithPage(c.Request().Context(), page)
	buf := getPageBuffer()
	return buf, page, component.Render(ctx, buf)
}

// getPageBuffer is an empty buffer of pageBuffers.
func getPageBuffer() *bytes.Buffer {
	buf := pageBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	return buf
}

// pageBuffers keep the buffers pages are rendered into: a list page is
// 60 KB, which a new buffer reaches by growing and clearing seven times.
var pageBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 64<<10)) }}

// putPageBuffer keeps buf for the next page, unless an unusual page made it
// large.
func putPageBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 1<<20 {
		pageBuffers.Put(buf)
	}
}

// renderWithNotice writes a fragment and a toast beside it.
func (s *Server) renderWithNotice(c *echo.Context, status int, component templ.Component, notice views.Notice) error {
	return s.render(c, status, "", templ.Join(component, views.ToastOOB(notice)))
}

// statuses maps error codes to HTTP statuses.
var statuses = map[string]int{
	instancehub.ECONFLICT:     http.StatusConflict,
	instancehub.EQUOTA:        http.StatusConflict,
	instancehub.EINVALID:      http.StatusUnprocessableEntity,
	instancehub.ENOTFOUND:     http.StatusNotFound,
	instancehub.EUNAUTHORIZED: http.StatusUnauthorized,
	instancehub.EFORBIDDEN:    http.StatusForbidden,
	instancehub.EUNAVAILABLE:  http.StatusServiceUnavailable,
	instancehub.ECLOUD:        http.StatusBadGateway,
	instancehub.EINTERNAL:     http.StatusInternalServerError,
	instancehub.ETHROTTLED:    http.StatusTooManyRequests,
	instancehub.EFULL:         http.StatusInsufficientStorage,
}

var titles = map[int]string{
	http.StatusNotFound:              "Not found",
	http.StatusForbidden:             "Not allowed",
	http.StatusUnauthorized:          "Sign in",
	http.StatusConflict:              "Not possible now",
	http.StatusBadRequest:            "Bad request",
	http.StatusTooManyRequests:       "Try again shortly",
	http.StatusRequestEntityTooLarge: "Too large",
	http.StatusServiceUnavailable:    "Azure is not answering",
	http.StatusBadGateway:            "Azure refused",
	http.StatusInternalServerError:   "Something went wrong",
	http.StatusInsufficientStorage:   "The portal's disk is full",
}

// handleError is the one place errors become responses. Internal errors are
// logged in full and shown as a generic message; the others are shown as
// they are. htmx requests get a toast instead of a page.
func (s *Server) handleError(c *echo.Context, err error) {
	if resp, uerr := echo.UnwrapResponse(c.Response()); uerr == nil && resp.Committed {
		return
	}
	status, message := http.StatusInternalServerError, instancehub.ErrorMessage(err)
	var he *echo.HTTPError
	fromEcho := echo.StatusCode(err) != 0
	switch {
	case errors.As(err, &he):
		status, message = he.Code, he.Message
	case fromEcho: // echo's own answers: no route, no such method
		status, message = echo.StatusCode(err), http.StatusText(echo.StatusCode(err))
	case instancehub.ErrorCode(err) != "":
		status = statuses[instancehub.ErrorCode(err)]
	}
	switch {
	case errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil:
		// The browser went away: nothing to answer, nothing wrong here.
		s.cfg.Logger.DebugContext(c.Request().Context(), "request cancelled by the client", "method", c.Request().Method, "path", c.Request().URL.Path)
		return
	case instancehub.ErrorCode(err) == instancehub.EFULL:
		s.cfg.Logger.ErrorContext(c.Request().Context(), "request failed: the portal's disk is full", "method", c.Request().Method, "path", c.Request().URL.Path)
	case status >= http.StatusInternalServerError && instancehub.ErrorCode(err) == instancehub.EINTERNAL && !fromEcho:
		s.cfg.Logger.ErrorContext(c.Request().Context(), "request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		// Whoever reports it can quote the line's request ID.
		if id := instancehub.RequestIDFromContext(c.Request().Context()); id != "" {
			message += " Its request ID is " + id + "."
		}
	}
	if status == http.StatusNotFound && fromEcho && (he == nil || he.Message == "") {
		message = "There is nothing at this address."
		if isAPI(c) {
			message = "There is no such address in the API; it is described at " + apiPrefix + "/openapi.json."
		}
	}
	if isAPI(c) {
		if err := s.writeAPIError(c, status, err, message); err != nil {
			s.cfg.Logger.ErrorContext(c.Request().Context(), "write error response", "err", err)
		}
		return
	}
	if err := s.writeError(c, status, message); err != nil {
		s.cfg.Logger.ErrorContext(c.Request().Context(), "write error response", "err", err)
	}
}

func (s *Server) writeError(c *echo.Context, status int, message string) error {
	if isHTMX(c) {
		h := c.Response().Header()
		h.Set("HX-Retarget", "#toasts")
		h.Set("HX-Reswap", "beforeend")
		// Whatever part of a page the control that asked selects (what
		// #detail holds, a row's cells), the notice is the answer.
		h.Set("HX-Reselect", "unset")
		return s.render(c, status, "", views.Toast(views.Notice{Tone: "danger", Message: message}))
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	if user := instancehub.UserFromContext(c.Request().Context()); status == http.StatusForbidden && user != nil && !user.HasRole() {
		return s.render(c, status, "", views.NoAccessPage(user))
	}
	title := titles[status]
	if title == "" {
		title = http.StatusText(status)
	}
	return s.render(c, status, "", views.ErrorPage(status, title, message))
}
