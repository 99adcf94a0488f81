package amlyaml_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/amlyaml"
)

// TestRoundTrip writes an instance with every key set and reads it back
// into the request that makes the same instance.
func TestRoundTrip(t *testing.T) {
	inst := &instancehub.Instance{
		Name: "vision-box", Region: "westeurope", VMSize: "Standard_NC6s_v3",
		SSHEnabled: true, SSHPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvlUwIhDOsj5ZkeeR8pSMeNgVQSjlMHbTxdLWIVrFbh ana@laptop",
		VirtualNetwork: "ml-vnet", Subnet: "instances",
		Description:  "true", // a string that reads as a boolean unless quoted
		Tags:         map[string]string{"team": "vision", "cost": "4711", "": "no name", "multi\nline": "a: b # c"},
		Identity:     instancehub.ManagedIdentity{SystemAssigned: true, UserAssigned: []string{userIdentity, userIdentity + "2"}},
		IdleShutdown: 90 * time.Minute,
		Setup: instancehub.SetupScripts{
			Creation: &instancehub.SetupScript{Command: "#!/bin/bash\nset -e\npip install --user torch\n", Timeout: 30 * time.Minute},
			Startup:  &instancehub.SetupScript{Path: "scripts/start.sh", Arguments: "--gpu 1", Timeout: 15 * time.Minute},
		},
	}
	schedules := []*instancehub.Schedule{
		{Action: instancehub.OpStart, Kind: instancehub.ScheduleRecurrence, Hours: []int{8, 18}, Minutes: []int{0, 30},
			WeekDays: []time.Weekday{time.Monday, time.Friday, time.Sunday}, TimeZone: "Europe/Berlin"},
		{Action: instancehub.OpStop, Kind: instancehub.ScheduleCron, Cron: "0 19 * * 1-5", TimeZone: "W. Europe Standard Time"},
	}
	data, err := amlyaml.Encode(inst, schedules, "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	got, err := amlyaml.Decode(data)
	if err != nil {
		t.Fatalf("Decode:\n%s\n%v %v", data, err, instancehub.ErrorFields(err))
	}
	want := amlyaml.File{IdleSet: true, LocationSet: true, Request: instancehub.CreateRequest{
		Name: inst.Name, Region: inst.Region, VMSize: inst.VMSize, SSHEnabled: true, SSHPublicKey: inst.SSHPublicKey,
		VirtualNetwork: inst.VirtualNetwork, Subnet: inst.Subnet, AssignTo: "ana@example.com",
		IdleShutdownOn: true, IdleMinutes: "90", Description: inst.Description, Tags: inst.Tags, Identity: inst.Identity,
		Setup: inst.Setup,
		Schedules: []instancehub.ScheduleRequest{
			{Action: "Start", Kind: "Recurrence", Times: "08:00, 08:30, 18:00, 18:30", WeekDays: []string{"Monday", "Friday", "Sunday"}, TimeZone: "Europe/Berlin"},
			{Action: "Stop", Kind: "Cron", Cron: "0 19 * * 1-5", TimeZone: "W. Europe Standard Time"},
		},
	}}
	got.Positions = nil
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("round trip of\n%s\n got %+v\nwant %+v", data, *got, want)
	}
	// The file is in the reference's order, and says only what is set.
	order := []string{"$schema:", "name:", "type:", "size:", "location:", "description:", "tags:", "ssh_public_access_enabled:",
		"ssh_settings:", "network_settings:", "idle_time_before_shutdown_minutes:", "create_on_behalf_of:", "identity:", "schedules:", "setup_scripts:"}
	at := 0
	for _, key := range order {
		i := strings.Index(string(data[at:]), "\n"+key)
		if key == "$schema:" && strings.HasPrefix(string(data), key) {
			i = 0
		}
		if i < 0 {
			t.Fatalf("%s missing or out of order in\n%s", key, data)
		}
		at += i
	}
}

// TestEncodeLeavesOutEmpty checks that a bare instance writes only its
// name, type, size and idle time (0: none, where leaving it out would mean
// the workspace's default), which read back as it was.
func TestEncodeLeavesOutEmpty(t *testing.T) {
	data, err := amlyaml.Encode(&instancehub.Instance{Name: "box", VMSize: instancehub.DefaultVMSize}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	want := "$schema: " + amlyaml.SchemaURL + "\nname: box\ntype: computeinstance\nsize: " + instancehub.DefaultVMSize +
		"\nidle_time_before_shutdown_minutes: 0\n"
	if string(data) != want {
		t.Errorf("got\n%s\nwant\n%s", data, want)
	}
	f, err := amlyaml.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !f.IdleSet || f.Request.IdleShutdownOn {
		t.Errorf("idle 0 read back as set %v, on %v; want set and off", f.IdleSet, f.Request.IdleShutdownOn)
	}
}

// TestEncodeRefusesBrokenSchedules checks that a schedule Decode could not
// read back is an internal error, not a file that fails later.
func TestEncodeRefusesBrokenSchedules(t *testing.T) {
	for _, s := range []*instancehub.Schedule{
		{Action: instancehub.OpDelete, Kind: instancehub.ScheduleCron, Cron: "0 18 * * *"},
		{Action: instancehub.OpStop, Kind: "Sometimes"},
		{Action: instancehub.OpStop, Kind: instancehub.ScheduleRecurrence, Hours: []int{8}, Minutes: []int{0}},
		{Action: instancehub.OpStop, Kind: instancehub.ScheduleRecurrence, Hours: []int{8}, Minutes: []int{0}, WeekDays: []time.Weekday{9}},
	} {
		if _, err := amlyaml.Encode(&instancehub.Instance{Name: "box"}, []*instancehub.Schedule{s}, ""); instancehub.ErrorCode(err) != instancehub.EINTERNAL {
			t.Errorf("%+v: %v", s, err)
		}
	}
}

// TestTestdataRoundTrips writes back what each accepted testdata file asks
// for and reads the same request.
func TestTestdataRoundTrips(t *testing.T) {
	names, _ := filepath.Glob("testdata/*.*")
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if f, err := amlyaml.Decode(data); err == nil {
			checkRoundTrip(t, f)
		}
	}
}

// checkRoundTrip makes the instance and schedules f asks for, encodes them
// and checks that they read back as f.
func checkRoundTrip(t *testing.T, f *amlyaml.File) {
	t.Helper()
	inst, schedules := instanceOf(f)
	data, err := amlyaml.Encode(inst, schedules, f.Request.AssignTo)
	if err != nil {
		t.Fatalf("Encode of %+v: %v", f, err)
	}
	again, err := amlyaml.Decode(data)
	if err != nil {
		t.Fatalf("Decode of\n%s\n%v %q", data, err, instancehub.ErrorFields(err))
	}
	// The file written is laid out anew: only where its keys are differs.
	want := *f
	again.Positions, want.Positions = nil, nil
	if !want.IdleSet {
		// The service gives such a create the workspace's default idle
		// shutdown, which the instance then shows; here that is none.
		want.IdleSet, want.Request.IdleMinutes = true, "0"
	}
	// A start_time the service accepts is one passed already: the
	// schedule applies from when it is made, as one without does, and the
	// instance keeps no start_time to write back.
	want.Request.Schedules = slices.Clone(want.Request.Schedules)
	for i := range want.Request.Schedules {
		want.Request.Schedules[i].StartTime = ""
	}
	if !reflect.DeepEqual(*again, want) {
		t.Fatalf("round trip through\n%s\n got %+v\nwant %+v", data, again, f)
	}
}

// instanceOf is the instance and schedules a create of f's request would
// make, as the service makes them.
func instanceOf(f *amlyaml.File) (*instancehub.Instance, []*instancehub.Schedule) {
	r := f.Request
	inst := &instancehub.Instance{
		Name: r.Name, Region: r.Region, VMSize: r.VMSize, SSHEnabled: r.SSHEnabled, SSHPublicKey: r.SSHPublicKey,
		VirtualNetwork: r.VirtualNetwork, Subnet: r.Subnet, Description: r.Description, Tags: r.Tags, Identity: r.Identity,
		Setup: r.Setup,
	}
	if r.IdleShutdownOn {
		minutes, _ := strconv.Atoi(r.IdleMinutes)
		inst.IdleShutdown = time.Duration(minutes) * time.Minute
	}
	var schedules []*instancehub.Schedule
	for _, sr := range r.Schedules {
		s := &instancehub.Schedule{Action: instancehub.OperationKind(sr.Action), Kind: instancehub.ScheduleKind(sr.Kind), Cron: sr.Cron, TimeZone: sr.TimeZone}
		hours, minutes := map[int]bool{}, map[int]bool{}
		for t := range strings.SplitSeq(sr.Times, ", ") {
			if h, m, ok := strings.Cut(t, ":"); ok {
				hh, _ := strconv.Atoi(h)
				mm, _ := strconv.Atoi(m)
				hours[hh], minutes[mm] = true, true
			}
		}
		for i := range 60 {
			if hours[i] {
				s.Hours = append(s.Hours, i)
			}
			if minutes[i] {
				s.Minutes = append(s.Minutes, i)
			}
		}
		for _, name := range sr.WeekDays {
			for d := time.Sunday; d <= time.Saturday; d++ {
				if d.String() == name {
					s.WeekDays = append(s.WeekDays, d)
				}
			}
		}
		schedules = append(schedules, s)
	}
	return inst, schedules
}

// TestRoundTripNetworkOfAnotherGroup: an instance on a network of another
// resource group, which it records by resource ID, is written with its
// subnet's resource ID and read back to the same network.
func TestRoundTripNetworkOfAnotherGroup(t *testing.T) {
	spoke := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/spoke"
	inst := &instancehub.Instance{Name: "spoke-box", Region: "eastus", VMSize: "Standard_DS3_v2", VirtualNetwork: spoke, Subnet: "ml"}
	data, err := amlyaml.Encode(inst, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "subnet: "+spoke+"/subnets/ml") || strings.Contains(string(data), "vnet_name") {
		t.Errorf("written as\n%s\nwant the subnet's resource ID alone", data)
	}
	got, err := amlyaml.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Request.VirtualNetwork != spoke || got.Request.Subnet != "ml" {
		t.Errorf("read back as %s/%s", got.Request.VirtualNetwork, got.Request.Subnet)
	}
}
