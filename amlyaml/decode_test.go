package amlyaml_test

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/amlyaml"
)

const userIdentity = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml/providers/Microsoft.ManagedIdentity/userAssignedIdentities/reader"

// defaults is what a file of only name and type asks for.
func defaults() amlyaml.File {
	return amlyaml.File{Request: instancehub.CreateRequest{Name: "box", VMSize: instancehub.DefaultVMSize}}
}

// TestDecodeKeys reads each supported key, in YAML and in JSON, into the
// request: keys are given beside name and type.
func TestDecodeKeys(t *testing.T) {
	weekdays := []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
	everyDay := []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	tests := []struct {
		name       string
		yaml, json string
		want       func(f *amlyaml.File)
	}{
		{"defaults", "", "", func(f *amlyaml.File) {}},
		{"schema", "$schema: https://example.com/x.json\n", `"$schema": "https://example.com/x.json"`, func(f *amlyaml.File) {}},
		{"size as written", "size: STANDARD_ds3_V2\n", `"size": "STANDARD_ds3_V2"`, func(f *amlyaml.File) { f.Request.VMSize = "STANDARD_ds3_V2" }},
		{"location", "location: westeurope\n", `"location": "westeurope"`, func(f *amlyaml.File) {
			f.Request.Region, f.LocationSet = "westeurope", true
		}},
		{"description", "description: Ana's box\n", `"description": "Ana's box"`, func(f *amlyaml.File) { f.Request.Description = "Ana's box" }},
		{"tags as text", "tags: {team: vision, cost: 4711, gpu: true, ratio: 1.5, empty: null}\n",
			`"tags": {"team": "vision", "cost": 4711, "gpu": true, "ratio": 1.5, "empty": null}`, func(f *amlyaml.File) {
				f.Request.Tags = map[string]string{"team": "vision", "cost": "4711", "gpu": "true", "ratio": "1.5", "empty": ""}
			}},
		{"empty tags", "tags: {}\n", `"tags": {}`, func(f *amlyaml.File) {}},
		{"ssh", "ssh_public_access_enabled: true\nssh_settings:\n  ssh_key_value: ssh-ed25519 AAAA me\n  admin_username: azureuser\n  ssh_port: 22\n",
			`"ssh_public_access_enabled": true, "ssh_settings": {"ssh_key_value": "ssh-ed25519 AAAA me", "admin_username": "azureuser", "ssh_port": "22"}`,
			func(f *amlyaml.File) { f.Request.SSHEnabled, f.Request.SSHPublicKey = true, "ssh-ed25519 AAAA me" }},
		{"ssh off", "ssh_public_access_enabled: false\n", `"ssh_public_access_enabled": false`, func(f *amlyaml.File) {}},
		{"ssh on, key later", "ssh_public_access_enabled: true\n", `"ssh_public_access_enabled": true`,
			func(f *amlyaml.File) { f.Request.SSHEnabled, f.Request.SSHKeyLater = true, true }},
		{"network", "network_settings: {vnet_name: ml-vnet, subnet: default, private_ip_address: 10.0.0.4}\n",
			`"network_settings": {"vnet_name": "ml-vnet", "subnet": "default", "private_ip_address": "10.0.0.4"}`,
			func(f *amlyaml.File) { f.Request.VirtualNetwork, f.Request.Subnet = "ml-vnet", "default" }},
		{"subnet resource ID", "network_settings:\n  subnet: /subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/hub/subnets/ml\n",
			`"network_settings": {"vnet_name": "hub", "subnet": "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/hub/subnets/ml"}`,
			func(f *amlyaml.File) {
				f.Request.VirtualNetwork, f.Request.Subnet = "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/hub", "ml"
			}},
		{"idle minutes", "idle_time_before_shutdown_minutes: 30\n", `"idle_time_before_shutdown_minutes": 30`, func(f *amlyaml.File) {
			f.Request.IdleShutdownOn, f.Request.IdleMinutes, f.IdleSet = true, "30", true
		}},
		{"idle ISO hours and minutes", "idle_time_before_shutdown: PT1H30M\n", `"idle_time_before_shutdown": "PT1H30M"`, func(f *amlyaml.File) {
			f.Request.IdleShutdownOn, f.Request.IdleMinutes, f.IdleSet = true, "90", true
		}},
		{"idle ISO days", "idle_time_before_shutdown: P1D\n", `"idle_time_before_shutdown": "P1D"`, func(f *amlyaml.File) {
			f.Request.IdleShutdownOn, f.Request.IdleMinutes, f.IdleSet = true, "1440", true
		}},
		{"idle both agreeing, as shown", "idle_time_before_shutdown: PT60M\nidle_time_before_shutdown_minutes: 60\n",
			`"idle_time_before_shutdown": "PT60M", "idle_time_before_shutdown_minutes": 60`, func(f *amlyaml.File) {
				f.Request.IdleShutdownOn, f.Request.IdleMinutes, f.IdleSet = true, "60", true
			}},
		{"on behalf of", "create_on_behalf_of: {user_object_id: ana@example.com, user_tenant_id: t}\n",
			`"create_on_behalf_of": {"user_object_id": "ana@example.com", "user_tenant_id": "t"}`,
			func(f *amlyaml.File) { f.Request.AssignTo = "ana@example.com" }},
		{"identity system", "identity: {type: system_assigned}\n", `"identity": {"type": "SystemAssigned"}`, func(f *amlyaml.File) {
			f.Request.Identity.SystemAssigned = true
		}},
		{"identity both", "identity:\n  type: System_Assigned , User_Assigned\n  user_assigned_identities:\n    - resource_id: " + userIdentity + "\n",
			`"identity": {"type": "system_assigned,user_assigned", "user_assigned_identities": [{"resource_id": "` + userIdentity + `", "client_id": "c"}]}`,
			func(f *amlyaml.File) {
				f.Request.Identity = instancehub.ManagedIdentity{SystemAssigned: true, UserAssigned: []string{userIdentity}}
			}},
		{"identity none", "identity: {type: none}\n", `"identity": {"type": "None"}`, func(f *amlyaml.File) {}},
		{"cron schedule", "schedules:\n  compute_start_stop:\n  - action: stop\n    state: enabled\n    trigger: {type: cron, expression: 0 18 * * *, start_time: 2021-03-10T21:21:07, time_zone: Pacific Standard Time}\n",
			`"schedules": {"compute_start_stop": [{"action": "stop", "state": "enabled", "trigger": {"type": "cron", "expression": "0 18 * * *", "start_time": "2021-03-10T21:21:07", "time_zone": "Pacific Standard Time"}}]}`,
			func(f *amlyaml.File) {
				f.Request.Schedules = []instancehub.ScheduleRequest{{Action: "Stop", Kind: "Cron", Cron: "0 18 * * *", TimeZone: "Pacific Standard Time", StartTime: "2021-03-10T21:21:07"}}
			}},
		{"weekly recurrence, zone UTC by default", "schedules:\n  compute_start_stop:\n  - action: start\n    trigger:\n      type: recurrence\n      frequency: week\n      interval: 1\n      schedule: {hours: [18, 8, 8], minutes: [30, 0], week_days: [friday, monday, tuesday, wednesday, thursday, monday]}\n",
			`"schedules": {"compute_start_stop": [{"action": "start", "trigger": {"type": "recurrence", "frequency": "week", "interval": 1, "schedule": {"hours": [18, 8, 8], "minutes": [30, 0], "week_days": ["friday", "monday", "tuesday", "wednesday", "thursday", "monday"]}}}]}`,
			func(f *amlyaml.File) {
				f.Request.Schedules = []instancehub.ScheduleRequest{{Action: "Start", Kind: "Recurrence", Times: "08:00, 08:30, 18:00, 18:30", WeekDays: weekdays, TimeZone: "UTC"}}
			}},
		{"daily recurrence", "schedules:\n  compute_start_stop:\n  - action: stop\n    trigger: {type: recurrence, frequency: day, time_zone: Europe/Berlin, schedule: {hours: [19], minutes: [0]}}\n",
			`"schedules": {"compute_start_stop": [{"action": "stop", "trigger": {"type": "recurrence", "frequency": "day", "time_zone": "Europe/Berlin", "schedule": {"hours": [19], "minutes": [0]}}}]}`,
			func(f *amlyaml.File) {
				f.Request.Schedules = []instancehub.ScheduleRequest{{Action: "Stop", Kind: "Recurrence", Times: "19:00", WeekDays: everyDay, TimeZone: "Europe/Berlin"}}
			}},
		{"shown keys ignored", "id: /subscriptions/x\nstate: Running\nprovisioning_state: Succeeded\nservices: [{display_name: Jupyter}]\nos_image_metadata: {is_latest_os_image_version: true}\nlast_operation: {operation_name: Create}\ncreated_on: '2024-01-01'\nenable_sso: true\nenable_node_public_ip: true\nenable_root_access: true\nenable_os_patching: false\nrelease_quota_on_stop: true\nsetup_scripts: null\ncustom_applications: []\n",
			`"id": "/subscriptions/x", "state": "Running", "services": [{"display_name": "Jupyter"}], "enable_sso": true, "custom_applications": []`, func(f *amlyaml.File) {}},
	}
	for _, tt := range tests {
		want := defaults()
		tt.want(&want)
		forms := map[string]string{
			"yaml": "name: box\ntype: computeinstance\n" + tt.yaml,
			"json": `{"name": "box", "type": "computeinstance"` + comma(tt.json) + "}",
		}
		for form, data := range forms {
			t.Run(tt.name+"/"+form, func(t *testing.T) {
				got, err := amlyaml.Decode([]byte(data))
				if err != nil {
					t.Fatalf("Decode(%q): %v %v", data, err, instancehub.ErrorFields(err))
				}
				if got.Positions["name"] == "" || got.Positions["type"] == "" {
					t.Errorf("Decode(%q) kept no positions: %v", data, got.Positions)
				}
				got.Positions = nil // TestPositions reads them
				if !reflect.DeepEqual(*got, want) {
					t.Errorf("Decode(%q)\n got %+v\nwant %+v", data, *got, want)
				}
			})
		}
	}
}

func comma(members string) string {
	if members == "" {
		return ""
	}
	return ", " + members
}

// TestDecodeExamples reads the files of testdata: the YAML and the JSON of
// one instance are the same request, and a file az ml compute show
// printed is accepted.
func TestDecodeExamples(t *testing.T) {
	full := decodeFile(t, "testdata/full.yaml")
	asJSON := decodeFile(t, "testdata/full.json")
	full.Positions, asJSON.Positions = nil, nil // the two files are laid out differently
	if !reflect.DeepEqual(full, asJSON) {
		t.Errorf("full.json differs from full.yaml:\n%+v\n%+v", asJSON, full)
	}
	r := full.Request
	if r.Name != "vision-box" || r.Region != "westeurope" || !full.LocationSet || r.IdleMinutes != "90" || len(r.Schedules) != 2 ||
		r.Tags["cost-center"] != "4711" || r.AssignTo != "ana@example.com" || !r.Identity.SystemAssigned || len(r.Identity.UserAssigned) != 1 {
		t.Errorf("full.yaml: %+v", full)
	}
	shown := decodeFile(t, "testdata/shown.yaml")
	if shown.Request.Name != "shown-box" || shown.Request.VMSize != "STANDARD_DS3_V2" || shown.Request.IdleMinutes != "60" || shown.Request.Tags != nil {
		t.Errorf("shown.yaml: %+v", shown)
	}
	daily := decodeFile(t, "testdata/daily.yaml")
	if daily.Request.VirtualNetwork != "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/hub-vnet" ||
		daily.Request.Subnet != "ml" || daily.Request.Schedules[0].Times != "18:00, 22:00" {
		t.Errorf("daily.yaml: %+v", daily)
	}
	// The reference's own example sets up a startup script: a file of the
	// owner's files, with its timeout.
	ref := decodeFile(t, "testdata/reference.yaml")
	want := instancehub.SetupScripts{Startup: &instancehub.SetupScript{Path: "scripts/start.sh", Timeout: 15 * time.Minute}}
	if !reflect.DeepEqual(ref.Request.Setup, want) {
		t.Errorf("reference.yaml: setup %+v", ref.Request.Setup.Startup)
	}
}

func decodeFile(t *testing.T, name string) amlyaml.File {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := amlyaml.Decode(data)
	if err != nil {
		t.Fatalf("%s: %v %v", name, err, instancehub.ErrorFields(err))
	}
	return *f
}

// TestPositions: Decode says where each key it read is, so that the
// service's refusal of a value can point at the line.
func TestPositions(t *testing.T) {
	f, err := amlyaml.Decode([]byte("name: box\ntype: computeinstance\nsize: Standard_Nope\nschedules:\n  compute_start_stop:\n    - action: stop\n      trigger: {type: cron, expression: '0 18 * * *'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"size": "line 3, column 1", "schedules.compute_start_stop[0].trigger": "line 7, column 7",
		"schedules.compute_start_stop[0].trigger.expression": "line 7, column 29",
	} {
		if got := f.Positions[path]; got != want {
			t.Errorf("position of %s = %q, want %q", path, got, want)
		}
	}
}
