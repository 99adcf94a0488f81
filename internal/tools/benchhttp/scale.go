package main

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// seeders is how many clients create at once while seeding.
const seeders = 8

// runScale is make bench-scale: n instances seeded through the API with a
// token, concurrently, on a portal whose emulator runs as a process of its
// own (so that the portal's memory is its own); then the creates' rate at
// the start and the end, the idle portal's memory, a Refresh's duration,
// and the list, search and sort renders (a different page or search at
// each request) driven with wrk.
func runScale(bin, wrk string, n, threads, conns int, duration time.Duration, keep string, more int) error {
	if _, err := exec.LookPath(wrk); err != nil {
		return fmt.Errorf("%s is not installed (make bench-scale installs Debian's wrk): %w", wrk, err)
	}
	dir, seeded := keep, false
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "instancehub-bench-scale-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else {
		// A directory seeded by an earlier run is measured again as it is,
		// by this binary: seeding 100,000 takes a while.
		_, err := os.Stat(filepath.Join(dir, "seeded"))
		seeded = err == nil
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
	}
	emuDir := filepath.Join(dir, "emulator")
	emu, extra, err := startEmulator(bin, emuDir, n, 0)
	if err != nil {
		return err
	}
	defer stopProcess(emu)
	// The portal's shared subnet in a region holds about 4,000 addresses,
	// as on Azure: n instances go into a large subnet of each region,
	// made beforehand as an administrator would.
	if !seeded {
		if err := makeBenchNetworks(extra[1], filepath.Join(emuDir, "emulator-cert.pem")); err != nil {
			return err
		}
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
	fmt.Printf("cold start: %s; idle portal at start: %.1f MB RSS\n", portal.coldStart.Round(time.Millisecond), rssMB(portal.cmd.Process.Pid))
	c, err := signIn(portal.base)
	if err != nil {
		return err
	}
	// A token of a name of its own: a kept directory has the earlier runs'.
	name := "bench-scale-" + time.Now().Format("20060102-150405")
	out, err := exec.Command(bin, "tokens", "create", "--data", dir, "--email", "admin@example.com", "--name", name).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("tokens create: %v\n%s", err, exit.Stderr)
		}
		return fmt.Errorf("tokens create: %w", err)
	}
	token := strings.TrimSpace(string(out))

	if !seeded {
		if err := seedAPI(portal, token, 1, n); err != nil {
			return err
		}
		if err := waitAPIRunning(portal.base, token, scaleName(n)); err != nil {
			return err
		}
		if keep != "" {
			if err := os.WriteFile(filepath.Join(dir, "seeded"), nil, 0o600); err != nil {
				return err
			}
		}
	}
	seededAt := time.Now()
	// Idle: nothing asked for longer than the portal's idle release (20 s),
	// which collects and returns the garbage; then for longer than the
	// minute after which the database's idle connections close; then for
	// longer than the 90 s after which those to the emulator close (the
	// last creates' polls used them until about 3 s after the last
	// answer).
	idles := []time.Duration{25 * time.Second, 90 * time.Second, 150 * time.Second}
	for _, idle := range idles {
		if !only.MatchString("idle") {
			break
		}
		time.Sleep(idle - time.Since(seededAt))
		fmt.Printf("idle portal at %d instances, %s after the last answer: %s (emulator process: %.1f MB)\n",
			n, idle, memoryLine(portal.cmd.Process.Pid), rssMB(emu.Process.Pid))
		// The heap profile collects first, so they come after the last
		// reading.
		if profileDir != "" && idle == idles[len(idles)-1] {
			if err := idleProfiles(fmt.Sprintf("idle-%d", n)); err != nil {
				return err
			}
		}
	}

	// refresh times a Refresh, and the CPU the portal and the emulator
	// spent on it.
	refresh := func() (took, portalCPU, emulatorCPU time.Duration, err error) {
		p, e := processCPU(portal.cmd.Process.Pid), processCPU(emu.Process.Pid)
		took, err = timeRefresh(c, portal.base)
		return took, processCPU(portal.cmd.Process.Pid) - p, processCPU(emu.Process.Pid) - e, err
	}
	for i := range 2 {
		if !only.MatchString("refresh") {
			break
		}
		took, portalCPU, emulatorCPU, err := refresh()
		// A whole Refresh takes about 40 µs an instance (4 s at 100,000);
		// one under 1 µs an instance was shared with the portal's own sync
		// (every 30 s), which had just finished.
		for tries := 0; err == nil && took < time.Duration(n)*time.Microsecond && tries < 3; tries++ {
			took, portalCPU, emulatorCPU, err = refresh()
		}
		if err != nil {
			return err
		}
		fmt.Printf("refresh %d of %d instances: %s (CPU: portal %s, emulator %s)\n", i+1, n, took.Round(time.Millisecond),
			portalCPU.Round(time.Millisecond), emulatorCPU.Round(time.Millisecond))
	}

	pages := (n + 49) / 50
	cookie := cookieHeader(c, portal.base)
	fmt.Printf("\nwrk -t%d -c%d -d%s, three runs a row (median, min-max); every request a different page or search (none kept);\n", threads, conns, duration)
	fmt.Printf("every answer's status and size checked\n")
	fmt.Printf("%-44s %-21s %-17s %-7s %s\n", "row", "req/s", "p99 ms", "cpu µs", "load average (1 min) at each run")
	for _, r := range []scaleRow{
		{name: "list, page i of N/50", path: "/instances?page=", vary: fmt.Sprintf("(i %% %d) + 1", pages), first: "1", header: "Cookie", value: cookie, min: 20_000},
		{name: "search (100 matches each)", path: "/instances?q=scale0", vary: `string.format("%03d", i % 1000)`, first: "001", header: "Cookie", value: cookie, min: 20_000},
		{name: "sort by name desc, page i", path: "/instances?sort=-name&page=", vary: fmt.Sprintf("(i %% %d) + 1", pages), first: "1", header: "Cookie", value: cookie, min: 20_000},
		{name: "API list, page i", path: "/api/v1/computes?page=", vary: fmt.Sprintf("(i %% %d) + 1", pages), first: "1", header: "Authorization", value: "Bearer " + token, min: 20_000},
	} {
		if !only.MatchString(r.name) {
			continue
		}
		if err := r.measure(wrk, portal.base, threads, conns, duration); err != nil {
			return err
		}
	}
	fmt.Println()
	if seeded && more == 0 {
		return nil // creates at n were measured when it was seeded
	}
	// Creates at n, as the first were at 0; in a directory measured
	// before, after the instances its earlier runs created.
	from := n + 1
	for seeded && instanceExists(portal.base, token, scaleName(from)) {
		from += 1000
	}
	return seedAPI(portal, token, from, cmp.Or(more, 1000))
}

// instanceExists says whether the API knows the instance name.
func instanceExists(base, token, name string) bool {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/computes/"+name, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// scaleName is the i-th seeded instance's name.
func scaleName(i int) string { return fmt.Sprintf("scale%06d", i) }

// makeBenchNetworks gives each region a virtual network with one subnet of
// 262,144 addresses, through the emulator's Resource Manager API.
func makeBenchNetworks(emulatorURL, caFile string) error {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	for i, region := range regions {
		prefix := fmt.Sprintf("10.%d.0.0/14", 64+4*i)
		u := emulatorURL + "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/instancehub/providers/Microsoft.Network/virtualNetworks/bench-" + region + "?api-version=2024-05-01"
		body := fmt.Sprintf(`{"location":%q,"properties":{"addressSpace":{"addressPrefixes":[%q]},"subnets":[{"name":"big","properties":{"addressPrefix":%q}}]}}`, region, prefix, prefix)
		for _, m := range []struct{ method, api, body string }{
			{http.MethodPut, "VirtualNetworksClient.BeginCreateOrUpdate", body},
			{http.MethodGet, "VirtualNetworksClient.Get", ""},
		} {
			for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
				req, _ := http.NewRequest(m.method, u, strings.NewReader(m.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer bench")
				req.Header.Set("X-Instancehub-Api-Name", m.api)
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode >= 300 {
					return fmt.Errorf("%s %s: %s\n%s", m.method, u, res.Status, b)
				}
				if m.method == http.MethodPut || bytes.Contains(b, []byte(`"provisioningState":"Succeeded"`)) {
					break
				}
				if time.Since(start) > 30*time.Second {
					return fmt.Errorf("the network bench-%s did not finish: %s", region, b)
				}
			}
		}
	}
	return nil
}

// seedAPI creates count instances from the from-th through the API, with
// seeders clients at once, and prints the rate of the first and the last
// thousand (by the order they were answered) and the portal's memory every
// 10,000.
func seedAPI(p *portal, token string, from, count int) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: seeders}}
	var next atomic.Int64
	next.Store(int64(from))
	var mu sync.Mutex
	done := make([]time.Time, 0, count)
	start := time.Now()
	errs := make(chan error, seeders)
	var wg sync.WaitGroup
	for range seeders {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= from+count {
					return
				}
				if err := createThroughAPI(client, p.base, token, i); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				done = append(done, time.Now())
				if len(done)%10_000 == 0 {
					fmt.Printf("  %d created in %s; portal %.1f MB RSS\n", len(done), time.Since(start).Round(time.Second), rssMB(p.cmd.Process.Pid))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	k := min(1000, count/2)
	rate := func(ts []time.Time, since time.Time) float64 {
		return float64(len(ts)) / ts[len(ts)-1].Sub(since).Seconds()
	}
	fmt.Printf("%d creates through the API (%d at once) from %d instances: %s in all; first %d at %.0f/s, last %d at %.0f/s\n",
		count, seeders, from-1, time.Since(start).Round(time.Millisecond), k, rate(done[:k], start), k, rate(done[count-k:], done[count-k-1]))
	return nil
}

// createThroughAPI posts the i-th instance's compute file, without idle
// shutdown: by default each instance stops after an hour unused, so that a
// kept directory measured again an hour after its seeding measured
// 100,000 stops at once (the scheduler's, as it should).
func createThroughAPI(client *http.Client, base, token string, i int) error {
	region := regions[i%len(regions)]
	body := fmt.Sprintf(`{"name":%q,"type":"computeinstance","size":"Standard_DS1_v2","location":%q,"idle_time_before_shutdown_minutes":0,"network_settings":{"vnet_name":"bench-%s","subnet":"big"}}`,
		scaleName(i), region, region)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/computes", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode >= 300 {
		return fmt.Errorf("create %s: %s\n%s", scaleName(i), res.Status, b)
	}
	return nil
}

// waitAPIRunning waits until the API shows the instance name Running.
func waitAPIRunning(base, token, name string) error {
	start := time.Now()
	for deadline := start.Add(30 * time.Minute); ; time.Sleep(time.Second) {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/computes/"+name, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if bytes.Contains(b, []byte(`"state":"Running"`)) {
			fmt.Printf("the last created running %s after its create was answered\n", time.Since(start).Round(time.Millisecond))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not start within 30 minutes: %s", name, b)
		}
	}
}

// A scaleRow is a page asked at a different address each request: path
// followed by the Lua expression vary of the request's number i, and a
// parameter the portal ignores, so that no kept page answers it.
type scaleRow struct {
	name, path, vary string
	first            string // a value of vary: the page -same-cpu's server sends
	header, value    string
	min              int // the fewest bytes a full answer has
}

func (r scaleRow) measure(wrk, base string, threads, conns int, d time.Duration) error {
	script := fmt.Sprintf(`local path, name, value, least = %q, %q, %q, %d
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
local i, bad = 0, 0
function init(args)
  i = (id or 1) * 7919
end
function request()
  i = i + 1
  return wrk.format("GET", path .. %s .. "&_=" .. (id or 1) .. "-" .. i, {[name] = value, ["Accept-Encoding"] = "identity"})
end
function response(status, headers, body)
  if status ~= 200 or #body < least then
    bad = bad + 1
    if bad == 1 then io.stderr:write(string.format("unexpected answer: %%d, %%d bytes\n", status, #body)) end
  end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + (t:get("bad") or 0) end
  io.write(string.format("CHECKED %%d BAD %%d\n", summary.requests, n))
end
`, r.path, r.header, r.value, r.min, r.vary)
	f, err := os.CreateTemp("", "benchscale-*.lua")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(script); err != nil {
		return err
	}
	f.Close()
	var rs []result
	var loads []string
	for run := range 3 {
		loads = append(loads, loadAverage())
		var profiled chan error
		if run == 1 && profileDir != "" {
			profiled = profile("scale "+r.name, d)
		}
		cpu := processCPU(portalPID)
		res, err := loadScript(wrk, base, f.Name(), threads, conns, d)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		if used := processCPU(portalPID) - cpu; used > 0 && res.requests > 0 {
			res.cpuUs = float64(used.Microseconds()) / float64(res.requests)
		}
		if profiled != nil {
			if err := <-profiled; err != nil {
				return fmt.Errorf("%s: profile: %w", r.name, err)
			}
		}
		rs = append(rs, res)
	}
	fmt.Printf("%-44s %s %7.0f  %s\n", r.name, spread(rs), medianCPU(rs), strings.Join(loads, " "))
	if sameCPU {
		return r.measureSameCPU(wrk, base, time.Duration(medianCPU(rs)*float64(time.Microsecond)), threads, conns, d)
	}
	return nil
}

// measureSameCPU drives, as the rows' -same-cpu does, a static server that
// spends cpu on each request before it sends the row's first page.
func (r scaleRow) measureSameCPU(wrk, base string, cpu time.Duration, threads, conns int, d time.Duration) error {
	req, _ := http.NewRequest(http.MethodGet, base+r.path+r.first, nil)
	req.Header.Set(r.header, r.value)
	req.Header.Set("Accept-Encoding", "identity")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || len(body) < r.min {
		return fmt.Errorf("%s: the page for -same-cpu: %d, %d bytes (%v)", r.name, res.StatusCode, len(body), err)
	}
	// The rows' static script, with the size this page has.
	script, err := writeScript(&sessions{cookies: []string{"none=1"}, tokens: []string{"none"}}, row{path: r.path + r.first, encoding: "identity"}, len(body), len(body), "")
	if err != nil {
		return err
	}
	defer os.Remove(script)
	first := sample{body: body, ctype: res.Header.Get("Content-Type")}
	runs, loads, err := driveSpending(wrk, first, script, cpu, threads, conns, d)
	if err != nil {
		return fmt.Errorf("%s (same CPU): %w", r.name, err)
	}
	fmt.Printf("%-44s %s %7.0f  %s\n", "  static, same CPU", spread(runs), float64(cpu.Microseconds()), strings.Join(loads, " "))
	return nil
}
