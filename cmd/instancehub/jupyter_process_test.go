package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// realJupyter fails the test unless Debian's Jupyter is installed (make
// test installs it); INSTANCEHUB_JUPYTER names it.
func realJupyter(t *testing.T) string {
	t.Helper()
	jupyter := os.Getenv("INSTANCEHUB_JUPYTER")
	if jupyter == "" {
		jupyter = "jupyter"
	}
	path, err := exec.LookPath(jupyter)
	if err != nil {
		t.Fatalf("%s: %v (make test installs Debian's jupyter-notebook)", jupyter, err)
	}
	return path
}

// person is a browser of one person on a portal served by a process:
// every *.localhost name reaches the portal, cookies are kept, and no
// redirect is followed by itself.
type person struct {
	*http.Client
	t      *testing.T
	portal string
}

func newPerson(t *testing.T, portal string) *person {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	addr := strings.TrimPrefix(portal, "http://")
	return &person{t: t, portal: portal, Client: &http.Client{Jar: jar, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, host string) (net.Conn, error) {
			if h, _, _ := net.SplitHostPort(host); strings.HasSuffix(h, ".localhost") {
				host = addr
			}
			return (&net.Dialer{}).DialContext(ctx, network, host)
		}},
	}}
}

// do sends a request as a browser's page would, a form or a JSON body
// from the page's own origin, and returns the answer with its body read.
func (p *person) do(method, u string, body any) (*http.Response, string) {
	p.t.Helper()
	var r io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		r, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		r, contentType = strings.NewReader(b), "application/json"
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,*/*")
	if body != nil {
		req.Header.Set("Content-Type", contentType)
		origin, _ := url.Parse(u)
		req.Header.Set("Origin", origin.Scheme+"://"+origin.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	res, err := p.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	return res, string(page)
}

// signIn signs in with a local account's password.
func (p *person) signIn(email, password string) {
	p.t.Helper()
	res, page := p.do("POST", p.portal+"/login", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("sign in as %s: %d %.500s", email, res.StatusCode, page)
	}
}

// create creates an instance through the create form and waits until it
// runs.
func (p *person) create(name string) {
	p.t.Helper()
	_, page := p.do("GET", p.portal+"/instances/new", nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		p.t.Fatalf("no CSRF token in the create form: %.500s", page)
	}
	res, page := p.do("POST", p.portal+"/instances", url.Values{"_csrf": {m[1]}, "name": {name},
		"region": {"eastus"}, "vm_size": {"Standard_DS1_v2"}, "type": {"cpu"}})
	if res.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("create %s: %d %.500s", name, res.StatusCode, page)
	}
	p.waitState(name, "Running")
}

// waitState waits until the instance's row shows state.
func (p *person) waitState(name, state string) {
	p.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; {
		if _, row := p.do("GET", p.portal+"/instances/"+name+"/row", nil); strings.Contains(row, ">"+state+"<") {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s is not %s", name, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// openApp opens an application from the portal as a browser does: the
// application's origin starts the sign-in (its state cookie), the portal
// answers with a ticket for that state, and the origin redeems it. It
// returns that origin once Jupyter answers there.
func (p *person) openApp(name, slug string) string {
	p.t.Helper()
	res, page := p.do("GET", p.portal+"/instances/"+name+"/apps/"+slug+"/", nil)
	start := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(start, "/_instancehub/start") {
		p.t.Fatalf("open %s of %s: %d to %q %.500s", slug, name, res.StatusCode, start, page)
	}
	res, page = p.do("GET", start, nil)
	back := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back, p.portal+"/") {
		p.t.Fatalf("start the sign-in on %s: %d to %q %.500s", start, res.StatusCode, back, page)
	}
	res, page = p.do("GET", back, nil)
	ticket := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(ticket, "/_instancehub/ticket?") {
		p.t.Fatalf("the portal's ticket for %s of %s: %d to %q %.500s", slug, name, res.StatusCode, ticket, page)
	}
	if res, page = p.do("GET", ticket, nil); res.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("redeem the ticket: %d %.500s", res.StatusCode, page)
	}
	u, _ := url.Parse(ticket)
	origin := u.Scheme + "://" + u.Host
	if res, page = p.do("GET", origin+"/api/status", nil); res.StatusCode != http.StatusOK {
		p.t.Fatalf("Jupyter's status through the gateway: %d %.500s", res.StatusCode, page)
	}
	return origin
}

// dial opens a WebSocket on the application's origin, from its own pages.
func (p *person) dial(origin, path string) *websocket.Conn {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(origin, "http", "ws", 1)+path, &websocket.DialOptions{
		HTTPClient: p.Client, HTTPHeader: http.Header{"Origin": {origin}}})
	if err != nil {
		p.t.Fatalf("dial %s%s: %v", origin, path, err)
	}
	ws.SetReadLimit(16 << 20)
	p.t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// kernel starts a Python kernel on the application's origin and returns
// its channels.
func (p *person) kernel(origin string) *websocket.Conn {
	p.t.Helper()
	res, body := p.do("POST", origin+"/api/kernels", `{"name":"python3"}`)
	var k struct{ ID string }
	if res.StatusCode != http.StatusCreated || json.Unmarshal([]byte(body), &k) != nil {
		p.t.Fatalf("start a kernel: %d %.500s", res.StatusCode, body)
	}
	return p.dial(origin, "/api/kernels/"+k.ID+"/channels")
}

// execute runs code in the kernel, in Jupyter's messaging protocol, and
// returns what it printed and the error it raised, if any.
func execute(t *testing.T, ws *websocket.Conn, code string) (stdout, errName string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id := randomHex()
	request := map[string]any{
		"header":        map[string]any{"msg_id": id, "username": "test", "session": randomHex(), "msg_type": "execute_request", "version": "5.3"},
		"parent_header": map[string]any{}, "metadata": map[string]any{}, "channel": "shell",
		"content": map[string]any{"code": code, "silent": false, "store_history": false, "user_expressions": map[string]any{}, "allow_stdin": false},
	}
	if err := wsjson.Write(ctx, ws, request); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for {
		var msg struct {
			Header struct {
				MsgType string `json:"msg_type"`
			}
			ParentHeader struct {
				MsgID string `json:"msg_id"`
			} `json:"parent_header"`
			Content struct {
				Text           string
				Ename          string
				ExecutionState string `json:"execution_state"`
			}
		}
		if err := wsjson.Read(ctx, ws, &msg); err != nil {
			t.Fatalf("read the kernel (printed so far %q): %v", out.String(), err)
		}
		if msg.ParentHeader.MsgID != id {
			continue
		}
		switch msg.Header.MsgType {
		case "stream":
			out.WriteString(msg.Content.Text)
		case "error":
			errName = msg.Content.Ename
		case "status":
			if msg.Content.ExecutionState == "idle" {
				return out.String(), errName
			}
		}
	}
}

// terminal opens a new terminal on the application's origin.
func (p *person) terminal(origin string) *websocket.Conn {
	p.t.Helper()
	res, body := p.do("POST", origin+"/api/terminals", "")
	var term struct{ Name string }
	if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &term) != nil {
		p.t.Fatalf("open a terminal: %d %.500s", res.StatusCode, body)
	}
	return p.dial(origin, "/terminals/websocket/"+term.Name)
}

// run types a command line in the terminal and returns what it printed
// up to the marker the line ends with.
func typeLine(t *testing.T, term *websocket.Conn, line string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	marker := "END" + randomHex()[:8]
	// The marker is printed in two halves, so that the echo of the typed
	// line does not count as its end.
	if err := wsjson.Write(ctx, term, []string{"stdin", line + "; echo " + marker[:4] + "''" + marker[4:] + "\r"}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for !strings.Contains(out.String(), marker) {
		var msg []any
		if err := wsjson.Read(ctx, term, &msg); err != nil {
			t.Fatalf("read the terminal (so far %q): %v", out.String(), err)
		}
		if len(msg) == 2 && msg[0] == "stdout" {
			out.WriteString(fmt.Sprint(msg[1]))
		}
	}
	return out.String()
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
