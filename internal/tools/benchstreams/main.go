// Command benchstreams is the load script of the pages' streams of changes
// (make bench-streams). It starts the real server on a temporary data
// directory with the emulator at latency 0, signs people in (each with a
// session of their own, as browsers do), and opens N streams at /events
// spread over those sessions, as N open pages listening. It prints the
// portal's resident memory before the streams and with them all open, the
// difference and its share per stream, and how long one change (a create
// through the form) takes to reach every stream. It measures; it asserts
// nothing.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const password = "bench-password-1"

func main() {
	bin := flag.String("bin", "bin/instancehub", "the portal's binary")
	n := flag.Int("n", 1000, "how many streams (open pages) to hold")
	users := flag.Int("users", 50, "how many people to sign in; the streams are spread over their sessions")
	keep := flag.Bool("keep", false, "keep the data directory")
	flag.Parse()
	if err := run(*bin, *n, *users, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench-streams:", err)
		os.Exit(1)
	}
}

func run(bin string, n, users int, keep bool) error {
	dir, err := os.MkdirTemp("", "bench-streams-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	portal := exec.Command(bin, "serve", "--addr", "127.0.0.1:"+strconv.Itoa(port), "--data", dir,
		"--emulator-latency", "0", "--admin-email", "admin@example.com")
	portal.Env = append(os.Environ(), "INSTANCEHUB_ADMIN_PASSWORD="+password)
	log, err := os.Create(filepath.Join(dir, "portal.log"))
	if err != nil {
		return err
	}
	portal.Stdout, portal.Stderr = log, log
	if err := portal.Start(); err != nil {
		return err
	}
	defer stop(portal)
	if err := waitUp(base, log.Name()); err != nil {
		return err
	}

	// The people: each signs in once, as a browser keeps one session for
	// its tabs.
	sessions := make([]*http.Client, 0, users)
	admin, err := signIn(base, "admin@example.com")
	if err != nil {
		return err
	}
	sessions = append(sessions, admin)
	for i := 1; i < users; i++ {
		email := fmt.Sprintf("stream%03d@example.com", i)
		add := exec.Command(bin, "users", "add", "--data", dir, "--email", email, "--name", fmt.Sprintf("Stream user %03d", i))
		add.Stdin = strings.NewReader(password + "\n")
		if out, err := add.CombinedOutput(); err != nil {
			return fmt.Errorf("users add %s: %v\n%s", email, err, out)
		}
		if out, err := exec.Command(bin, "roles", "assign", "--data", dir, "--email", email, "--role", "Reader").CombinedOutput(); err != nil {
			return fmt.Errorf("roles assign %s: %v\n%s", email, err, out)
		}
		c, err := signIn(base, email)
		if err != nil {
			return err
		}
		sessions = append(sessions, c)
	}
	// Each session's list page once, so that what a page costs the portal
	// before it listens is in the figure before.
	for _, c := range sessions {
		if err := getOK(c, base+"/instances"); err != nil {
			return err
		}
	}
	runtime.GC()
	time.Sleep(time.Second) // the portal settles after the sign-ins
	before := rssMB(portal.Process.Pid)
	fmt.Printf("portal with %d sessions signed in, no stream open: %.1f MB RSS\n", len(sessions), before)

	// The streams: each reads on in a goroutine of its own and notes when
	// it first hears an instance's event.
	streams := make([]*stream, n)
	opened := time.Now()
	for i := range streams {
		s, err := openStream(sessions[i%len(sessions)], base)
		if err != nil {
			return fmt.Errorf("stream %d: %w", i, err)
		}
		streams[i] = s
	}
	fmt.Printf("%d streams open in %v\n", n, time.Since(opened).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // the portal's memory settles with them
	with := rssMB(portal.Process.Pid)
	fmt.Printf("portal with %d streams open: %.1f MB RSS: %+.1f MB, %.1f KB a stream\n", n, with, with-before, (with-before)*1024/float64(n))
	// One change heard by every page: a create through the form.
	token, err := formToken(admin, base+"/instances/new")
	if err != nil {
		return err
	}
	sent := time.Now()
	res, err := post(admin, base, "/instances", url.Values{"_csrf": {token}, "name": {"pushed-box"}, "region": {"eastus"}, "vm_size": {"Standard_DS1_v2"}, "type": {"cpu"}})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("create: %s\n%s", res.Status, messages.FindAll(b, -1))
	}
	var heard []time.Duration
	for i, s := range streams {
		select {
		case at := <-s.first:
			heard = append(heard, at.Sub(sent))
		case <-time.After(30 * time.Second):
			return fmt.Errorf("stream %d heard nothing of the create in 30 s", i)
		}
	}
	slices.Sort(heard)
	fmt.Printf("a create's first event reached all %d streams: median %v, p99 %v, last %v after the form was posted\n",
		n, heard[len(heard)/2].Round(time.Microsecond), heard[len(heard)*99/100].Round(time.Microsecond), heard[len(heard)-1].Round(time.Microsecond))
	for _, s := range streams {
		s.close()
	}
	return nil
}

// stream is one open /events answer, read on in a goroutine.
type stream struct {
	res   *http.Response
	first chan time.Time // when it first heard an instance's event
}

func openStream(c *http.Client, base string) (*stream, error) {
	req, _ := http.NewRequest(http.MethodGet, base+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		res.Body.Close()
		return nil, fmt.Errorf("GET /events: %s %s", res.Status, res.Header.Get("Content-Type"))
	}
	s := &stream{res: res, first: make(chan time.Time, 1)}
	go func() {
		r := bufio.NewReader(res.Body)
		once := sync.Once{}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if line == "event: instance\n" { // views.InstanceEvent
				at := time.Now()
				once.Do(func() { s.first <- at })
			}
		}
	}()
	return s, nil
}

func (s *stream) close() { s.res.Body.Close() }

func waitUp(base, log string) error {
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		if res, err := http.Get(base + "/login"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Since(start) > 30*time.Second {
			b, _ := os.ReadFile(log)
			return fmt.Errorf("the portal did not answer within 30 s:\n%s", b)
		}
	}
}

func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// signIn signs a person in as a browser does: same origin, a session of
// its own.
func signIn(base, email string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	res, err := post(c, base, "/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign in %s: %s", email, res.Status)
	}
	return c, nil
}

func post(c *http.Client, base, path string, form url.Values) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	return c.Do(req)
}

func getOK(c *http.Client, u string) error {
	res, err := c.Get(u)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, res.Status)
	}
	return nil
}

// messages finds a refused form's messages.
var messages = regexp.MustCompile(`(?s)class="field-error".*?<span>[^<]*`)

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// formToken reads the form's anti-forgery token from the page at u.
func formToken(c *http.Client, u string) (string, error) {
	res, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text())
	}
	m := csrfField.FindStringSubmatch(b.String())
	if m == nil {
		return "", fmt.Errorf("no form token at %s", u)
	}
	return m[1], nil
}

// rssMB reads a process's resident memory from /proc (Linux).
func rssMB(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			fields := strings.Fields(rest)
			kb, _ := strconv.ParseFloat(fields[0], 64)
			return kb / 1024
		}
	}
	return 0
}
