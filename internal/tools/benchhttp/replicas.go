package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/instancehub/instancehub/internal/pgtest"
)

// The replicas benchmark (make bench-replicas): one portal on SQLite, then
// one, two and three replicas on PostgreSQL, in the same run, each with a
// fresh database and its own emulator process at latency 0. For each, it
// times n creates through the form, sent by 8 clients at once over the
// portals in turn, drives the list page of every portal with wrk at once
// (the connections shared out), and then, for two and three replicas,
// kills one with SIGKILL while its creates run (emulator at latency 1)
// and times the takeover at the default lease.

type replicaSetup struct {
	name     string
	portals  int
	postgres bool
}

func runReplicas(bin, wrk string, n, threads, conns int, duration time.Duration) error {
	defer pgtest.Stop()
	setups := []replicaSetup{{"SQLite, 1 portal", 1, false}, {"PostgreSQL, 1", 1, true}, {"PostgreSQL, 2", 2, true}, {"PostgreSQL, 3", 3, true}}
	fmt.Printf("%d creates through the form (8 clients), then wrk -c%d -d%s on the list page (50 of %d) of every portal at once\n",
		n, conns, duration, n)
	fmt.Printf("%-18s %10s %12s %10s %9s\n", "", "creates/s", "all running", "list/s", "p99")
	for _, setup := range setups {
		if err := benchSetup(bin, wrk, setup, n, threads, conns, duration); err != nil {
			return fmt.Errorf("%s: %w", setup.name, err)
		}
	}
	fmt.Println()
	for _, k := range []int{2, 3} {
		if err := benchTakeover(bin, k); err != nil {
			return fmt.Errorf("takeover with %d replicas: %w", k, err)
		}
	}
	return nil
}

// cluster is a set of portals on one store, with their emulator.
type cluster struct {
	portals []*portal
	emu     *exec.Cmd
	drop    func()
	dir     string
}

func (c *cluster) close() {
	for _, p := range c.portals {
		if p != nil {
			p.stop()
		}
	}
	if c.emu != nil {
		stopProcess(c.emu)
	}
	if c.drop != nil {
		c.drop()
	}
	os.RemoveAll(c.dir)
}

// startCluster starts the emulator at latency, a database, and k portals
// on it with extra flags; on SQLite, one portal.
func startCluster(bin string, k int, postgres bool, n int, latency float64, extra ...string) (*cluster, error) {
	dir, err := os.MkdirTemp("", "instancehub-replicas-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir}
	emu, flags, err := startEmulator(bin, filepath.Join(dir, "emulator"), n, latency)
	if err != nil {
		c.close()
		return nil, err
	}
	c.emu = emu
	if postgres {
		database, drop, err := pgtest.CreateDatabase()
		if err != nil {
			c.close()
			return nil, err
		}
		c.drop = drop
		flags = append(flags, "--database", database)
	}
	flags = append(flags, extra...)
	c.portals = make([]*portal, k)
	errs := make([]error, k)
	var wg sync.WaitGroup
	for i := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pdir := filepath.Join(dir, fmt.Sprintf("portal%d", i))
			if errs[i] = os.MkdirAll(pdir, 0o750); errs[i] == nil {
				c.portals[i], errs[i] = startPortal(bin, pdir, n, flags...)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func benchSetup(bin, wrk string, setup replicaSetup, n, threads, conns int, duration time.Duration) error {
	c, err := startCluster(bin, setup.portals, setup.postgres, n, 0)
	if err != nil {
		return err
	}
	defer c.close()
	client, err := signIn(c.portals[0].base)
	if err != nil {
		return err
	}
	// The session cookie works on every portal of the database; the
	// client's jar sends it to each (cookies ignore ports).
	cookie := cookieHeader(client, c.portals[0].base)
	token, err := formToken(client, c.portals[0].base+"/instances/new")
	if err != nil {
		return err
	}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				base := c.portals[i%len(c.portals)].base
				res, err := post(client, base, "/instances", createForm(token, fmt.Sprintf("load%05d", i), regions[i%len(regions)]))
				if err == nil && res.StatusCode != http.StatusSeeOther {
					err = fmt.Errorf("create %d: %s", i, res.Status)
				}
				if err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	created := time.Since(start)
	if err := waitRunning(client, c.portals[0].base, fmt.Sprintf("load%05d", n)); err != nil {
		return err
	}
	running := time.Since(start)

	// wrk on every portal at once, the connections shared out.
	results := make([]result, len(c.portals))
	for i, p := range c.portals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			per := max(1, conns/len(c.portals))
			results[i], errs[i] = load(wrk, p.base+"/instances?page=3", "Cookie: "+cookie, max(1, threads/len(c.portals)), per, duration)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs[:len(c.portals)]...); err != nil {
		return err
	}
	var rps float64
	var p99 time.Duration
	var each []string
	for _, r := range results {
		rps += r.rps
		if d, err := time.ParseDuration(r.p99); err == nil && d > p99 {
			p99 = d
		}
		each = append(each, fmt.Sprintf("%.0f/s p99 %s", r.rps, r.p99))
	}
	fmt.Printf("%-18s %10.0f %12s %10.0f %9s", setup.name, float64(n)/created.Seconds(), running.Round(time.Millisecond), rps, p99)
	if len(results) > 1 {
		fmt.Printf("   each: %s", strings.Join(each, ", "))
		// One wrk on one replica, as on one portal: what the replicas do
		// to each other, apart from what several wrks do to the cores.
		alone, err := load(wrk, c.portals[0].base+"/instances?page=3", "Cookie: "+cookie, threads, conns, duration)
		if err != nil {
			return err
		}
		fmt.Printf("; one wrk on the first alone: %.0f/s p99 %s", alone.rps, alone.p99)
	}
	fmt.Println()
	return nil
}

var resumedLine = regexp.MustCompile(`(?m)^time=(\S+) .*msg="resuming operation"`)

// benchTakeover: k replicas at the default lease, the emulator at latency
// 1 (a create takes about 11 s); six creates through the last replica,
// which is then killed; the time from the kill to the first and the last
// of its operations resumed by a survivor.
func benchTakeover(bin string, k int) error {
	c, err := startCluster(bin, k, true, 100, 1)
	if err != nil {
		return err
	}
	defer c.close()
	victim := c.portals[k-1]
	client, err := signIn(victim.base)
	if err != nil {
		return err
	}
	token, err := formToken(client, victim.base+"/instances/new")
	if err != nil {
		return err
	}
	const creates = 6
	for i := range creates {
		if _, err := post(client, victim.base, "/instances", createForm(token, fmt.Sprintf("takeover%d", i), "eastus")); err != nil {
			return err
		}
	}
	_ = victim.cmd.Process.Kill()
	killed := time.Now()
	_ = victim.cmd.Wait()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		var times []time.Time
		for _, p := range c.portals[:k-1] {
			b, _ := os.ReadFile(p.log)
			for _, m := range resumedLine.FindAllSubmatch(b, -1) {
				if at, err := time.Parse(time.RFC3339Nano, string(m[1])); err == nil {
					times = append(times, at)
				}
			}
		}
		if len(times) >= creates {
			first, last := slices.MinFunc(times, time.Time.Compare), slices.MaxFunc(times, time.Time.Compare)
			fmt.Printf("takeover, %d replicas, lease 15 s: %d creates of the killed one resumed %s (first) to %s (last) after SIGKILL\n",
				k, len(times), first.Sub(killed).Round(time.Millisecond), last.Sub(killed).Round(time.Millisecond))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d operations taken over 2 minutes after the kill", len(times), creates)
		}
	}
}
