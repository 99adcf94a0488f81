package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/instancehub/instancehub"
	"github.com/labstack/echo/v5"
)

// The JSON API lives under apiPrefix. It is a second door into the same
// service as the pages: every rule and permission is the service's. Its
// callers present a personal access token in the Authorization header and
// nothing else: the portal's cookie is not read there, so a page on another
// site cannot make a signed-in browser call it, and it needs no CSRF token.
const apiPrefix = "/api/v1"

// isAPI reports whether the request is for the JSON API.
func isAPI(c *echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/api" || strings.HasPrefix(p, "/api/")
}

// requireToken signs an API request in with its bearer token.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		scheme, token, _ := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			message := "Send a personal access token in the header Authorization: Bearer <token>. Create one on the Tokens page."
			if s.readCookie(c, sessionCookie) != "" {
				message = "The API does not accept the portal's session cookie: send a personal access token in the header Authorization: Bearer <token>."
			}
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="instancehub"`)
			return instancehub.Errorf(instancehub.EUNAUTHORIZED, "%s", message)
		}
		user, err := s.sessions.UserByToken(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if instancehub.ErrorCode(err) == instancehub.EUNAUTHORIZED {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="instancehub", error="invalid_token"`)
			}
			return err
		}
		c.SetRequest(r.WithContext(instancehub.NewContextWithUser(r.Context(), user)))
		return next(c)
	}
}

// apiError is an error as the API sends it, in Azure Resource Manager's
// shape: a code, a message, and a detail per field of a refused request.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Target  string         `json:"target,omitempty"`
	Details []apiErrorBody `json:"details,omitempty"`
	// CloudCode is Azure's own code, when Azure refused.
	CloudCode string `json:"cloudCode,omitempty"`
}

// writeAPIError answers an API request's error as JSON with the status the
// pages use for the same code.
func (s *Server) writeAPIError(c *echo.Context, status int, err error, message string) error {
	code := instancehub.ErrorCode(err)
	var he *echo.HTTPError
	if errors.As(err, &he) || echo.StatusCode(err) != 0 || code == "" {
		code = codeOfStatus(status)
	}
	body := apiErrorBody{Code: code, Message: message, CloudCode: instancehub.CloudErrorCode(err)}
	for _, field := range slices.Sorted(maps.Keys(instancehub.ErrorFields(err))) {
		body.Details = append(body.Details, apiErrorBody{Code: instancehub.EINVALID, Target: field, Message: instancehub.ErrorFields(err)[field]})
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	out, err := marshalJSON(apiError{Error: body})
	if err != nil {
		return err
	}
	return blob(c, status, echo.MIMEApplicationJSON, out)
}

// codeOfStatus is the error code of an answer that did not come from the
// service (no route, a body too large).
func codeOfStatus(status int) string {
	for code, st := range statuses {
		if st == status && code != instancehub.EQUOTA {
			return code
		}
	}
	switch status {
	case http.StatusMethodNotAllowed, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return instancehub.EINVALID
	}
	return instancehub.EINTERNAL
}

// maxAPIBody bounds what an API request may send, as a form is bounded.
const maxAPIBody = maxFormBody

// readJSON decodes a request's JSON body into v, refusing unknown fields,
// trailing data and any other content type.
func readJSON(c *echo.Context, v any) error {
	r := c.Request()
	if ct := r.Header.Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return instancehub.Errorf(instancehub.EINVALID, "Send the request body as JSON, with Content-Type: application/json.")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxAPIBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return instancehub.Errorf(instancehub.EINVALID, "The request body is not the JSON expected: %s.", instancehub.Clip(err.Error(), 200))
	}
	if dec.More() {
		return instancehub.Errorf(instancehub.EINVALID, "The request body holds more than one JSON value.")
	}
	return nil
}

// pageParam reads a page number from 1, refusing anything else.
func pageParam(c *echo.Context) (int, error) {
	v := c.QueryParam("page")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, instancehub.FieldError("page", "The page is a whole number from 1.")
	}
	return n, nil
}

// nextLink is the address of the next page of a list, "" on the last.
func (s *Server) nextLink(c *echo.Context, page, pages int) string {
	if page >= pages {
		return ""
	}
	q := c.Request().URL.Query()
	q.Set("page", strconv.Itoa(page+1))
	return s.absolute(c, c.Request().URL.Path+"?"+q.Encode())
}

// absolute is the full address of path on the portal, as the client
// reached it: https over TLS or behind a proxy that terminates it.
func (s *Server) absolute(c *echo.Context, path string) string {
	scheme := "http"
	if s.secure(c) {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: c.Request().Host}).String() + path
}

// sendJSON answers v as JSON, and keeps the answer when keptAPI asked.
func (s *Server) sendJSON(c *echo.Context, status int, v any) error {
	body, err := marshalJSON(v)
	if err != nil {
		return err
	}
	return s.keepAs(c, status, echo.MIMEApplicationJSON, body, false)
}

// marshalJSON writes v as the API's JSON: a line, with < > & as they are
// (answers are data, never HTML: nosniff and a CSP that runs nothing).
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
