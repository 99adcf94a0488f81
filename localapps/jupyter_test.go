package localapps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

func TestJupyterServesTheInstanceWithItsSecretOnly(t *testing.T) {
	s := newServers(t, realJupyter(t), "", 0)
	inst := running("vm1", 1)
	base := open(t, s, inst, jupyterApp)
	if !strings.HasSuffix(base.Hostname(), ".sandbox.invalid") || base.Path != "/" {
		t.Fatalf("base %s, want the sandbox's name at the root path", base)
	}
	// The Terminal is the same server, whose terminal page loads xterm.js
	// 3.8's browser build instead of Debian's bundle.
	if term, _, err := s.Upstream(context.Background(), inst, terminalApp); err != nil || term.String() != base.String() {
		t.Fatalf("terminal: %v at %v, want the Jupyter server %s", err, term, base)
	}
	t.Run("the terminal page loads xterm.js's browser build", func(t *testing.T) {
		code, body := call(t, s, base, inst.AppSecret, http.MethodGet, "static/terminal/js/main.min.js", "")
		if code != http.StatusOK || !strings.Contains(body, `"xterm": "components/instancehub-xterm/xterm"`) {
			t.Fatalf("terminal script: %d %.200s", code, body)
		}
		code, body = call(t, s, base, inst.AppSecret, http.MethodGet, "static/components/instancehub-xterm/xterm.js", "")
		if code != http.StatusOK || !strings.Contains(body[:300], "define.amd") || strings.HasPrefix(body, "Object.defineProperty(exports") {
			t.Fatalf("xterm.js: %d %.200s, want the UMD build", code, body)
		}
	})

	t.Run("no page shows the secret", func(t *testing.T) {
		for _, path := range []string{"tree", "notebooks/x.ipynb", "terminals/1"} {
			code, body := call(t, s, base, inst.AppSecret, http.MethodGet, path, "")
			if code >= 500 || strings.Contains(body, inst.AppSecret) {
				t.Fatalf("GET /%s: %d, and the page holds the secret: %v", path, code, strings.Contains(body, inst.AppSecret))
			}
		}
	})
	t.Run("status needs the secret", func(t *testing.T) {
		if code, _ := call(t, s, base, "", http.MethodGet, "api/status", ""); code != http.StatusForbidden {
			t.Fatalf("without the token: %d, want 403", code)
		}
		if code, _ := call(t, s, base, "wrong", http.MethodGet, "api/status", ""); code != http.StatusForbidden {
			t.Fatalf("with another token: %d, want 403", code)
		}
		code, body := call(t, s, base, inst.AppSecret, http.MethodGet, "api/status", "")
		var status struct{ Kernels int }
		decode(t, body, &status)
		if code != http.StatusOK {
			t.Fatalf("with the token: %d %s", code, body)
		}
	})

	t.Run("a Python kernel prints 42", func(t *testing.T) {
		code, body := call(t, s, base, inst.AppSecret, http.MethodPost, "api/kernels", `{"name":"python3"}`)
		var kernel struct{ ID string }
		decode(t, body, &kernel)
		if code != http.StatusCreated || kernel.ID == "" {
			t.Fatalf("start kernel: %d %s", code, body)
		}
		channels := "api/kernels/" + kernel.ID + "/channels"
		// The gateway sends Jupyter's own origin. (Jupyter 6.4 skips its
		// Origin check for a request with the token, so the gateway alone
		// refuses foreign origins; should a later Jupyter check, this passes.)
		ws, err := dialFrom(t, s, base, inst.AppSecret, channels, "http://"+base.Host)
		if err != nil {
			t.Fatalf("dial with Jupyter's own origin: %v", err)
		}
		if got := execute(t, ws, "print(6*7)"); got != "42\n" {
			t.Fatalf("stdout %q, want 42", got)
		}
	})

	t.Run("a terminal opens as azureuser in the home and runs a command", func(t *testing.T) {
		code, body := call(t, s, base, inst.AppSecret, http.MethodPost, "api/terminals", "")
		var term struct{ Name string }
		decode(t, body, &term)
		if code != http.StatusOK || term.Name == "" {
			t.Fatalf("create terminal: %d %s", code, body)
		}
		ws := dial(t, s, base, inst.AppSecret, "terminals/websocket/"+term.Name)
		if out := typeLine(t, ws, "echo $((6*7))x; whoami; pwd"); !strings.Contains(out, "42x\r\nazureuser\r\n/home/azureuser\r\n") {
			t.Fatalf("terminal printed %q, want 42x, azureuser and /home/azureuser", out)
		}
	})
}

// typeLine types a command line in the terminal and returns what it
// printed, up to a marker the line ends with.
func typeLine(t *testing.T, ws *websocket.Conn, line string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	marker := "END" + randomHex()[:8]
	// The marker is printed in two halves, so that the terminal's echo of
	// the typed line does not count as its end.
	if err := wsjson.Write(ctx, ws, []string{"stdin", line + "; echo " + marker[:5] + "''" + marker[5:] + "\r"}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for !strings.Contains(out.String(), marker+"\r\n") {
		var msg []any
		if err := wsjson.Read(ctx, ws, &msg); err != nil {
			t.Fatalf("read terminal (so far %q): %v", out.String(), err)
		}
		if len(msg) == 2 && msg[0] == "stdout" {
			out.WriteString(msg[1].(string))
		}
	}
	// What the line printed: after its echo, which ends with the marker's
	// second half, and before the marker.
	printed, _, _ := strings.Cut(out.String(), marker+"\r\n")
	if _, after, ok := strings.Cut(printed, marker[5:]+"\r\n"); ok {
		printed = after
	}
	return printed
}

// dial opens a WebSocket to Jupyter with the token, closed when the test
// ends.
func dial(t *testing.T, s *Servers, base *url.URL, secret, path string) *websocket.Conn {
	t.Helper()
	ws, err := dialFrom(t, s, base, secret, path, "")
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	return ws
}

// dialFrom is dial with the Origin header a browser on origin sends, none
// when origin is empty.
func dialFrom(t *testing.T, s *Servers, base *url.URL, secret, path, origin string) (*websocket.Conn, error) {
	t.Helper()
	u := base.JoinPath(path)
	u.Scheme = "ws"
	header := http.Header{"Authorization": {"token " + secret}}
	if origin != "" {
		header.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{HTTPHeader: header, HTTPClient: client(s)})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	return ws, nil
}

// execute runs code in the kernel over its channels socket, in Jupyter's
// messaging protocol, and returns what it printed.
func execute(t *testing.T, ws *websocket.Conn, code string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id := randomHex()
	request := map[string]any{
		"header":        map[string]any{"msg_id": id, "username": "test", "session": randomHex(), "msg_type": "execute_request", "version": "5.3"},
		"parent_header": map[string]any{},
		"metadata":      map[string]any{},
		"content":       map[string]any{"code": code, "silent": false, "store_history": false, "user_expressions": map[string]any{}, "allow_stdin": false},
		"channel":       "shell",
	}
	if err := wsjson.Write(ctx, ws, request); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for {
		var msg struct {
			Channel string
			Header  struct {
				MsgType string `json:"msg_type"`
			}
			ParentHeader struct {
				MsgID string `json:"msg_id"`
			} `json:"parent_header"`
			Content json.RawMessage
		}
		if err := wsjson.Read(ctx, ws, &msg); err != nil {
			t.Fatalf("read kernel (printed so far %q): %v", out.String(), err)
		}
		if msg.ParentHeader.MsgID != id {
			continue
		}
		var content struct {
			Text           string
			ExecutionState string `json:"execution_state"`
		}
		_ = json.Unmarshal(msg.Content, &content)
		switch msg.Header.MsgType {
		case "stream":
			out.WriteString(content.Text)
		case "status":
			if content.ExecutionState == "idle" {
				return out.String()
			}
		}
	}
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
