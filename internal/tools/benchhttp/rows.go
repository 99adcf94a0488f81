package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// browserEncoding is what the benchmark's browsers accept, as issue 29
// asks; the portal answers gzip to it.
const browserEncoding = "gzip, br"

// users is how many people the load is spread over.
const users = 100

// A row is one line of the table: a page asked one way, by every session
// in turn, beside a static server sending the bytes it answers with the
// same headers.
type row struct {
	name     string
	path     string
	api      bool   // with the users' tokens, not their cookies
	render   bool   // a new address each request: no kept answer serves it
	encoding string // the Accept-Encoding sent
}

// sessions are the signed-in people the load is spread over: each one's
// cookie header and API token.
type sessions struct {
	cookies []string
	tokens  []string
}

// signInUsers adds n people with the program's own commands, gives each
// the Contributor role (the list shows them every instance, with the
// buttons of people who may act on them), signs each in through the form
// and makes each a token.
func signInUsers(bin, dir, base string, n int) (*sessions, error) {
	s := &sessions{}
	for i := 1; i <= n; i++ {
		email := fmt.Sprintf("bench%03d@example.com", i)
		add := exec.Command(bin, "users", "add", "--data", dir, "--email", email, "--name", fmt.Sprintf("Bench user %03d", i))
		add.Stdin = strings.NewReader(password + "\n")
		if out, err := add.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("users add %s: %v\n%s", email, err, out)
		}
		if out, err := exec.Command(bin, "roles", "assign", "--data", dir, "--email", email, "--role", "Contributor").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("roles assign %s: %v\n%s", email, err, out)
		}
		c, err := signInAs(base, email)
		if err != nil {
			return nil, err
		}
		s.cookies = append(s.cookies, cookieHeader(c, base))
		out, err := exec.Command(bin, "tokens", "create", "--data", dir, "--email", email, "--name", "benchmark").Output()
		if err != nil {
			return nil, fmt.Errorf("tokens create %s: %w", email, err)
		}
		s.tokens = append(s.tokens, strings.TrimSpace(string(out)))
	}
	return s, nil
}

// header is the i-th session's header for a row: its cookie or its token.
func (s *sessions) header(r row, i int) (string, string) {
	if r.api {
		return "Authorization", "Bearer " + s.tokens[i%len(s.tokens)]
	}
	return "Cookie", s.cookies[i%len(s.cookies)]
}

// sample is one answer of a row, as the benchmark's first session gets it.
type sample struct {
	body     []byte
	ctype    string
	encoding string
}

// fetch asks for a row's page as wrk will, once, with the i-th session.
func fetch(base string, s *sessions, r row, i int, path string) (sample, error) {
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set(s.header(r, i))
	req.Header.Set("Accept-Encoding", r.encoding)
	res, err := plainTransport.RoundTrip(req)
	if err != nil {
		return sample{}, err
	}
	defer res.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(res.Body); err != nil {
		return sample{}, err
	}
	if res.StatusCode != http.StatusOK {
		return sample{}, fmt.Errorf("GET %s: %s", path, res.Status)
	}
	return sample{body: b.Bytes(), ctype: res.Header.Get("Content-Type"), encoding: res.Header.Get("Content-Encoding")}, nil
}

// plainTransport sends Accept-Encoding as set and leaves bodies as sent.
var plainTransport = &http.Transport{DisableCompression: true}

// renderPath is a row's path made new by n, so that no kept answer serves
// it: a parameter the portal ignores.
func renderPath(path string, n string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "_=" + n
}

// measure drives a row: every session asks once (so that the cache-hit
// rows find each one's answer kept), the sizes wrk must see are read from
// a few answers, and then the portal and the static server sending the
// first answer's bytes are driven in turn, three times each.
func measure(wrk, base string, s *sessions, r row, threads, conns int, d time.Duration) error {
	first, err := fetch(base, s, r, 0, r.path)
	if err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	lo, hi := len(first.body), len(first.body)
	for i := range len(s.cookies) {
		path := r.path
		if r.render {
			path = renderPath(r.path, fmt.Sprintf("s%d-%d", i, 1000000+i))
		}
		a, err := fetch(base, s, r, i, path)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		if a.encoding != first.encoding {
			return fmt.Errorf("%s: answered %q, then %q", r.name, first.encoding, a.encoding)
		}
		lo, hi = min(lo, len(a.body)), max(hi, len(a.body))
	}
	// The compressed sizes carry up to 32 bytes of jitter (BREACH), and a
	// render's address differs by a few digits: room for both.
	lo, hi = lo-48, hi+48
	script, err := writeScript(s, r, lo, hi, first.encoding)
	if err != nil {
		return err
	}
	defer os.Remove(script)
	static, err := serveStatic(first)
	if err != nil {
		return err
	}
	defer static.close()
	staticScript, err := writeScript(&sessions{cookies: []string{"none=1"}, tokens: []string{"none"}}, row{path: r.path, encoding: r.encoding}, len(first.body), len(first.body), first.encoding)
	if err != nil {
		return err
	}
	defer os.Remove(staticScript)

	var dyn, ceil []result
	var loads []string
	for run := range 3 {
		loads = append(loads, loadAverage())
		var profiled chan error
		if run == 1 && profileDir != "" {
			profiled = profile(r.name+" "+r.encoding, d)
		}
		cpu := processCPU(portalPID)
		p, err := loadScript(wrk, base, script, threads, conns, d)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		if used := processCPU(portalPID) - cpu; used > 0 && p.requests > 0 {
			p.cpuUs = float64(used.Microseconds()) / float64(p.requests)
		}
		if profiled != nil {
			if err := <-profiled; err != nil {
				return fmt.Errorf("%s: profile: %w", r.name, err)
			}
		}
		c, err := loadScript(wrk, static.url, staticScript, threads, conns, d)
		if err != nil {
			return fmt.Errorf("%s (static): %w", r.name, err)
		}
		dyn, ceil = append(dyn, p), append(ceil, c)
	}
	// What was asked, and what the portal sent: a small answer is sent as
	// it is whatever is asked.
	enc := "id"
	if r.encoding != "identity" {
		enc = "gz,br"
	}
	if first.encoding == "" {
		enc += ">id"
	} else {
		enc += ">" + first.encoding
	}
	pm, sm := medianOf(dyn), medianOf(ceil)
	fmt.Printf("%-24s %-11s %7d %s %s %7.1f%% %7.0f  %s\n", r.name, enc, len(first.body),
		spread(dyn), spread(ceil), 100*pm.rps/sm.rps, medianCPU(dyn), strings.Join(loads, " "))
	if sameCPU {
		return measureSameCPU(wrk, first, r, staticScript, time.Duration(medianCPU(dyn)*float64(time.Microsecond)), threads, conns, d)
	}
	return nil
}

// measureSameCPU drives a static server that spends cpu on each request
// before it sends first's bytes, three times, and prints its req/s and p99
// under the row's: what a server of the portal's cost gets on this machine,
// where wrk and the server share the cores.
func measureSameCPU(wrk string, first sample, r row, script string, cpu time.Duration, threads, conns int, d time.Duration) error {
	runs, loads, err := driveSpending(wrk, first, script, cpu, threads, conns, d)
	if err != nil {
		return fmt.Errorf("%s (same CPU): %w", r.name, err)
	}
	fmt.Printf("%-24s %-11s %7s %s %-17s %-21s %8s %7.0f  %s\n", "  static, same CPU", "", "", spread(runs), "", "", "", float64(cpu.Microseconds()), strings.Join(loads, " "))
	return nil
}

// driveSpending drives, three times with script, a static server that
// spends cpu on each request before it sends first's bytes, and returns
// each run's result and the load average before it.
func driveSpending(wrk string, first sample, script string, cpu time.Duration, threads, conns int, d time.Duration) ([]result, []string, error) {
	spending, err := serveSpending(first, cpu)
	if err != nil {
		return nil, nil, err
	}
	defer spending.close()
	var runs []result
	var loads []string
	for range 3 {
		loads = append(loads, loadAverage())
		c, err := loadScript(wrk, spending.url, script, threads, conns, d)
		if err != nil {
			return nil, nil, err
		}
		runs = append(runs, c)
	}
	return runs, loads, nil
}

// rowsHeader heads measure's lines.
func rowsHeader() {
	fmt.Printf("%-24s %-11s %7s %-21s %-17s %-21s %-17s %8s %7s  %s\n", "row", "asked>sent", "bytes",
		"portal req/s", "p99 ms", "static req/s", "p99 ms", "share", "cpu µs", "load average (1 min) at each run")
}

// spread is a median with its min-max, of req/s and of p99.
func spread(rs []result) string {
	rps := make([]float64, len(rs))
	p99 := make([]float64, len(rs))
	for i, r := range rs {
		rps[i], p99[i] = r.rps, r.p99ms
	}
	slices.Sort(rps)
	slices.Sort(p99)
	return fmt.Sprintf("%6.0f (%6.0f-%6.0f) %5.1f (%5.1f-%5.1f)", rps[1], rps[0], rps[2], p99[1], p99[0], p99[2])
}

// medianCPU is the runs' median of the portal's CPU per request, in µs.
func medianCPU(rs []result) float64 {
	cpus := make([]float64, len(rs))
	for i, r := range rs {
		cpus[i] = r.cpuUs
	}
	slices.Sort(cpus)
	return cpus[len(cpus)/2]
}

// medianOf is the run of median req/s.
func medianOf(rs []result) result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int {
		switch {
		case a.rps < b.rps:
			return -1
		case a.rps > b.rps:
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

// loadAverage is the machine's load average over the last minute.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// writeScript writes wrk's Lua script for a row: each request goes out
// with the next session's cookie or token (each thread starting at its
// own), a render's with a new address; every answer's status, encoding and
// size are checked, and done prints how many failed.
func writeScript(s *sessions, r row, lo, hi int, encoding string) (string, error) {
	var b strings.Builder
	name, _ := s.header(r, 0)
	fmt.Fprintf(&b, "local auth = {\n")
	for i := range len(s.cookies) {
		_, value := s.header(r, i)
		fmt.Fprintf(&b, "  %q,\n", value)
	}
	fmt.Fprintf(&b, "}\n")
	fmt.Fprintf(&b, "local name, path, render = %q, %q, %v\n", name, r.path, r.render)
	sep := "?"
	if strings.Contains(r.path, "?") {
		sep = "&"
	}
	fmt.Fprintf(&b, "local sep, accept, encoding, lo, hi = %q, %q, %q, %d, %d\n", sep, r.encoding, encoding, lo, hi)
	b.WriteString(`
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
local i, bad = 0, 0
function init(args)
  i = (id or 1) * 37
end
function request()
  i = i + 1
  local p = path
  if render then p = path .. sep .. "_=t" .. (id or 1) .. "-" .. i end
  return wrk.format("GET", p, {[name] = auth[(i % #auth) + 1], ["Accept-Encoding"] = accept})
end
function response(status, headers, body)
  local enc = headers["Content-Encoding"] or ""
  if status ~= 200 or enc ~= encoding or #body < lo or #body > hi then
    bad = bad + 1
    if bad == 1 then io.stderr:write(string.format("unexpected answer: %d %q %d bytes\n", status, enc, #body)) end
  end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + (t:get("bad") or 0) end
  io.write(string.format("CHECKED %d BAD %d\n", summary.requests, n))
end
`)
	f, err := os.CreateTemp("", "benchhttp-*.lua")
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = f.WriteString(b.String())
	return f.Name(), err
}

var checkedLine = regexp.MustCompile(`CHECKED (\d+) BAD (\d+)`)

// loadScript drives base with wrk and a script, and reads its summary and
// the script's check.
func loadScript(wrk, base, script string, threads, conns int, d time.Duration) (result, error) {
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", d.String(), "--latency", "-s", script, base}
	out, err := exec.Command(wrk, args...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	m := checkedLine.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("the script checked nothing:\n%s", out)
	}
	if string(m[2]) != "0" {
		return result{}, fmt.Errorf("%s of %s answers were not as expected:\n%s", m[2], m[1], out)
	}
	return parseWrk(out)
}

// profileDir, when set, holds a CPU profile of the portal for each row,
// taken from debugBase (the portal's --debug-addr) during its second run.
var profileDir, debugBase string

// traceRuns makes the profiles execution traces (-trace).
var traceRuns bool

// withDebugAddr adds to the portal's arguments an operator address of its
// own (debugBase) when profiles are asked for.
func withDebugAddr(args []string) ([]string, error) {
	if profileDir == "" {
		return args, nil
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	debugBase = "http://127.0.0.1:" + strconv.Itoa(port)
	return append(args, "--debug-addr", "127.0.0.1:"+strconv.Itoa(port)), nil
}

// profile asks the portal for a CPU profile over most of a run of d, and
// writes it as profileDir/<row>.pprof (or an execution trace, <row>.trace,
// with -trace); the channel tells when it is done.
func profile(name string, d time.Duration) chan error {
	done := make(chan error, 1)
	go func() {
		seconds := max(1, int((d - 500*time.Millisecond).Seconds()))
		kind, ext := "profile", ".pprof"
		if traceRuns {
			kind, ext = "trace", ".trace"
		}
		done <- saveProfile(fmt.Sprintf("pprof/%s?seconds=%d", kind, seconds), name+ext)
	}()
	return done
}

// idleProfiles writes into profileDir what the idle portal holds, each
// file named name and a suffix: the runtime's memory statistics (expvar's
// memstats, .vars.json: the heap it keeps, has given back, and what is not
// its heap), its goroutines (.goroutines.txt), the kernel's map of its
// memory (.smaps: Go's heap arenas against its stacks, its collector's,
// SQLite's memory and the binary's pages), and last, since it collects
// first, its heap profile (.heap.pprof; go tool pprof
// -sample_index=inuse_space).
func idleProfiles(name string) error {
	if err := saveProfile("vars", name+".vars.json"); err != nil {
		return err
	}
	if err := saveProfile("pprof/goroutine?debug=1", name+".goroutines.txt"); err != nil {
		return err
	}
	smaps, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", portalPID))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(profileDir, name+".smaps"), smaps, 0o640); err != nil {
		return err
	}
	return saveProfile("pprof/heap?gc=1", name+".heap.pprof")
}

// saveProfile writes what the portal's /debug/<what> answers into
// profileDir, under file (its spaces, commas, brackets and slashes
// replaced).
func saveProfile(what, file string) error {
	res, err := http.Get(debugBase + "/debug/" + what)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /debug/%s: %s", what, res.Status)
	}
	if err := os.MkdirAll(profileDir, 0o750); err != nil {
		return err
	}
	file = strings.NewReplacer(" ", "-", ",", "", "(", "", ")", "", "/", "-").Replace(file)
	f, err := os.Create(filepath.Join(profileDir, file))
	if err != nil {
		return err
	}
	_, err = io.Copy(f, res.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// portalPID is the portal's process, whose CPU per request measure reports
// beside its rate: the rate moves with whatever else the machine runs, the
// CPU a request takes much less.
var portalPID int

// processCPU is the CPU time (user and system) a process has used so far,
// from /proc; 0 where it cannot be read.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil || pid == 0 {
		return 0
	}
	// The fields after the command's name, which is in parentheses and
	// may hold spaces: utime and stime are the 14th and 15th of the line.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is the kernel's USER_HZ, in which /proc counts CPU time: 100
// on Linux's every architecture that Go runs on.
const clockTicks = 100
