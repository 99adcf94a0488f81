package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/client"
	"github.com/instancehub/instancehub/internal/pgtest"
)

// apiCall is a request to a portal's API with a token; it returns the
// status and the body.
func apiCall(t *testing.T, method, url, token, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// cloudVMs lists the emulated subscription's VMs as ARM answers, every
// page: the cloud's own count, which the portals' records cannot hide.
func cloudVMs(ctx context.Context, emu *emulator.Remote, url string) ([]string, error) {
	next := url + "/subscriptions/" + emu.SubscriptionID + "/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01"
	var names []string
	for next != "" {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		req.Header.Set(emulator.APINameHeader, "VirtualMachinesClient.NewListAllPager")
		resp, err := emu.HTTPClient().Do(req)
		if err != nil {
			return nil, err
		}
		var page struct {
			Value []struct {
				Name string `json:"name"`
			} `json:"value"`
			NextLink string `json:"nextLink"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("list VMs: %s, %v", resp.Status, err)
		}
		for _, vm := range page.Value {
			names = append(names, vm.Name)
		}
		next = page.NextLink
	}
	return names, nil
}

// TestFailoverOfReplicaProcesses: three portal processes on one PostgreSQL
// database and one emulator process, on loopback ports, started together.
// 100 creates in 25 races at a rising workspace limit, spread over the
// replicas: exactly two of each round's four are accepted, 50 in all, and
// with them 50 operations in flight (a create takes about 11 s at
// realistic latency). Then one replica is killed with SIGKILL. Every
// operation ends Succeeded with its instance Running; the operations of
// the dead replica are each taken over by exactly one survivor, within a
// lease (3 s here) and the tenth of one the survivors wait between looks;
// the survivors' own are never taken over, so no operation is driven
// twice; the cloud never holds more VMs than the limit allows, and ends
// with exactly one per instance.
func TestFailoverOfReplicaProcesses(t *testing.T) {
	ctx := context.Background()
	database := pgtest.NewDatabase(t)
	emuDir := t.TempDir()
	emu := startProcess(t, "emulator", "--addr", "127.0.0.1:0", "--data", emuDir, "--emulator-latency", "1",
		"--emulator-quota", "eastus/standardDSv2Family=1000,eastus/cores=1000")
	ca := emuDir + "/emulator-cert.pem"
	remote, err := emulator.Dial(ctx, emu.url, ca)
	if err != nil {
		t.Fatal(err)
	}

	const lease = 3 * time.Second
	replicas := make([]*process, 3)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replicas[i] = startProcess(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--database", database,
				"--emulator-url", emu.url, "--emulator-ca", ca, "--lease", lease.String(), "--sync-interval", "2s",
				"--admin-email", "owner@example.com")
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var token bytes.Buffer
	err = run(ctx, []string{"tokens", "create", "--database", database, "--email", "owner@example.com", "--name", "failover"},
		nil, &token, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(token.String())
	setLimit := func(vcpus int) {
		t.Helper()
		if status, body := apiCall(t, "PUT", replicas[0].url+"/api/v1/quotas/eastus/standardDSv2Family", secret,
			"application/json", fmt.Sprintf(`{"limit": %d}`, vcpus)); status != http.StatusOK {
			t.Fatalf("set the workspace limit: %d %s", status, body)
		}
	}

	// The cloud, watched from outside the portals all along.
	sampling, stopSampling := context.WithCancel(ctx)
	var most int
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for sampling.Err() == nil {
			if vms, err := cloudVMs(sampling, remote, emu.url); err == nil && len(vms) > most {
				most = len(vms)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	// 100 creates in 25 races at the limit: each round raises it by two
	// Standard_DS2_v2 (2 vCPUs each) and sends four creates at once,
	// spread over the replicas; exactly two of each round are made.
	const rounds, perRound, limit = 25, 4, 25 * 2 * 2
	type outcome struct {
		replica         int
		status          int
		quota, atCommit bool
	}
	outcomes := make([]outcome, rounds*perRound)
	for round := range rounds {
		setLimit((round + 1) * 2 * 2)
		for i := round * perRound; i < (round+1)*perRound; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := i % len(replicas)
				file := fmt.Sprintf("name: fo%03d\ntype: computeinstance\nsize: Standard_DS2_v2\nlocation: eastus\n", i)
				status, body := apiCall(t, "POST", replicas[r].url+"/api/v1/computes", secret, "application/yaml", file)
				var answer struct {
					Error struct {
						Message string
						Details []struct{ Target, Message string }
					}
				}
				_ = json.Unmarshal(body, &answer)
				o := outcome{replica: r, status: status}
				// A create over the limit is refused as the form refuses
				// it, on the size: by the check before the write, or by the
				// one in the write's transaction when another replica took
				// the last vCPUs between the two.
				for _, d := range answer.Error.Details {
					if d.Target == "size" && strings.Contains(d.Message, "of the workspace's limit of") {
						o.quota, o.atCommit = true, strings.Contains(answer.Error.Message, "vCPUs requested")
					}
				}
				outcomes[i] = o
			}()
		}
		wg.Wait()
	}
	const victim = 1
	killed := time.Now()
	replicas[victim].kill(t)

	accepted := map[string]int{} // name: the replica that accepted it
	refused, atCommit := 0, 0
	for i, o := range outcomes {
		switch {
		case o.status == http.StatusAccepted:
			accepted[fmt.Sprintf("fo%03d", i)] = o.replica
		case o.status == http.StatusUnprocessableEntity && o.quota:
			refused++
			if o.atCommit {
				atCommit++
			}
		default:
			t.Errorf("create fo%03d through replica %d: %d", i, o.replica, o.status)
		}
	}
	for round := range rounds {
		made := 0
		for _, o := range outcomes[round*perRound : (round+1)*perRound] {
			if o.status == http.StatusAccepted {
				made++
			}
		}
		if made != 2 {
			t.Errorf("round %d made %d instances; the limit allowed 2 more", round, made)
		}
	}
	if len(accepted) != 50 || refused != 50 {
		t.Fatalf("accepted %d, refused for quota %d; want 50 and 50", len(accepted), refused)
	}
	onVictim := 0
	for _, r := range accepted {
		if r == victim {
			onVictim++
		}
	}
	if onVictim == 0 {
		t.Fatal("the killed replica had no operation in flight")
	}

	// Every operation ends, through the survivors.
	survivor := replicas[0]
	type compute struct {
		Name       string
		Properties struct {
			ProvisioningState string
			Properties        struct {
				State         string
				LastOperation *struct{ OperationStatus string }
			}
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	var list struct{ Value []compute }
	for {
		status, body := apiCall(t, "GET", survivor.url+"/api/v1/computes", secret, "", "")
		list.Value = nil
		if status == http.StatusOK && json.Unmarshal(body, &list) == nil {
			running := 0
			for _, c := range list.Value {
				if c.Properties.Properties.State == "Running" {
					running++
				}
			}
			if running == len(accepted) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every instance is Running 90 s on: %d %s", status, body)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(list.Value) != len(accepted) {
		t.Errorf("%d instances listed, want %d", len(list.Value), len(accepted))
	}
	api := client.New(survivor.url, secret)
	for name := range accepted {
		ops, err := api.Operations(context.Background(), name)
		if err != nil || len(ops) != 1 || ops[0].Name != "Create" || ops[0].Status != "Succeeded" {
			t.Errorf("operations of %s: %+v, %v", name, ops, err)
		}
	}

	// Each of the dead replica's operations was resumed by one survivor,
	// and no survivor's own by anyone.
	resumed := map[string]int{}
	var first time.Time
	resumedLine := regexp.MustCompile(`^time=(\S+) .*msg="resuming operation" .*instance=(fo\d+)`)
	for i, r := range replicas {
		if i == victim {
			continue
		}
		for _, line := range strings.Split(r.logs.String(), "\n") {
			if m := resumedLine.FindStringSubmatch(line); m != nil {
				resumed[m[2]]++
				if at, err := time.Parse(time.RFC3339Nano, m[1]); err == nil && (first.IsZero() || at.Before(first)) {
					first = at
				}
			}
		}
	}
	for name, r := range accepted {
		want := 0
		if r == victim {
			want = 1
		}
		if resumed[name] != want {
			t.Errorf("%s, accepted by replica %d, was resumed %d times by the survivors; want %d", name, r, resumed[name], want)
		}
	}
	takeover := first.Sub(killed)
	if first.IsZero() || takeover > lease+lease/10+2*time.Second {
		t.Errorf("the first takeover came %s after the kill; the lease is %s", takeover, lease)
	}
	t.Logf("%d creates refused for quota, %d of them by the check in the write's transaction", refused, atCommit)
	t.Logf("%d operations of the killed replica taken over, the first %s after SIGKILL (lease %s)", onVictim, takeover.Round(time.Millisecond), lease)

	stopSampling()
	<-sampled
	vms, err := cloudVMs(ctx, remote, emu.url)
	if err != nil || len(vms) != len(accepted) {
		t.Errorf("the cloud holds %d VMs, want %d (%v)", len(vms), len(accepted), err)
	}
	if most > limit/2 {
		t.Errorf("the cloud held %d VMs at one time; the workspace limit allows %d", most, limit/2)
	}
}
