package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// hubToken is the benchmark's JupyterHub service token.
const hubToken = "instancehub-bench-0123456789abcdef0123456789abcdef"

// hubConfig runs JupyterHub with the dummy authenticator, a service whose
// token may read and add users, and no proxy: the benchmark asks the hub's
// own API directly, as it asks the portal's (Debian's
// configurable-http-proxy does not start with a Node other than Debian's,
// and a proxy would stand only in JupyterHub's way).
const hubConfig = `from jupyterhub.proxy import Proxy

class NoProxy(Proxy):
    should_start = False
    async def add_route(self, routespec, target, data): pass
    async def delete_route(self, routespec): pass
    async def get_all_routes(self): return {}

c.JupyterHub.proxy_class = NoProxy
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.spawner_class = "simple"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = %d
c.JupyterHub.db_url = "sqlite:///jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "jupyterhub_cookie_secret"
c.JupyterHub.services = [{"name": "bench", "api_token": %q}]
c.JupyterHub.load_roles = [{"name": "bench", "scopes": ["admin:users"], "services": ["bench"]}]
`

// runAPI compares the portal's paged instance list with JupyterHub's paged
// users API (make bench-api): the portal seeded with n instances through
// its form, JupyterHub with n users through its API, and each driven in
// turn, three times, with a new address at each request so that every
// answer is built anew.
func runAPI(bin, wrk, hub string, n, threads, conns int, duration time.Duration) error {
	if _, err := exec.LookPath(wrk); err != nil {
		return fmt.Errorf("%s is not installed (make bench-api installs Debian's wrk): %w", wrk, err)
	}
	dir, err := os.MkdirTemp("", "instancehub-bench-api-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	portal, err := startPortal(bin, dir, n)
	if err != nil {
		return err
	}
	defer portal.stop()
	c, err := signIn(portal.base)
	if err != nil {
		return err
	}
	if err := seed(c, portal.base, n); err != nil {
		return err
	}
	fmt.Printf("signing in %d people (Contributors), each with a token\n", users)
	people, err := signInUsers(bin, dir, portal.base, users)
	if err != nil {
		return err
	}
	jh, err := startHub(hub, filepath.Join(dir, "jupyterhub"))
	if err != nil {
		return err
	}
	defer stopProcess(jh.cmd)
	start := time.Now()
	if err := seedHub(jh.base, n); err != nil {
		return err
	}
	fmt.Printf("%d JupyterHub users added through its API in %s\n\n", n, time.Since(start).Round(time.Millisecond))

	hubPeople := &sessions{cookies: []string{"none=1"}, tokens: []string{hubToken}}
	fmt.Printf("wrk -t%d -c%d -d%s, three runs a row (median, min-max), the two servers in turn; a new address each request\n", threads, conns, duration)
	fmt.Printf("(render: nothing kept serves it); the portal's requests spread over %d tokens; every answer's status, encoding and size checked\n", users)
	fmt.Printf("%-50s %-11s %7s %-21s %-17s %8s  %s\n", "row", "asked>sent", "bytes", "req/s", "p99 ms", "portal/hub", "load average (1 min) at each run")
	for _, enc := range []string{"identity", browserEncoding} {
		portalRow := row{name: "portal GET /api/v1/computes?page=3", path: "/api/v1/computes?page=3", api: true, render: true, encoding: enc}
		hubRow := row{name: "JupyterHub GET /hub/api/users?offset=100&limit=50", path: "/hub/api/users?offset=100&limit=50", api: true, render: true, encoding: enc}
		if err := compare(wrk, portal.base, people, portalRow, jh.base, hubPeople, hubRow, threads, conns, duration); err != nil {
			return err
		}
	}
	return nil
}

// compare drives the portal's row and the hub's in turn, three times, and
// prints both with the ratio of their median req/s.
func compare(wrk, base string, people *sessions, r row, hubBase string, hubPeople *sessions, h row, threads, conns int, d time.Duration) error {
	type side struct {
		base    string
		s       *sessions
		r       row
		first   sample
		script  string
		results []result
	}
	sides := []*side{{base: base, s: people, r: r}, {base: hubBase, s: hubPeople, r: h}}
	var loads []string
	for _, x := range sides {
		first, err := fetch(x.base, x.s, x.r, 0, x.r.path)
		if err != nil {
			return fmt.Errorf("%s: %w", x.r.name, err)
		}
		lo, hi := len(first.body), len(first.body)
		for i := range len(x.s.tokens) {
			a, err := fetch(x.base, x.s, x.r, i, renderPath(x.r.path, fmt.Sprintf("s%d-%d", i, 1000000+i)))
			if err != nil {
				return fmt.Errorf("%s: %w", x.r.name, err)
			}
			lo, hi = min(lo, len(a.body)), max(hi, len(a.body))
		}
		x.first = first
		if x.script, err = writeScript(x.s, x.r, lo-48, hi+48, first.encoding); err != nil {
			return err
		}
		defer os.Remove(x.script)
	}
	for range 3 {
		loads = append(loads, loadAverage())
		for _, x := range sides {
			res, err := loadScript(wrk, x.base, x.script, threads, conns, d)
			if err != nil {
				return fmt.Errorf("%s: %w", x.r.name, err)
			}
			x.results = append(x.results, res)
		}
	}
	ratio := medianOf(sides[0].results).rps / medianOf(sides[1].results).rps
	for i, x := range sides {
		enc := "id"
		if x.r.encoding != "identity" {
			enc = "gz,br"
		}
		if x.first.encoding == "" {
			enc += ">id"
		} else {
			enc += ">" + x.first.encoding
		}
		tail := ""
		if i == 0 {
			tail = fmt.Sprintf("%7.1fx   %s", ratio, strings.Join(loads, " "))
		}
		fmt.Printf("%-50s %-11s %7d %s  %s\n", x.r.name, enc, len(x.first.body), spread(x.results), tail)
	}
	return nil
}

type hub struct {
	cmd  *exec.Cmd
	base string
}

// startHub runs JupyterHub in dir and waits until its API answers.
func startHub(bin, dir string) (*hub, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "jupyterhub_config.py")
	if err := os.WriteFile(config, fmt.Appendf(nil, hubConfig, port, hubToken), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-f", config)
	cmd.Dir = dir
	log, err := os.Create(filepath.Join(dir, "jupyterhub.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	h := &hub{cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port)}
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if res, err := hubDo(h.base, http.MethodGet, "/hub/api/users?limit=1", nil); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return h, nil
			}
		}
		if time.Since(start) > 60*time.Second {
			stopProcess(cmd)
			b, _ := os.ReadFile(log.Name())
			return nil, fmt.Errorf("JupyterHub did not answer within 60 s:\n%s", b)
		}
	}
}

// seedHub adds n users through JupyterHub's API, a hundred a request.
func seedHub(base string, n int) error {
	for from := 1; from <= n; from += 100 {
		var names []string
		for i := from; i < from+100 && i <= n; i++ {
			names = append(names, fmt.Sprintf("load%05d", i))
		}
		body, _ := json.Marshal(map[string][]string{"usernames": names})
		res, err := hubDo(base, http.MethodPost, "/hub/api/users", body)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			return fmt.Errorf("JupyterHub: add users: %s\n%s", res.Status, b)
		}
	}
	return nil
}

func hubDo(base, method, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+hubToken)
	return http.DefaultClient.Do(req)
}
