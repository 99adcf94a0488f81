package amlyaml_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/amlyaml"
)

// TestDecodeRefuses checks each refusal's field and its message, line and
// column included.
func TestDecodeRefuses(t *testing.T) {
	const head = "name: box\ntype: computeinstance\n"
	tests := []struct {
		name, data, field, want string
	}{
		{"unknown key with a suggestion", head + "sizee: Standard_DS3_v2\n",
			"sizee", `line 3, column 1: unknown key "sizee" (did you mean "size"?)`},
		{"unknown key in another case", head + "Location: eastus\n",
			"Location", `line 3, column 1: unknown key "Location" (did you mean "location"?)`},
		{"a known key with a suffix", head + "size_x: Standard_DS3_v2\n",
			"size_x", `line 3, column 1: unknown key "size_x" (did you mean "size"?)`},
		{"a known key with a suffix after a hyphen", head + "identity-type: system_assigned\n",
			"identity-type", `line 3, column 1: unknown key "identity-type" (did you mean "identity"?)`},
		{"a nested known key with a suffix", head + "network_settings:\n  subnet_name: x\n",
			"network_settings.subnet_name", `line 4, column 3: unknown key "subnet_name" (did you mean "subnet"?)`},
		{"a longer word is no key with a suffix", head + "sizeable: x\n",
			"sizeable", `line 3, column 1: unknown key "sizeable"`},
		{"unknown key without a suggestion", head + "colour: blue\n",
			"colour", `line 3, column 1: unknown key "colour"`},
		{"unknown nested key", head + "network_settings:\n  vnet: x\n",
			"network_settings.vnet", `line 4, column 3: unknown key "vnet" (did you mean "vnet_name"?)`},
		{"a list where a string goes", head + "size: [a, b]\n",
			"size", "line 3, column 7: size must be a string, not a list"},
		{"a number where a string goes", head + "location: 1234\n",
			"location", `line 3, column 11: location must be a string, not a number (quote it: "1234")`},
		{"not a boolean", head + "ssh_public_access_enabled: maybe\n",
			"ssh_public_access_enabled", `line 3, column 28: ssh_public_access_enabled must be true or false, not "maybe"`},
		{"duplicate key", head + "size: a\nsize: b\n",
			"size", `line 4, column 1: duplicate key "size": give each key once`},
		{"duplicate tag", head + "tags:\n  a: 1\n  a: 2\n",
			"tags.a", `line 5, column 3: duplicate tag "a": give each tag once`},
		{"duplicate key in JSON", `{"name": "box", "type": "computeinstance", "name": "other"}`,
			"name", `line 1, column 44: duplicate key "name": give each key once`},
		{"unknown key in JSON", "{\n  \"name\": \"box\",\n  \"type\": \"computeinstance\",\n  \"ssh_settings\": {\"ssh_key\": \"k\"}\n}",
			"ssh_settings.ssh_key", `line 4, column 20: unknown key "ssh_key" (did you mean "ssh_key_value"?)`},
		{"wrong type in JSON", `{"name": "box", "type": "computeinstance", "tags": ["a"]}`,
			"tags", "line 1, column 52: tags must be a mapping of names to values, not a list"},
		{"unsupported feature", head + "custom_applications: [{name: rstudio}]\n",
			"custom_applications", "line 3, column 22: custom_applications is not supported by instancehub: an instance offers JupyterLab, Jupyter, RStudio and a terminal, and no others."},
		{"script without path or command", head + "setup_scripts:\n  startup_script: {timeout_minutes: 5}\n",
			"setup_scripts.startup_script", "line 4, column 19: startup_script needs a path (a file in your files folder) or a command (the script itself)"},
		{"script timeout out of bounds", head + "setup_scripts:\n  creation_script: {command: echo, timeout_minutes: 0}\n",
			"setup_scripts.creation_script.timeout_minutes", "line 4, column 53: timeout_minutes must be 1 to 120"},
		{"unsupported value of a feature", head + "enable_node_public_ip: false\n",
			"enable_node_public_ip", "line 3, column 24: enable_node_public_ip: false is not supported by instancehub: whether instances get a public IP is the portal's setting, for all of them."},
		{"disabled schedule", head + "schedules:\n  compute_start_stop:\n    - action: stop\n      state: disabled\n      trigger: {type: cron, expression: 0 18 * * *}\n",
			"schedules.compute_start_stop[0].state", "line 6, column 14: state: disabled is not supported by instancehub: the portal keeps no disabled schedules; leave the schedule out."},
		{"hourly recurrence", head + "schedules:\n  compute_start_stop:\n    - action: stop\n      trigger: {type: recurrence, frequency: hour, schedule: {hours: [1], minutes: [0]}}\n",
			"schedules.compute_start_stop[0].trigger.frequency", "line 6, column 46: frequency: hour is not supported by instancehub: a recurrence runs every day or every week; use a cron expression for other times."},
		{"interval of two", head + "schedules:\n  compute_start_stop:\n    - action: stop\n      trigger: {type: recurrence, frequency: week, interval: 2, schedule: {hours: [1], minutes: [0], week_days: [monday]}}\n",
			"schedules.compute_start_stop[0].trigger.interval", "line 6, column 62: interval: 2 is not supported by instancehub: a recurrence runs every day or every week; use a cron expression for other times."},
		{"wrong trigger type", head + "schedules:\n  compute_start_stop:\n    - action: stop\n      trigger:\n        type: once\n",
			"schedules.compute_start_stop[0].trigger.type", `line 7, column 15: type must be cron or recurrence, not "once"`},
		{"alias", head + "description: &d hello\ntags: {copy: *d}\n",
			"description", "line 3, column 14: anchors (&d) are not supported: write the value out where it is needed"},
		{"alias use", head + "description: &d hello\ntags: {copy: *d}\n",
			"tags.copy", "line 4, column 14: aliases (*d) are not supported: write the value out"},
		{"two documents", head + "---\nname: other\n",
			"file", "line 3, column 1: a file describes one compute instance: remove the second document (after ---)"},
		{"too large", head + "description: " + strings.Repeat("x", amlyaml.MaxFileSize) + "\n",
			"file", "line 1, column 1: the file has 65582 bytes: at most 65536 (64 KiB)"},
		{"missing name", "type: computeinstance\nsize: Standard_DS3_v2\n",
			"name", "line 1, column 1: name is required: the name of the compute instance"},
		{"empty name", "name: ''\ntype: computeinstance\n",
			"name", "line 1, column 7: name is required: the name of the compute instance"},
		{"missing type", "name: box\n",
			"type", "line 1, column 1: type is required: write type: computeinstance"},
		{"wrong type value", "name: box\ntype: amlcompute\n",
			"type", `line 2, column 7: type must be computeinstance, not "amlcompute": instancehub makes compute instances only`},
		{"both idle times, disagreeing", head + "idle_time_before_shutdown: PT30M\nidle_time_before_shutdown_minutes: 60\n",
			"idle_time_before_shutdown_minutes", "line 4, column 36: idle_time_before_shutdown_minutes is 60 minutes, but idle_time_before_shutdown is 30: give one of them"},
		{"idle duration in months", head + "idle_time_before_shutdown: P1M\n",
			"idle_time_before_shutdown", `line 3, column 28: idle_time_before_shutdown must be an ISO 8601 duration such as PT30M, PT1H30M or P1D, not "P1M"`},
		{"user-assigned without identities", head + "identity:\n  type: user_assigned\n",
			"identity.user_assigned_identities", "line 4, column 3: user_assigned_identities is required with type user_assigned: the resource IDs of the identities"},
		{"identities without user-assigned", head + "identity:\n  type: system_assigned\n  user_assigned_identities: [{resource_id: x}]\n",
			"identity.user_assigned_identities", "line 5, column 29: user_assigned_identities goes with type user_assigned; this type is system_assigned"},
		{"five schedules", head + "schedules:\n  compute_start_stop: [{}, {}, {}, {}, {}]\n",
			"schedules.compute_start_stop", "line 4, column 23: compute_start_stop has 5 items: at most 4 schedules"},
		{"hour out of range", head + "schedules:\n  compute_start_stop:\n    - action: stop\n      trigger: {type: recurrence, frequency: day, schedule: {hours: [24], minutes: [0]}}\n",
			"schedules.compute_start_stop[0].trigger.schedule.hours[0]", "line 6, column 70: 24 is not one of the hours, from 0 to 23"},
		{"admin user", head + "ssh_settings: {admin_username: root}\n",
			"ssh_settings.admin_username", `line 3, column 32: admin_username "root" is not supported by instancehub: an instance's user is always azureuser.`},
		{"subnet without network", head + "network_settings: {subnet: default}\n",
			"network_settings.subnet", "line 3, column 28: subnet needs vnet_name: give the subnet's virtual network, or its resource ID as subnet"},
		{"not YAML", head + "tags: {a: [\n",
			"file", "line 3: the file is not YAML or JSON: did not find expected node content"},
		{"not a mapping", "- name: box\n",
			"file", "line 1, column 1: the file must be a mapping of keys such as name: and type:, not a list"},
		{"empty", "  \n# nothing\n",
			"file", "line 1, column 1: the file is empty: give at least name and type: computeinstance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := amlyaml.Decode([]byte(tt.data))
			if err == nil {
				t.Fatalf("Decode accepted it: %+v", f)
			}
			if instancehub.ErrorCode(err) != instancehub.EINVALID {
				t.Fatalf("code %s: %v", instancehub.ErrorCode(err), err)
			}
			if got := instancehub.ErrorFields(err)[tt.field]; got != tt.want {
				t.Errorf("field %s:\n got %q\nwant %q\n(all: %q)", tt.field, got, tt.want, instancehub.ErrorFields(err))
			}
		})
	}
}

// TestDecodeReportsEveryProblem checks that one refusal lists them all.
func TestDecodeReportsEveryProblem(t *testing.T) {
	data := `type: computeinstance
sizee: Standard_DS3_v2
ssh_public_access_enabled: maybe
schedules:
  compute_start_stop:
    - action: pause
      trigger:
        type: cron
`
	_, err := amlyaml.Decode([]byte(data))
	want := map[string]string{
		"name":                                   "line 1, column 1: name is required: the name of the compute instance",
		"sizee":                                  `line 2, column 1: unknown key "sizee" (did you mean "size"?)`,
		"ssh_public_access_enabled":              `line 3, column 28: ssh_public_access_enabled must be true or false, not "maybe"`,
		"schedules.compute_start_stop[0].action": `line 6, column 15: action must be start or stop, not "pause"`,
		"schedules.compute_start_stop[0].trigger.expression": "line 8, column 9: expression is required: a cron expression such as 0 18 * * 1-5",
	}
	if got := instancehub.ErrorFields(err); !reflect.DeepEqual(got, want) {
		t.Errorf("fields:\n got %q\nwant %q", got, want)
	}
	if msg := instancehub.ErrorMessage(err); msg != "The file has 5 problems." {
		t.Errorf("message %q", msg)
	}
}

// TestDecodeBoundsProblems checks that a file of many wrong keys gets the
// first ones, not a page of them.
func TestDecodeBoundsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: box\ntype: computeinstance\n")
	for i := range 200 {
		b.WriteString("x" + strings.Repeat("y", i) + ": 1\n")
	}
	_, err := amlyaml.Decode([]byte(b.String()))
	if n := len(instancehub.ErrorFields(err)); n != 50 {
		t.Errorf("%d fields", n)
	}
	if msg := instancehub.ErrorMessage(err); msg != "The file has more than 50 problems; here are the first 50." {
		t.Errorf("message %q", msg)
	}
}
