// Command benchhttp is the portal's load benchmark (make bench-http). It
// starts the real server on a temporary data directory with the emulator at
// latency 0, seeds N instances through the create form one after another
// (timing each create), signs 100 people in (each with a session and an API
// token), and then drives each page as browsers ask for it (rows.go): from
// the page cache (one address) and rendered (a new address each request),
// identity and compressed, with the requests spread over the sessions, each
// answer's status, encoding and size checked, three runs a row, each beside
// a static Go server sending the same bytes with the same headers, driven by
// wrk with the same settings. It prints the median req/s and p99 with their
// min-max, the portal's share of the static ceiling, the load average at
// each run, and the processes' memory.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const password = "bench-password-1"

// regions are the emulator's, over which the instances are spread.
var regions = []string{"eastus", "westeurope", "southeastasia"}

func main() {
	bin := flag.String("bin", "bin/instancehub", "the portal's binary")
	n := flag.Int("n", 1000, "how many instances to seed")
	duration := flag.Duration("duration", 3*time.Second, "how long wrk drives each server, each of a row's three runs")
	conns := flag.Int("conns", 16, "wrk's connections")
	threads := flag.Int("threads", 2, "wrk's threads")
	wrk := flag.String("wrk", "wrk", "the wrk command")
	keep := flag.Bool("keep", false, "keep the data directory")
	pattern := flag.String("only", "", "drive only the pages whose name matches this regular expression; with -scale, also the idle memory (\"idle\") and the Refresh (\"refresh\")")
	flag.StringVar(&profileDir, "profile", "", "write the portal's CPU profile of each row's second run into this folder (one file a row), read with go tool pprof; with -scale, also what the idle portal holds at its last idle reading (idle-N.heap.pprof, .vars.json, .goroutines.txt, .smaps)")
	flag.BoolVar(&traceRuns, "trace", false, "with -profile: an execution trace instead of a CPU profile (one .trace file a row), read with go tool trace, whose -pprof=sync, net and sched show what the requests waited for")
	flag.BoolVar(&sameCPU, "same-cpu", false, "after each row, drive a static server that spends the portal's CPU a request (its median) before sending the same bytes: the p99 any server of that cost gets here")
	flag.BoolVar(&separate, "separate-emulator", false, "run the emulator as a process of its own (instancehub emulator), to measure the portal alone")
	replicas := flag.Bool("replicas", false, "compare one portal on SQLite with one, two and three replicas on PostgreSQL instead (n creates)")
	jupyterhub := flag.String("jupyterhub", "", "compare the API's paged instance list with this JupyterHub's paged users API instead (n of each)")
	scaleDir := flag.String("scale-data", "", "with -scale: the data directory, kept; one already seeded is measured again without seeding")
	scale := flag.Int("scale", 0, "seed this many instances through the API instead, and measure the list's renders, a Refresh, memory and creates at that scale")
	more := flag.Int("scale-creates", 0, "with -scale-data seeded before: create this many more at the end, as a seeding creates 1,000 (the directory keeps them)")
	flag.Parse()
	only = regexp.MustCompile(*pattern)
	if *scale > 0 {
		if err := runScale(*bin, *wrk, *scale, *threads, *conns, *duration, *scaleDir, *more); err != nil {
			fmt.Fprintln(os.Stderr, "bench-scale:", err)
			os.Exit(1)
		}
		return
	}
	if *jupyterhub != "" {
		if err := runAPI(*bin, *wrk, *jupyterhub, *n, *threads, *conns, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "bench-api:", err)
			os.Exit(1)
		}
		return
	}
	if *replicas {
		if err := runReplicas(*bin, *wrk, *n, *threads, *conns, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "bench-http:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*bin, *wrk, *n, *threads, *conns, *duration, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench-http:", err)
		os.Exit(1)
	}
}

func run(bin, wrk string, n, threads, conns int, duration time.Duration, keep bool) error {
	if _, err := exec.LookPath(wrk); err != nil {
		return fmt.Errorf("%s is not installed (make bench-http installs Debian's wrk): %w", wrk, err)
	}
	dir, err := os.MkdirTemp("", "instancehub-bench-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("data directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	var extra []string
	var emu *exec.Cmd
	if separate {
		var err error
		if emu, extra, err = startEmulator(bin, filepath.Join(dir, "emulator"), n, 0); err != nil {
			return err
		}
		defer stopProcess(emu)
	}
	extra, err = withDebugAddr(extra)
	if err != nil {
		return err
	}
	portal, err := startPortal(bin, dir, n, extra...)
	if err != nil {
		return err
	}
	defer portal.stop()
	portalPID = portal.cmd.Process.Pid
	fmt.Printf("cold start: %s to the first 200\n", portal.coldStart.Round(time.Millisecond))
	time.Sleep(time.Second) // the start-up garbage goes back to the system once it serves
	fmt.Printf("idle portal: %.1f MB RSS\n", rssMB(portal.cmd.Process.Pid))
	memory := func(when string) {
		if emu == nil {
			fmt.Printf("%s: portal (with the emulator) %.1f MB RSS\n", when, rssMB(portal.cmd.Process.Pid))
			return
		}
		fmt.Printf("%s: portal %.1f MB RSS, emulator process %.1f MB RSS\n", when, rssMB(portal.cmd.Process.Pid), rssMB(emu.Process.Pid))
	}

	c, err := signIn(portal.base)
	if err != nil {
		return err
	}
	if err := seed(c, portal.base, n); err != nil {
		return err
	}
	memory("after seeding")
	if emu != nil {
		// The portal idle at N instances: nothing asked of it for longer
		// than its idle release's period (20 s), which returns the garbage.
		time.Sleep(25 * time.Second)
		memory("idle after seeding")
	}

	refresh, err := timeRefresh(c, portal.base)
	if err != nil {
		return err
	}
	fmt.Printf("refresh of %d instances: %s\n\n", n, refresh.Round(time.Millisecond))

	fmt.Printf("signing in %d people (Contributors), each with a session and a token\n", users)
	people, err := signInUsers(bin, dir, portal.base, users)
	if err != nil {
		return err
	}
	middle := fmt.Sprintf("load%05d", n/2)
	var rows []row
	for _, p := range []struct {
		name, path string
		api, kept  bool // kept: the page cache keeps its answers
	}{
		{"list (50 of N)", "/instances?page=3", false, true},
		{"search", "/instances?q=load000", false, true},
		{"sort by name", "/instances?sort=-name&page=2", false, true},
		{"row fragment", "/instances/" + middle + "/row", false, true},
		{"details", "/instances/" + middle, false, false},
		{"quota", "/quota", false, false},
		{"API list (50)", "/api/v1/computes?page=3", true, true},
		{"API details", "/api/v1/computes/" + middle, true, true},
	} {
		for _, enc := range []string{"identity", browserEncoding} {
			if p.kept {
				rows = append(rows, row{name: p.name + ", hit", path: p.path, api: p.api, encoding: enc})
			}
			rows = append(rows, row{name: p.name + ", render", path: p.path, api: p.api, render: true, encoding: enc})
		}
	}
	fmt.Printf("wrk -t%d -c%d -d%s, three runs a row (median, min-max), each beside a static Go server sending the same bytes\n", threads, conns, duration)
	fmt.Printf("with the same headers; requests spread over %d sessions (pages: cookies; API: tokens); hit: one address,\n", users)
	fmt.Printf("answered from the page cache; render: a new address each request; every answer's status, encoding and size checked\n")
	rowsHeader()
	for _, r := range rows {
		if !only.MatchString(r.name) {
			continue
		}
		if err := measure(wrk, portal.base, people, r, threads, conns, duration); err != nil {
			return err
		}
	}
	fmt.Println()
	memory("after the load")
	return nil
}

type portal struct {
	cmd       *exec.Cmd
	base      string
	log       string // the file of its log
	coldStart time.Duration
}

// startPortal runs the real server with the emulator at latency 0 and room
// in its quota for n instances, and waits for its first 200.
func startPortal(bin, dir string, n int, extra ...string) (*portal, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data", dir, "--emulator-latency", "0",
		"--emulator-quota", quotaFor(n), "--admin-email", "admin@example.com"}, extra...)...)
	cmd.Env = append(os.Environ(), "INSTANCEHUB_ADMIN_PASSWORD="+password)
	log, err := os.Create(filepath.Join(dir, "portal.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &portal{cmd: cmd, base: "http://" + addr, log: log.Name()}
	for {
		res, err := http.Get(p.base + "/login")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				p.coldStart = time.Since(start)
				return p, nil
			}
		}
		if time.Since(start) > 30*time.Second {
			p.stop()
			b, _ := os.ReadFile(log.Name())
			return nil, fmt.Errorf("the portal did not answer within 30 s:\n%s", b)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (p *portal) stop() { stopProcess(p.cmd) }

func stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
	}
}

// quotaFor is the emulator's quota with room for n instances, and the
// 1,000 more bench-scale creates at the end.
func quotaFor(n int) string {
	limit := strconv.Itoa(n + 1100)
	var quota []string
	for _, region := range regions {
		quota = append(quota, region+"/cores="+limit, region+"/standardDSv2Family="+limit)
	}
	return strings.Join(quota, ",")
}

// startEmulator runs `instancehub emulator` at latency with room for n
// instances, and returns it with the portal's flags that use it.
func startEmulator(bin, dir string, n int, latency float64) (*exec.Cmd, []string, error) {
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(bin, "emulator", "--addr", addr, "--data", dir, "--emulator-latency", fmt.Sprint(latency), "--emulator-quota", quotaFor(n))
	log, err := os.Create(filepath.Join(dir, "emulator.log"))
	if err != nil {
		return nil, nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	cert := filepath.Join(dir, "emulator-cert.pem")
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(log.Name()); strings.Contains(string(b), "serving the emulator") {
			break
		}
		if time.Since(start) > 30*time.Second {
			stopProcess(cmd)
			return nil, nil, fmt.Errorf("the emulator did not start")
		}
	}
	return cmd, []string{"--emulator-url", "https://" + addr, "--emulator-ca", cert}, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// signIn signs the administrator in, as a browser does: same origin.
func signIn(base string) (*http.Client, error) { return signInAs(base, "admin@example.com") }

// signInAs signs a person in with the benchmark's password.
func signInAs(base, email string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := post(c, base, "/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign in %s: %s", email, res.Status)
	}
	return c, nil
}

func post(c *http.Client, base, path string, form url.Values) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode >= 400 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		var errs []string
		for _, m := range fieldError.FindAllSubmatch(b, -1) {
			errs = append(errs, string(m[1]))
		}
		return res, fmt.Errorf("POST %s: %s: %s", path, res.Status, strings.Join(errs, "; "))
	}
	_, _ = io.Copy(io.Discard, res.Body)
	return res, nil
}

var fieldError = regexp.MustCompile(`role="alert"[^>]*>(?:<i[^>]*></i>)?\s*<span>([^<]+)<`)

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// seed creates n instances through the create form, one after another, and
// waits until the last is running.
func seed(c *http.Client, base string, n int) error {
	token, err := formToken(c, base+"/instances/new")
	if err != nil {
		return err
	}
	took := make([]time.Duration, 0, n)
	start := time.Now()
	for i := 1; i <= n; i++ {
		// Spread over the regions: a region's shared subnet holds about
		// 4,000 addresses, as on Azure.
		t := time.Now()
		res, err := post(c, base, "/instances", createForm(token, fmt.Sprintf("load%05d", i), regions[i%len(regions)]))
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("create %d: %s", i, res.Status)
		}
		took = append(took, time.Since(t))
	}
	total := time.Since(start)
	k := max(1, min(100, n/10))
	fmt.Printf("%d creates through the form: %s in all; mean of the first %d %s, of the last %d %s\n",
		n, total.Round(time.Millisecond), k, mean(took[:k]).Round(time.Microsecond), k, mean(took[n-k:]).Round(time.Microsecond))
	if err := waitRunning(c, base, fmt.Sprintf("load%05d", n)); err != nil {
		return err
	}
	fmt.Printf("all %d running %s after the first create\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

// formToken reads the CSRF token of the page at u.
func formToken(c *http.Client, u string) (string, error) {
	page, _, err := get(c, u, "")
	if err != nil {
		return "", err
	}
	m := csrfInput.FindSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("no CSRF token in %s", u)
	}
	return string(m[1]), nil
}

// createForm is the create form filled in for an instance of the smallest size.
func createForm(token, name, region string) url.Values {
	return url.Values{"_csrf": {token}, "name": {name}, "region": {region}, "vm_size": {"Standard_DS1_v2"}, "type": {"cpu"}}
}

// waitRunning waits until the row of the instance name, created last,
// shows it Running.
func waitRunning(c *http.Client, base, name string) error {
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		row, _, err := get(c, base+"/instances/"+name+"/row", "")
		if err != nil {
			return err
		}
		if bytes.Contains(row, []byte(">Running<")) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the instances did not all start within 5 minutes; the last one's row:\n%s", row)
		}
	}
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

// timeRefresh presses Refresh, which reconciles every instance with Azure.
func timeRefresh(c *http.Client, base string) (time.Duration, error) {
	token, err := formToken(c, base+"/instances")
	if err != nil {
		return 0, err
	}
	// A sync finished less than 5 s ago (instancehub.SyncFresh) is shared
	// rather than run again: wait it out, to time a whole one.
	time.Sleep(6 * time.Second)
	start := time.Now()
	res, err := post(c, base, "/instances/refresh", url.Values{"_csrf": {token}})
	if err != nil {
		return 0, err
	}
	if res.StatusCode >= 400 {
		return 0, fmt.Errorf("refresh: %s", res.Status)
	}
	took := time.Since(start)
	_, _, err = get(c, base+"/instances", "") // takes the Refresh's notice
	return took, err
}

// get fetches u as load does, with header ("Name: value") if set.
func get(c *http.Client, u, header string) ([]byte, string, error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept-Encoding", "identity")
	if name, value, ok := strings.Cut(header, ": "); ok && name == "Authorization" {
		req.Header.Set(name, value) // the cookie comes from c's jar
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: %s", u, res.Status)
	}
	b, err := io.ReadAll(res.Body)
	return b, res.Header.Get("Content-Type"), err
}

func cookieHeader(c *http.Client, base string) string {
	u, _ := url.Parse(base)
	var parts []string
	for _, k := range c.Jar.Cookies(u) {
		// The session only: a notice left by the last action would be
		// shown, and taken, by every request.
		if strings.HasSuffix(k.Name, "instancehub_session") {
			parts = append(parts, k.Name+"="+k.Value)
		}
	}
	return strings.Join(parts, "; ")
}

type static struct {
	url   string
	close func()
}

// serveStatic answers every request with a's bytes and headers, as a Go
// server can at best.
func serveStatic(a sample) (*static, error) { return serveSpending(a, 0) }

// serveSpending is serveStatic, spending about cpu of CPU time on each
// request before it answers (spin).
func serveSpending(a sample, cpu time.Duration) (*static, error) {
	body := a.body
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rounds := spinRounds(cpu)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		spin(rounds)
		w.Header().Set("Content-Type", a.ctype)
		if a.encoding != "" {
			w.Header().Set("Content-Encoding", a.encoding)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	return &static{url: "http://" + ln.Addr().String(), close: func() { _ = srv.Shutdown(context.Background()) }}, nil
}

type result struct {
	rps      float64
	p50, p99 string
	p99ms    float64
	requests int
	cpuUs    float64 // the portal's CPU (user and system) per request, when measured
}

var (
	rpsLine = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reqLine = regexp.MustCompile(`(\d+) requests in `)
	pctLine = regexp.MustCompile(`(?m)^\s+(50|99)%\s+(\S+)`)
	errLine = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// separate runs the emulator in a process of its own (-separate-emulator).
var separate bool

// sameCPU drives, after each row, a static server spending the portal's
// CPU a request (-same-cpu).
var sameCPU bool

// spinSink keeps spin's work from being optimised away.
var spinSink atomic.Uint64

// spin does n rounds of arithmetic: CPU work whatever the scheduler does,
// where a loop on the clock would spend less when the thread waits.
func spin(n int) {
	x := uint64(n)
	for range n {
		x = x*6364136223846793005 + 1442695040888963407
	}
	spinSink.Add(x)
}

// spinRounds is how many rounds of spin take about d of CPU on this
// machine, measured once on a thread of its own.
func spinRounds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	perRound := spinCost()
	return int(float64(d) / perRound)
}

var spinCost = sync.OnceValue(func() float64 {
	const n = 50_000_000
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	best := time.Duration(math.MaxInt64)
	for range 3 {
		began := time.Now()
		spin(n)
		best = min(best, time.Since(began))
	}
	return float64(best) / n
})

// only selects the pages to drive (-only).
var only = regexp.MustCompile("")

// load drives u with wrk, sending header ("Name: value") if set, and
// reads its summary.
func load(wrk, u, header string, threads, conns int, d time.Duration) (result, error) {
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", d.String(), "--latency"}
	if header != "" {
		args = append(args, "-H", header)
	}
	out, err := exec.Command(wrk, append(args, u)...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	if m := errLine.FindSubmatch(out); m != nil {
		return result{}, fmt.Errorf("%s answered %s requests with an error:\n%s", u, m[1], out)
	}
	return parseWrk(out)
}

// parseWrk reads wrk's summary.
func parseWrk(out []byte) (result, error) {
	if m := errLine.FindSubmatch(out); m != nil {
		return result{}, fmt.Errorf("%s requests answered with an error:\n%s", m[1], out)
	}
	var r result
	m := rpsLine.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no requests/sec in wrk's output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := reqLine.FindSubmatch(out); m != nil {
		r.requests, _ = strconv.Atoi(string(m[1]))
	}
	for _, p := range pctLine.FindAllSubmatch(out, -1) {
		if string(p[1]) == "50" {
			r.p50 = string(p[2])
		} else {
			r.p99 = string(p[2])
			if d, err := time.ParseDuration(r.p99); err == nil {
				r.p99ms = float64(d) / float64(time.Millisecond)
			}
		}
	}
	return r, nil
}

// rssMB reads a process's resident memory from /proc (Linux).
func rssMB(pid int) float64 { return memory(pid)["VmRSS"] }

// memory reads a process's resident memory from /proc/PID/status, in MB by
// field: VmRSS, and its parts RssAnon (heap, stacks, SQLite's page caches)
// and RssFile (the binary's text, files mapped).
func memory(pid int) map[string]float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil
	}
	defer f.Close()
	m := map[string]float64{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, rest, ok := strings.Cut(s.Text(), ":")
		if fields := strings.Fields(rest); ok && len(fields) == 2 && fields[1] == "kB" {
			kb, _ := strconv.ParseFloat(fields[0], 64)
			m[name] = kb / 1024
		}
	}
	return m
}

// memoryLine tells a process's resident memory and its parts.
func memoryLine(pid int) string {
	m := memory(pid)
	return fmt.Sprintf("%.1f MB RSS (anonymous %.1f, file %.1f)", m["VmRSS"], m["RssAnon"], m["RssFile"])
}
