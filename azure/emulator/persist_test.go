package emulator_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"

	"github.com/instancehub/instancehub/azure/emulator"
)

// TestResumeAfterRestart: a process that restarts mid-operation resumes its
// pollers from resume tokens against a new emulator on the same file.
func TestResumeAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud.db")
	opts := emulator.Options{Path: path, Latency: 0.05} // create 400 ms, start 200 ms
	k := newKit(t, opts)
	nicID := k.network("ws1", "eastus")
	create := try(k.vms.BeginCreateOrUpdate(ctx, k.rg, "ws1", vmParams("ws1", "eastus", "Standard_DS2_v2", nicID), nil)).must(t)
	token := try(create.ResumeToken()).must(t)
	k = restart(t, k, opts)

	create = try(k.vms.BeginCreateOrUpdate(ctx, k.rg, "ws1", armcompute.VirtualMachine{},
		&armcompute.VirtualMachinesClientBeginCreateOrUpdateOptions{ResumeToken: token})).must(t)
	if create.Done() {
		t.Fatal("the create should still be running after the restart")
	}
	vm := try(await(create, nil)).must(t)
	if *vm.Properties.ProvisioningState != "Succeeded" || *vm.Name != "ws1" {
		t.Errorf("resumed create ended with %s %s", *vm.Name, *vm.Properties.ProvisioningState)
	}

	try(await(k.vms.BeginDeallocate(ctx, k.rg, "ws1", nil))).must(t)
	start := try(k.vms.BeginStart(ctx, k.rg, "ws1", nil)).must(t)
	token = try(start.ResumeToken()).must(t)
	k = restart(t, k, opts)
	if got := k.states("ws1"); got != "updating/starting" {
		t.Errorf("after restart: %s", got)
	}
	try(await(k.vms.BeginStart(ctx, k.rg, "ws1", &armcompute.VirtualMachinesClientBeginStartOptions{ResumeToken: token}))).must(t)
	if got := k.states("ws1"); got != "succeeded/running" {
		t.Errorf("after resumed start: %s", got)
	}
}

// restart closes the kit's emulator and opens a new one on the same file.
func restart(t *testing.T, k *kit, opts emulator.Options) *kit {
	t.Helper()
	if err := k.e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.vms.Get(ctx, k.rg, "ws1", nil); err == nil {
		t.Fatal("a closed emulator should refuse requests")
	}
	return newKit(t, opts)
}

// TestPersistence: VMs, their network and finished deletions outlive the
// emulator; a deleted VM's name can be used again.
func TestPersistence(t *testing.T) {
	opts := emulator.Options{Path: filepath.Join(t.TempDir(), "cloud.db")}
	k := newKit(t, opts)
	k.workstation("keep", "westeurope", "Standard_E4s_v3")
	k.workstation("gone", "westeurope", "Standard_E4s_v3")
	del := try(k.vms.BeginDelete(ctx, k.rg, "gone", nil)).must(t)
	token := try(del.ResumeToken()).must(t)
	k = restart(t, k, opts)

	try(await(k.vms.BeginDelete(ctx, k.rg, "gone", &armcompute.VirtualMachinesClientBeginDeleteOptions{ResumeToken: token}))).must(t)
	if got := k.states("keep"); got != "succeeded/running" {
		t.Errorf("kept VM: %s", got)
	}
	nic := try(k.nics.Get(ctx, k.rg, "keep-nic", nil)).must(t)
	if ip := *nic.Properties.IPConfigurations[0].Properties.PrivateIPAddress; ip != "10.2.1.4" {
		t.Errorf("kept NIC address %s", ip)
	}
	if got := k.usageOf("westeurope", "standardESv3Family"); got != 4 {
		t.Errorf("usage after restart %d, want 4", got)
	}
	if _, err := k.nics.Get(ctx, k.rg, "gone-nic", nil); err == nil {
		t.Error("the deleted VM's NIC (deleteOption Delete) should be gone")
	}
	k.workstation("gone", "westeurope", "Standard_E4s_v3")
}

// TestOpenRefusesOtherResourceGroup: a file belongs to one resource group.
func TestOpenRefusesOtherResourceGroup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud.db")
	e := try(emulator.Open(emulator.Options{Path: path})).must(t)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := emulator.Open(emulator.Options{Path: path, ResourceGroup: "other"}); err == nil {
		t.Error("want an error opening another resource group's file")
	}
	if _, err := emulator.Open(emulator.Options{Quota: map[string]map[string]int{"mars": {"cores": 1}}}); err == nil {
		t.Error("want an error for quota of an unknown region")
	}
}

// TestImportJSON: a cloud an older emulator kept in one JSON file is read
// into the database once, every resource as it was, and the file is kept
// aside under another name.
func TestImportJSON(t *testing.T) {
	dir := t.TempDir()
	legacy := filepath.Join(dir, "emulator.json")
	b := try(os.ReadFile("testdata/v1.json")).must(t)
	if err := os.WriteFile(legacy, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// The fixture was written on 2026-11-30 at 03:05 and holds a deletion of
	// that minute: the cloud's clock reads an hour later, on any day the
	// test runs, and moves only when the test says.
	clock := &fakeClock{now: time.Date(2026, 11, 30, 4, 5, 0, 0, time.UTC)}
	opts := emulator.Options{Path: filepath.Join(dir, "emulator.db"), Import: legacy, Now: clock.Now}
	k := newKit(t, opts)
	if _, err := os.Stat(legacy + ".imported"); err != nil {
		t.Errorf("the JSON file should be kept as .imported: %v", err)
	}
	if v := olderBuildReads(t, legacy); v != 2 {
		t.Errorf("the marker in the JSON file's place has format version %d, want 2", v)
	}
	if err := k.e.Close(); err != nil {
		t.Fatal(err)
	}
	k = newKit(t, emulator.Options{Path: opts.Path, Now: clock.Now}) // the database alone
	for vm, want := range map[string]string{"keep": "succeeded/running", "stopped": "succeeded/deallocated"} {
		if got := k.states(vm); got != want {
			t.Errorf("%s: %s, want %s", vm, got, want)
		}
	}
	if ip := k.privateIP("keep-nic"); ip != "10.2.1.4" {
		t.Errorf("keep-nic address %s", ip)
	}
	if got := k.usageOf("westeurope", "standardESv3Family"); got != 8 {
		t.Errorf("usage %d, want 8: two E4s_v3", got)
	}
	if _, found := k.e.RequestBody("virtualMachines", "gone"); !found {
		t.Error("the deleted VM's request should be kept with its tombstone")
	}
	kept := try(k.pips.Get(ctx, k.rg, "keep-ip", nil)).must(t)
	fresh := try(await(k.pips.BeginCreateOrUpdate(ctx, k.rg, "fresh-ip", pipParams("westeurope"), nil))).must(t)
	if *fresh.Properties.IPAddress == *kept.Properties.IPAddress || *fresh.Properties.IPAddress == "" {
		t.Errorf("a new public IP got %s: addresses handed out before the import are not given again", *fresh.Properties.IPAddress)
	}
	// A day after its deletion, a tombstone is forgotten by the cloud's
	// clock, not the wall's.
	clock.Add(24 * time.Hour)
	k.states("keep") // any request brings the cloud up to its clock
	if _, found := k.e.RequestBody("virtualMachines", "gone"); found {
		t.Error("a tombstone over a day old by the cloud's clock should be forgotten")
	}
	k.workstation("gone", "westeurope", "Standard_E4s_v3")
}

// olderBuildReads reads the file at path as the builds that kept the cloud
// in it did (format version 1: its version and resources) and returns its
// format version, which those builds refused unless it was 1.
func olderBuildReads(t *testing.T, path string) int {
	t.Helper()
	var old struct {
		Version    int                        `json:"version"`
		Resources  map[string]json.RawMessage `json:"resources"`
		Tombstones map[string]json.RawMessage `json:"tombstones"`
	}
	if err := json.Unmarshal(try(os.ReadFile(path)).must(t), &old); err != nil {
		t.Fatalf("an older build cannot read %s at all: %v", path, err)
	}
	return old.Version
}

// TestAnOlderBuildFindsTheCloudMoved: an emulator that keeps its cloud in
// its database puts a marker where the builds before kept the cloud in
// JSON, which those builds refuse (format version 2) instead of starting
// an empty cloud there; it opens its own cloud past the marker, and
// refuses to start an empty one when its database was lost.
func TestAnOlderBuildFindsTheCloudMoved(t *testing.T) {
	dir := t.TempDir()
	legacy := filepath.Join(dir, "emulator.json")
	opts := emulator.Options{Path: filepath.Join(dir, "emulator.db"), Import: legacy}
	k := newKit(t, opts)
	k.workstation("ws1", "eastus", "Standard_DS2_v2")
	if v := olderBuildReads(t, legacy); v != 2 {
		t.Fatalf("an older build would find format version %d in %s, and start an empty cloud over it", v, legacy)
	}
	var marker emulator.MovedMarker
	if err := json.Unmarshal(try(os.ReadFile(legacy)).must(t), &marker); err != nil || marker.MovedTo != "emulator.db" || marker.Note == "" {
		t.Errorf("marker %+v, %v", marker, err)
	}
	if err := k.e.Close(); err != nil {
		t.Fatal(err)
	}

	k = newKit(t, opts)
	if got := k.states("ws1"); got != "succeeded/running" {
		t.Errorf("reopened past the marker: ws1 %s", got)
	}
	if err := k.e.Close(); err != nil {
		t.Fatal(err)
	}

	for _, f := range []string{opts.Path, opts.Path + "-wal", opts.Path + "-shm"} {
		_ = os.Remove(f)
	}
	_, err := emulator.Open(opts)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("emulator.json says this directory's cloud is kept in")) {
		t.Errorf("open with the cloud's database lost: %v", err)
	}
}

// fakeClock moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// TestKilledMidWay: a process killed without closing its emulator loses
// nothing any client was answered: the VMs, their network, a create and a
// deallocation in flight all come back, and the pollers resume from their
// tokens.
func TestKilledMidWay(t *testing.T) {
	if path := os.Getenv("EMULATOR_KILLED_PATH"); path != "" {
		runUntilKilled(t, path)
		return
	}
	path := filepath.Join(t.TempDir(), "cloud.db")
	child := exec.Command(os.Args[0], "-test.run=^TestKilledMidWay$")
	child.Env = append(os.Environ(), "EMULATOR_KILLED_PATH="+path)
	out := try(child.StdoutPipe()).must(t)
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var tokens map[string]string
	lines := bufio.NewScanner(out)
	for tokens == nil && lines.Scan() {
		if rest, found := bytes.CutPrefix(lines.Bytes(), []byte("tokens ")); found {
			_ = json.Unmarshal(rest, &tokens)
		}
	}
	if tokens == nil {
		_ = child.Process.Kill()
		t.Fatalf("the child said no tokens: %v", lines.Err())
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL: no Close, no last save
		t.Fatal(err)
	}
	_ = child.Wait()

	k := newKit(t, emulator.Options{Path: path, Latency: killedLatency})
	if got := k.states("ws1"); got != "updating/deallocating" && got != "succeeded/deallocated" {
		t.Errorf("ws1 after the kill: %s", got)
	}
	try(await(k.vms.BeginDeallocate(ctx, k.rg, "ws1", &armcompute.VirtualMachinesClientBeginDeallocateOptions{ResumeToken: tokens["deallocate"]}))).must(t)
	vm := try(await(k.vms.BeginCreateOrUpdate(ctx, k.rg, "ws2", armcompute.VirtualMachine{},
		&armcompute.VirtualMachinesClientBeginCreateOrUpdateOptions{ResumeToken: tokens["create"]}))).must(t)
	if *vm.Properties.ProvisioningState != "Succeeded" {
		t.Errorf("ws2's resumed create ended %s", *vm.Properties.ProvisioningState)
	}
	if got := k.states("ws1") + " " + k.states("ws2"); got != "succeeded/deallocated succeeded/running" {
		t.Errorf("after the resumed pollers: %s", got)
	}
	if ip := k.privateIP("ws2-nic"); ip != "10.1.1.5" {
		t.Errorf("ws2-nic address %s, want 10.1.1.5 (ws1-nic holds .4)", ip)
	}
	if got := k.usageOf("eastus", "standardDSv2Family"); got != 2 {
		t.Errorf("usage %d, want 2", got)
	}
	if _, found := k.e.RequestBody("virtualMachines", "ws2"); !found {
		t.Error("ws2's request was lost")
	}
}

// killedLatency makes operations last long enough to be in flight at the kill.
const killedLatency = 0.05

// runUntilKilled is the child of TestKilledMidWay: it makes ws1, begins a
// create of ws2 and a deallocation of ws1, says their resume tokens and
// waits to be killed.
func runUntilKilled(t *testing.T, path string) {
	e := try(emulator.Open(emulator.Options{Path: path, Latency: killedLatency})).must(t)
	k := kitFor(t, e)
	k.workstation("ws1", "eastus", "Standard_DS1_v2")
	nicID := k.network("ws2", "eastus")
	create := try(k.vms.BeginCreateOrUpdate(ctx, k.rg, "ws2", vmParams("ws2", "eastus", "Standard_DS1_v2", nicID), nil)).must(t)
	deallocate := try(k.vms.BeginDeallocate(ctx, k.rg, "ws1", nil)).must(t)
	tokens := map[string]string{"create": try(create.ResumeToken()).must(t), "deallocate": try(deallocate.ResumeToken()).must(t)}
	fmt.Printf("tokens %s\n", mustMarshal(t, tokens))
	time.Sleep(time.Minute)
	t.Fatal("not killed")
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	return try(json.Marshal(v)).must(t)
}

// TestADatabaseOfFormatVersion2IsMoved: a cloud kept by the emulator of
// format version 2 (testdata/v2.db, written by that build: its bodies in
// the resources' rows) opens with every resource as it was, the bodies in
// tables of their own; a build of version 2 then refuses it, rather than
// misread it.
func TestADatabaseOfFormatVersion2IsMoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emulator.db")
	if err := os.WriteFile(path, try(os.ReadFile("testdata/v2.db")).must(t), 0o600); err != nil {
		t.Fatal(err)
	}
	// The fixture was written on 2026-12-07 at 08:53 and holds a deletion
	// of that minute: the cloud's clock reads an hour later, on any day the
	// test runs.
	clock := &fakeClock{now: time.Date(2026, 12, 7, 9, 54, 0, 0, time.UTC)}
	k := newKit(t, emulator.Options{Path: path, Now: clock.Now})
	for vm, want := range map[string]string{"keep": "succeeded/running", "stopped": "succeeded/deallocated"} {
		if got := k.states(vm); got != want {
			t.Errorf("%s: %s, want %s", vm, got, want)
		}
	}
	vm := try(k.vms.Get(ctx, k.rg, "keep", nil)).must(t)
	if *vm.Properties.HardwareProfile.VMSize != "Standard_E4s_v3" || *vm.Properties.OSProfile.ComputerName != "keep" {
		t.Errorf("keep read back as %s named %s", *vm.Properties.HardwareProfile.VMSize, *vm.Properties.OSProfile.ComputerName)
	}
	if ip := k.privateIP("keep-nic"); ip != "10.2.1.4" {
		t.Errorf("keep-nic address %s, want 10.2.1.4", ip)
	}
	if sent, found := k.e.RequestBody("virtualMachines", "gone"); !found || !bytes.Contains(sent, []byte(`"Standard_DS2_v2"`)) {
		t.Errorf("the deleted VM's request was not kept with its tombstone: %s", sent)
	}
	if sent, found := k.e.RequestBody("virtualNetworks", "vnet-eastus"); found && len(sent) > 0 {
		t.Errorf("a network no one sent has a request: %s", sent)
	}
	if got := k.usageOf("westeurope", "standardESv3Family"); got != 8 {
		t.Errorf("usage %d, want 8: two E4s_v3", got)
	}
	// What comes after is kept as any cloud's: a VM made, one deleted.
	k.workstation("fresh", "eastus", "Standard_DS2_v2")
	try(await(k.vms.BeginDelete(ctx, k.rg, "stopped", nil))).must(t)
	if err := k.e.Close(); err != nil {
		t.Fatal(err)
	}
	k = newKit(t, emulator.Options{Path: path, Now: clock.Now})
	if got := k.states("fresh"); got != "succeeded/running" {
		t.Errorf("fresh: %s after a restart", got)
	}
	if _, err := k.vms.Get(ctx, k.rg, "stopped", nil); err == nil {
		t.Error("the VM deleted after the move is back after a restart")
	}
	if err := k.e.Close(); err != nil {
		t.Fatal(err)
	}
	db := try(sql.Open("sqlite", path)).must(t)
	defer db.Close()
	var version, columns int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != 3 {
		t.Errorf("format version %d (%v), want 3", version, err)
	}
	if err := db.QueryRow("SELECT count(*) FROM pragma_table_info('resources') WHERE name IN ('body', 'sent')").Scan(&columns); err != nil || columns != 0 {
		t.Errorf("resources keep %d columns of bodies (%v)", columns, err)
	}
}
