// Package client calls a portal's JSON API (/api/v1) with a personal access
// token, as instancehub compute does: the instances (computes, in the
// names of Azure Machine Learning's API) and their operations.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client is one portal's API, called as the holder of one token.
type Client struct {
	url, token string
	http       *http.Client
}

// New returns a client of the portal at url (http://host:port) that sends
// token.
func New(url, token string) *Client {
	return &Client{url: url, token: token, http: &http.Client{Timeout: time.Minute}}
}

// maxAnswer bounds what is read of one answer.
const maxAnswer = 16 << 20

// Error is the portal's refusal, as its JSON error says it.
type Error struct {
	Status  int // the HTTP status
	Code    string
	Message string // "" when the answer said nothing more than its status
	Details []Detail

	statusLine string // "404 Not Found", as the answer has it
}

// Detail is what the portal says of one field of a refused request.
type Detail struct{ Target, Message string }

// Error is the message, followed by each field's own.
func (e *Error) Error() string {
	if e.Message == "" {
		return "the portal answered " + e.statusLine
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for _, d := range e.Details {
		if d.Message != e.Message {
			fmt.Fprintf(&b, "\n  %s: %s", d.Target, d.Message)
		}
	}
	return b.String()
}

// AddressError is a portal's address no request can be sent to.
type AddressError struct{ Err error }

func (e *AddressError) Error() string { return e.Err.Error() }

func (e *AddressError) Unwrap() error { return e.Err }

// Compute is the part of an instance's JSON this client reads: what a
// table of instances shows.
type Compute struct {
	Name       string
	Location   string
	Properties struct {
		Description string
		CreatedOn   time.Time
		Properties  struct {
			VMSize                string
			State                 string
			ConnectivityEndpoints struct{ PublicIPAddress, PrivateIPAddress string }
			SSHSettings           struct {
				SSHPublicAccess, AdminUserName string
				SSHPort                        int
			}
			Applications  []struct{ DisplayName, EndpointURI string }
			CreatedBy     struct{ UserName string }
			AssignedUser  *struct{ UserName string }
			LastOperation *struct {
				OperationName, OperationStatus, OperationTrigger string
				OperationTime                                    time.Time
			}
			IdleTimeBeforeShutdown string
			Errors                 []struct{ Code, Message string }
		}
	}
}

// Operation is an operation as the API answers it, under the API's names
// (the OpenAPI document's Operation), so that it prints as the API wrote it.
type Operation struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Status    string     `json:"status"`
	Compute   string     `json:"compute"`
	Trigger   string     `json:"trigger"`
	Rule      string     `json:"rule,omitempty"`
	UserName  string     `json:"userName,omitempty"`
	Step      string     `json:"step,omitempty"`
	StartTime time.Time  `json:"startTime"`
	EndTime   *time.Time `json:"endTime,omitempty"`
	Error     *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`

	raw json.RawMessage // the JSON it was read from
}

// plainOperation is an Operation without its methods.
type plainOperation Operation

// UnmarshalJSON reads an operation and keeps its JSON, which MarshalJSON
// gives back: what the portal said, keys this client does not read too.
func (op *Operation) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, (*plainOperation)(op)); err != nil {
		return err
	}
	op.raw = append(json.RawMessage(nil), data...)
	return nil
}

// MarshalJSON writes the operation as the portal answered it, or, for one
// not read from an answer, under the API's names.
func (op Operation) MarshalJSON() ([]byte, error) {
	if op.raw != nil {
		return op.raw, nil
	}
	return json.Marshal(plainOperation(op))
}

// Accepted is an operation the portal began, and where to follow it.
type Accepted struct {
	Operation Operation
	Location  string // the operation's URL
}

// Computes lists the instances, every page of them: those whose name holds
// search, only the caller's own when mine.
func (c *Client) Computes(ctx context.Context, search string, mine bool) ([]json.RawMessage, error) {
	q := url.Values{}
	if search != "" {
		q.Set("search", search)
	}
	if mine {
		q.Set("mine", "true")
	}
	next := "/computes?" + q.Encode()
	all := []json.RawMessage{} // none is [], as the API answers it
	for next != "" {
		var page struct {
			Value    []json.RawMessage
			NextLink string
		}
		if _, _, err := c.do(ctx, "GET", next, nil, "", "", &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		next = page.NextLink
	}
	return all, nil
}

// Compute returns the instance name's JSON.
func (c *Client) Compute(ctx context.Context, name string) (json.RawMessage, error) {
	var raw json.RawMessage
	if _, _, err := c.do(ctx, "GET", computePath(name), nil, "", "", &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// ComputeYAML returns the instance name as an az ml compute-instance file.
func (c *Client) ComputeYAML(ctx context.Context, name string) ([]byte, error) {
	_, data, err := c.do(ctx, "GET", computePath(name), nil, "", "application/yaml", nil)
	return data, err
}

// Create asks for an instance: body is an az ml compute-instance file, its
// contentType application/yaml or application/json. A create whose answer
// was lost is sent again once, with the same Idempotency-Key, so that it
// never makes a second instance.
func (c *Client) Create(ctx context.Context, body []byte, contentType string) (*Accepted, error) {
	key := newIdempotencyKey()
	a, resp, err := c.accept(ctx, "POST", "/computes", body, contentType, "Idempotency-Key", key)
	if resp == nil && err != nil && ctx.Err() == nil {
		a, _, err = c.accept(ctx, "POST", "/computes", body, contentType, "Idempotency-Key", key)
	}
	return a, err
}

// Apply sends a compute-instance file to the API's apply: when an instance
// of its name exists as the file describes, existing is its JSON and
// nothing began; otherwise the create the file asks for was accepted. A
// file that differs from the instance of its name is refused (ECONFLICT).
// An apply whose answer was lost is sent again once, as a create is.
func (c *Client) Apply(ctx context.Context, body []byte, contentType string) (a *Accepted, existing json.RawMessage, err error) {
	key := newIdempotencyKey()
	send := func() (*http.Response, []byte, error) {
		return c.do(ctx, "POST", "/computes:apply", bytes.NewReader(body), contentType, "", nil, "Idempotency-Key", key)
	}
	resp, data, err := send()
	if resp == nil && err != nil && ctx.Err() == nil {
		resp, data, err = send()
	}
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode == http.StatusAccepted {
		a = &Accepted{Location: resp.Header.Get("Location")}
		if err := json.Unmarshal(data, &a.Operation); err != nil {
			return nil, nil, fmt.Errorf("the portal's answer is not the JSON expected: %w", err)
		}
		return a, nil, nil
	}
	return nil, json.RawMessage(data), nil
}

// Act starts, stops or restarts (verb) the instance name.
func (c *Client) Act(ctx context.Context, name, verb string) (*Accepted, error) {
	a, _, err := c.accept(ctx, "POST", computePath(name)+"/"+verb, nil, "")
	return a, err
}

// Delete deletes the instance name.
func (c *Client) Delete(ctx context.Context, name string) (*Accepted, error) {
	a, _, err := c.accept(ctx, "DELETE", computePath(name), nil, "")
	return a, err
}

// Operation returns the operation at location, an Accepted's.
func (c *Client) Operation(ctx context.Context, location string) (*Operation, error) {
	var op Operation
	if _, _, err := c.do(ctx, "GET", location, nil, "", "", &op); err != nil {
		return nil, err
	}
	return &op, nil
}

// Operations lists the operations of the instance name, newest first.
func (c *Client) Operations(ctx context.Context, name string) ([]Operation, error) {
	var list struct{ Value []Operation }
	if _, _, err := c.do(ctx, "GET", computePath(name)+"/operations", nil, "", "", &list); err != nil {
		return nil, err
	}
	return list.Value, nil
}

func computePath(name string) string { return "/computes/" + url.PathEscape(name) }

// accept sends a request that begins an operation. Its answer is nil when
// the portal could not be reached.
func (c *Client) accept(ctx context.Context, method, path string, body []byte, contentType string, headers ...string) (*Accepted, *http.Response, error) {
	var a Accepted
	resp, _, err := c.do(ctx, method, path, bytes.NewReader(body), contentType, "", &a.Operation, headers...)
	if err != nil {
		return nil, resp, err
	}
	a.Location = resp.Header.Get("Location")
	return &a, resp, nil
}

// do calls the API and decodes a successful answer into out (unless nil);
// the portal's refusal is an *Error. The answer is nil when the portal
// could not be reached.
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType, accept string, out any, headers ...string) (*http.Response, []byte, error) {
	if u, err := url.Parse(path); err == nil && u.IsAbs() {
		// A link the portal gave (the next page): only its path and query
		// are taken, sent to the client's address, so that the token never
		// goes to another address or over plain HTTP because of what a
		// proxy in front said.
		path = u.RequestURI()
	}
	if !strings.HasPrefix(path, "/api/") {
		path = "/api/v1" + path
	}
	target := strings.TrimRight(c.url, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, nil, &AddressError{Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("the portal at %s did not answer: %w", c.url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, nil, fmt.Errorf("read the portal's answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var refusal struct {
			Error struct {
				Code, Message string
				Details       []Detail
			}
		}
		e := &Error{Status: resp.StatusCode, statusLine: resp.Status}
		if json.Unmarshal(data, &refusal) == nil {
			e.Code, e.Message, e.Details = refusal.Error.Code, refusal.Error.Message, refusal.Error.Details
		}
		return resp, data, e
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp, data, fmt.Errorf("the portal's answer is not the JSON expected: %w", err)
		}
	}
	return resp, data, nil
}

// newIdempotencyKey makes a create's Idempotency-Key: 128 random bits.
func newIdempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
