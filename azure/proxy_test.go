package azure_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
	"go.yaml.in/yaml/v3"
)

// vmProxy is the proxy the VM runs in front of RStudio, run here for real:
// Debian's nginx with the configuration cloud-init writes, moved to a
// folder of its own (its port, the upstream's address and the secret's
// folder are all that change).
type vmProxy struct {
	t         *testing.T
	nginx     string
	dir, root string
	args      []string
	cmd       *exec.Cmd
	addr      string
}

// startProxy renders inst's cloud-init through the emulator, takes the
// proxy's configuration from it and starts nginx with it in front of
// upstream.
func startProxy(t *testing.T, upstream string) *vmProxy {
	t.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if nginx, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			t.Fatal("nginx is not installed: make test installs Debian's nginx")
		}
	}
	c, emu := newCloud(t, emulator.Options{})
	inst := instance("proxy-box", "Standard_DS1_v2", false)
	if err := run(t, c, instancehub.OpCreate, inst); err != nil {
		t.Fatal(err)
	}
	raw, _ := customData(t, emu, "proxy-box")
	var cfg cloudConfig
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	files, _ := cfg.files()
	rendered := files["/etc/nginx/conf.d/instancehub-rstudio.conf"]
	if rendered == "" {
		t.Fatal("cloud-init writes no proxy configuration")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	p := &vmProxy{t: t, nginx: nginx, dir: t.TempDir(), root: t.TempDir(), addr: addr}
	moved := strings.NewReplacer(
		"listen 8787;", "listen "+addr+";",
		"http://127.0.0.1:8788;", upstream+";",
		"include /etc/instancehub/", "include "+p.root+"/etc/instancehub/",
	).Replace(rendered)
	for _, was := range []string{"listen 8787;", "http://127.0.0.1:8788;", "include /etc/instancehub/proxy-secret*.conf;"} {
		if !strings.Contains(rendered, was) {
			t.Fatalf("the proxy's configuration has no %q:\n%s", was, rendered)
		}
	}
	write(t, filepath.Join(p.dir, "instancehub-rstudio.conf"), moved)
	write(t, filepath.Join(p.dir, "nginx.conf"), fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
daemon off;
events {}
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/instancehub-rstudio.conf;
}
`, p.dir))
	p.args = []string{"-p", p.dir, "-c", filepath.Join(p.dir, "nginx.conf"), "-e", filepath.Join(p.dir, "error.log")}
	p.cmd = exec.Command(nginx, p.args...)
	if out, err := exec.Command(nginx, append(p.args, "-t")...).CombinedOutput(); err != nil {
		t.Fatalf("nginx refuses the configuration: %v\n%s", err, out)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(p.dir, "error.log"))
			t.Fatalf("nginx never listened:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// deliver runs the secret's script for secret in the proxy's folder, as
// the Custom Script extension would on the VM, then reloads nginx, as the
// script's systemctl would.
func (p *vmProxy) deliver(secret string) {
	p.t.Helper()
	bin := p.t.TempDir()
	for _, tool := range []string{"chown", "systemctl"} {
		write(p.t, filepath.Join(bin, tool), "#!/bin/sh\nexit 0\n")
		if err := os.Chmod(filepath.Join(bin, tool), 0o755); err != nil {
			p.t.Fatal(err)
		}
	}
	script, err := azure.SecretScript(secret)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), "INSTANCEHUB_ROOT="+p.root, "PATH="+bin+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		p.t.Fatalf("%v: %s", err, out)
	}
	if out, err := exec.Command(p.nginx, append(p.args, "-s", "reload")...).CombinedOutput(); err != nil {
		p.t.Fatalf("reload: %v: %s", err, out)
	}
}

// get asks the proxy for path with auth as the Authorization header ("" for none).
func (p *vmProxy) get(path, auth string) (int, string) {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// waitFor waits until auth opens the proxy (a reload takes effect when
// nginx's new workers have started).
func (p *vmProxy) waitFor(auth string) {
	p.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if code, _ := p.get("/", auth); code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the proxy never admitted %q", auth)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProxyChecksTheSecret runs the proxy the VM puts in front of RStudio,
// with the configuration cloud-init renders and the secret the extension's
// script writes, in front of a stub RStudio: nothing passes before the
// secret arrives, then only the gateway's header, which RStudio never sees;
// WebSockets and large uploads pass; a Start's new secret takes over from
// the old at the reload the script asks for.
func TestProxyChecksTheSecret(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	rstudio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization")+" host="+r.Host)
		mu.Unlock()
		if r.URL.Path == "/events" {
			conn, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer conn.CloseNow()
			typ, msg, err := conn.Read(r.Context())
			if err == nil {
				conn.Write(r.Context(), typ, append([]byte("echo "), msg...))
			}
			return
		}
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "rstudio %s %d", r.URL.Path, n)
	}))
	defer rstudio.Close()
	p := startProxy(t, rstudio.URL)
	const one, two = "first-secret_0123456789abcdefghijklmnopqrstuv", "second-secret_0123456789abcdefghijklmnopqrstu"

	if code, _ := p.get("/", "token "+one); code != http.StatusUnauthorized {
		t.Errorf("before any secret: %d, want 401", code)
	}
	p.deliver(one)
	p.waitFor("token " + one)
	for _, auth := range []string{"", "token wrong", "Token " + one, one, "token " + one + "x", "token "} {
		if code, _ := p.get("/", auth); code != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401", auth, code)
		}
	}
	mu.Lock()
	seen = nil
	mu.Unlock()
	if code, body := p.get("/rstudio/session", "token "+one); code != http.StatusOK || body != "rstudio /rstudio/session 0" {
		t.Errorf("with the secret: %d %q", code, body)
	}
	mu.Lock()
	if len(seen) != 1 || seen[0] != "GET /rstudio/session auth= host="+p.addr {
		t.Errorf("RStudio saw %q, want the request without the secret, for the host asked", seen)
	}
	mu.Unlock()

	upload := bytes.Repeat([]byte("x"), 8<<20)
	req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/upload", bytes.NewReader(upload))
	req.Header.Set("Authorization", "token "+one)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("an 8 MB upload: %v %v", res, err)
	} else {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != fmt.Sprintf("rstudio /upload %d", len(upload)) {
			t.Errorf("upload reached RStudio as %q", body)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, res, err := websocket.Dial(ctx, "ws://"+p.addr+"/events", nil); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a WebSocket without the secret: %v", err)
	}
	conn, _, err := websocket.Dial(ctx, "ws://"+p.addr+"/events", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"token " + one}}})
	if err != nil {
		t.Fatalf("a WebSocket with the secret: %v", err)
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := conn.Read(ctx); err != nil || string(msg) != "echo hello" {
		t.Errorf("WebSocket answer %q, %v", msg, err)
	}
	conn.Close(websocket.StatusNormalClosure, "")

	p.deliver(two) // a Start's new secret
	p.waitFor("token " + two)
	if code, _ := p.get("/", "token "+one); code != http.StatusUnauthorized {
		t.Errorf("the old secret after a new one: %d, want 401", code)
	}
}
