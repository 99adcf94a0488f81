package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// computePortal serves a portal for compute's commands, with a token of
// its Owner in INSTANCEHUB_TOKEN and its address in INSTANCEHUB_URL.
func computePortal(t *testing.T) (url, token string) {
	t.Helper()
	_, url, token = computeMain(t)
	return url, token
}

// computeMain is computePortal, with the portal.
func computeMain(t *testing.T) (m *Main, url, token string) {
	t.Helper()
	m, dir := startMain(t)
	url = m.URL
	out, _, err := cli(t, "tokens", "create", "--data", dir, "--email", "owner@example.com", "--name", "cli test", "--expires", "7d")
	if err != nil {
		t.Fatal(err)
	}
	token = strings.TrimSpace(out)
	t.Setenv("INSTANCEHUB_URL", url)
	t.Setenv("INSTANCEHUB_TOKEN", token)
	return m, url, token
}

// apiJSON asks the portal's API for path and decodes its JSON answer.
func apiJSON(t *testing.T, url, token, path string) any {
	t.Helper()
	req, err := http.NewRequest("GET", url+"/api/v1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", path, resp.Status, data)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// printedJSON decodes what a command printed with --output json.
func printedJSON(t *testing.T, what, out string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%s printed no JSON: %v\n%s", what, err, out)
	}
	return v
}

// goNames lists the keys of v, at any depth, that begin with a capital
// letter, as Go's field names do and the API's names never do.
func goNames(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k != "" && unicode.IsUpper(rune(k[0])) && k != "userAssignedIdentities" {
				out = append(out, k)
			}
			out = append(out, goNames(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, goNames(x)...)
		}
	}
	return out
}

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestComputeJSONIsTheAPIs: every command that prints JSON prints what the
// API answered, under the OpenAPI document's names (id, status,
// startTime), never Go's field names (ID, Status, StartTime): an accepted
// operation, a waited one, the operations, the list, one instance and an
// apply's instance. Each is compared with the API's own answer.
func TestComputeJSONIsTheAPIs(t *testing.T) {
	url, token := computePortal(t)
	check := func(what, out string, api any) {
		t.Helper()
		got := printedJSON(t, what, out)
		if names := goNames(got); len(names) > 0 {
			t.Errorf("%s prints Go's names %q:\n%s", what, names, out)
		}
		if api != nil && !reflect.DeepEqual(got, api) {
			t.Errorf("%s prints\n%v\nthe API answers\n%v", what, got, api)
		}
	}

	out, _, err := cli(t, "compute", "create", "--name", "json-box", "--size", "Standard_DS1_v2", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	check("create --output json", out, nil)
	accepted := printedJSON(t, "create", out).(map[string]any)
	for _, k := range []string{"id", "name", "status", "compute", "trigger", "startTime"} {
		if _, ok := accepted[k]; !ok {
			t.Errorf("create --output json has no %q: %s", k, out)
		}
	}
	if accepted["name"] != "Create" || accepted["status"] != "InProgress" || accepted["compute"] != "json-box" {
		t.Errorf("create --output json: %s", out)
	}

	out, _, err = cli(t, "compute", "stop", "json-box", "--wait", "--output", "json")
	for err != nil && strings.Contains(err.Error(), "is creating") { // until the create has ended
		out, _, err = cli(t, "compute", "stop", "json-box", "--wait", "--output", "json")
	}
	if err != nil {
		t.Fatal(err)
	}
	stopped := printedJSON(t, "stop", out).(map[string]any)
	check("stop --wait --output json", out, apiJSON(t, url, token, "/computes/json-box/operations/"+stopped["id"].(string)))
	if stopped["status"] != "Succeeded" || stopped["endTime"] == nil {
		t.Errorf("stop --wait --output json: %s", out)
	}

	out, _, err = cli(t, "compute", "ops", "json-box", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	check("ops --output json", out, apiJSON(t, url, token, "/computes/json-box/operations").(map[string]any)["value"])

	out, _, err = cli(t, "compute", "list", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	check("list --output json", out, apiJSON(t, url, token, "/computes").(map[string]any)["value"])

	out, _, err = cli(t, "compute", "show", "json-box", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	check("show --output json", out, apiJSON(t, url, token, "/computes/json-box"))

	shown, _, err := cli(t, "compute", "show", "json-box", "--output", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, _, err = cli(t, "compute", "apply", "--file", writeFile(t, "json-box.yml", shown), "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	check("apply --output json", out, apiJSON(t, url, token, "/computes/json-box"))

	out, _, err = cli(t, "compute", "delete", "json-box", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	check("delete --output json", out, nil)
	if deleting := printedJSON(t, "delete", out).(map[string]any); deleting["name"] != "Delete" {
		t.Errorf("delete --output json: %s", out)
	}
}

// TestComputeApply: apply --file creates the file's instance, says that
// one existing as the file describes needs nothing, and refuses a file
// that differs from it, naming the keys; it takes its name from the file.
func TestComputeApply(t *testing.T) {
	computePortal(t)
	spec := "name: apply-box\ntype: computeinstance\nsize: Standard_DS1_v2\nlocation: eastus\ndescription: Applied\n"
	file := writeFile(t, "apply-box.yml", spec)
	out, _, err := cli(t, "compute", "apply", "--file", file, "--wait")
	if err != nil || !strings.Contains(out, "Create of apply-box succeeded") {
		t.Fatalf("the first apply: %q %v", out, err)
	}
	out, _, err = cli(t, "compute", "apply", "--file", file)
	if err != nil || out != "apply-box exists as the file describes (Running); nothing to do.\n" {
		t.Errorf("apply again: %q %v", out, err)
	}
	out, _, err = cli(t, "compute", "ops", "apply-box")
	if err != nil || strings.Count(out, "Create") != 1 {
		t.Errorf("ops after two applies: %q %v", out, err)
	}
	differs := writeFile(t, "differs.yml", strings.Replace(spec, "Standard_DS1_v2", "Standard_DS3_v2", 1))
	_, _, err = cli(t, "compute", "apply", "--file", differs)
	if err == nil || isUsage(err) || !strings.Contains(err.Error(), "differs from the file in size") {
		t.Errorf("a file that differs: %v", err)
	}
	for _, args := range [][]string{
		{"compute", "apply"},
		{"compute", "apply", "apply-box", "--file", file},
		{"compute", "apply", "--file", file, "--size", "Standard_DS1_v2"},
		{"compute", "apply", "--file", filepath.Join(t.TempDir(), "missing.yml")},
	} {
		if _, _, err := cli(t, args...); !isUsage(err) {
			t.Errorf("%v: %v, want bad usage", args, err)
		}
	}
}

// TestComputeCreateName: create --name NAME, as az ml compute create
// --name; the positional name still works, and the two must agree.
func TestComputeCreateName(t *testing.T) {
	computePortal(t)
	out, _, err := cli(t, "compute", "create", "--name", "named-box", "--size", "Standard_DS1_v2", "--description", "By --name", "--wait")
	if err != nil || !strings.Contains(out, "Create of named-box succeeded") {
		t.Fatalf("create --name: %q %v", out, err)
	}
	out, _, err = cli(t, "compute", "show", "named-box")
	if err != nil || !strings.Contains(out, "By --name") || !strings.Contains(out, "Standard_DS1_v2") {
		t.Errorf("show: %q %v", out, err)
	}
	out, _, err = cli(t, "compute", "create", "positional-box", "--size", "Standard_DS1_v2")
	if err != nil || !strings.Contains(out, "Create of positional-box accepted") {
		t.Errorf("create NAME: %q %v", out, err)
	}
	out, _, err = cli(t, "compute", "create", "--name", "both-box", "both-box", "--size", "Standard_DS1_v2")
	if err != nil || !strings.Contains(out, "Create of both-box accepted") {
		t.Errorf("create --name N N: %q %v", out, err)
	}
	for _, args := range [][]string{
		{"compute", "create", "--name", "one-box", "other-box"},
		{"compute", "create", "--name", "one-box", "--file", writeFile(t, "f.yml", "name: f\ntype: computeinstance\n")},
		{"compute", "create", "--size", "Standard_DS1_v2"},
	} {
		if _, _, err := cli(t, args...); !isUsage(err) {
			t.Errorf("%v: %v, want bad usage", args, err)
		}
	}
}

// TestComputeListYAML: list --output yaml is a YAML list of the files the
// portal writes for each instance, each what show --output yaml prints of
// it, schedules included; no instance is an empty list.
func TestComputeListYAML(t *testing.T) {
	computePortal(t)
	out, _, err := cli(t, "compute", "list", "--output", "yaml")
	if err != nil || out != "[]\n" {
		t.Errorf("list --output yaml of none: %q %v", out, err)
	}
	withSchedule := "name: yaml-one\ntype: computeinstance\nsize: Standard_DS1_v2\nschedules:\n  compute_start_stop:\n" +
		"    - action: stop\n      trigger: {type: cron, expression: 0 19 * * 1-5, time_zone: UTC}\n"
	for _, args := range [][]string{
		{"compute", "create", "--file", writeFile(t, "one.yml", withSchedule), "--wait"},
		{"compute", "create", "--name", "yaml-two", "--size", "Standard_DS1_v2", "--description", "Second", "--wait"},
	} {
		if _, _, err := cli(t, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	out, _, err = cli(t, "compute", "list", "--output", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var listed []map[string]any
	if err := yaml.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 2 {
		t.Fatalf("list --output yaml is not a list of two: %v\n%s", err, out)
	}
	for _, item := range listed {
		name, _ := item["name"].(string)
		shown, _, err := cli(t, "compute", "show", name, "--output", "yaml")
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := yaml.Unmarshal([]byte(shown), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(item, want) {
			t.Errorf("list's %s:\n%v\nshow's:\n%v", name, item, want)
		}
	}
	if !strings.Contains(out, "expression: 0 19 * * 1-5") || !strings.Contains(out, "description: Second") {
		t.Errorf("list --output yaml:\n%s", out)
	}
}

// TestComputeOpsAfterDelete: ops NAME after a delete shows the delete's
// operation, as the API lists it; a name never made is refused.
func TestComputeOpsAfterDelete(t *testing.T) {
	url, token := computePortal(t)
	for _, args := range [][]string{
		{"compute", "create", "--name", "gone-box", "--size", "Standard_DS1_v2", "--wait"},
		{"compute", "delete", "gone-box", "--wait"},
	} {
		if _, _, err := cli(t, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	out, _, err := cli(t, "compute", "ops", "gone-box")
	if err != nil {
		t.Fatalf("ops after the delete: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^\d+\s+Delete\s+Succeeded\s`).MatchString(lines[1]) || !strings.Contains(lines[2], "Create") {
		t.Errorf("ops after the delete:\n%s", out)
	}
	out, _, err = cli(t, "compute", "ops", "gone-box", "--output", "json")
	if err != nil || !reflect.DeepEqual(printedJSON(t, "ops", out), apiJSON(t, url, token, "/computes/gone-box/operations").(map[string]any)["value"]) {
		t.Errorf("ops --output json after the delete: %q %v", out, err)
	}
	if _, _, err := cli(t, "compute", "ops", "never-box"); err == nil || isUsage(err) {
		t.Errorf("ops of a name never made: %v", err)
	}
}

// TestComputeSuggestsKeys: a file's unknown key that is a known one with a
// suffix gets "did you mean", as a typo does.
func TestComputeSuggestsKeys(t *testing.T) {
	computePortal(t)
	for key, want := range map[string]string{"size_x": "size", "identity-type": "identity", "siz": "size"} {
		file := writeFile(t, "bad.yml", "name: bad-box\ntype: computeinstance\n"+key+": x\n")
		_, _, err := cli(t, "compute", "create", "--file", file)
		if err == nil || isUsage(err) || !strings.Contains(err.Error(), `unknown key "`+key+`" (did you mean "`+want+`"?)`) {
			t.Errorf("%s: %v", key, err)
		}
	}
}

// singleDash finds a flag written as Go's flag package prints it, -flag.
var singleDash = regexp.MustCompile(`(?m)(^|[\s(\[,])-[a-z][a-z-]*`)

// TestUsageIsGNU: every command's help writes its flags GNU-style,
// --flag, and the commands accept both --flag and -flag.
func TestUsageIsGNU(t *testing.T) {
	commands := [][]string{
		{"serve"}, {"doctor"}, {"users", "add"}, {"users", "unlock"}, {"roles", "assign"}, {"tokens", "create"},
		{"emulator"}, {"migrate-data"}, {"audit", "archive"}, {"backup"}, {"restore"},
	}
	for _, verb := range []string{"list", "show", "create", "apply", "start", "stop", "restart", "delete", "ops"} {
		commands = append(commands, []string{"compute", verb})
	}
	for _, c := range commands {
		stdout, stderr, err := cli(t, append(c, "--help")...)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v --help: %v", c, err)
		}
		help := stdout + stderr
		if !strings.Contains(help, "\n  --") {
			t.Errorf("%v --help lists no --flag:\n%s", c, help)
		}
		if m := singleDash.FindString(help); m != "" {
			t.Errorf("%v --help writes %q:\n%s", c, m, help)
		}
	}
	for _, args := range [][]string{{"help"}, {"compute", "help"}} {
		out, _, err := cli(t, args...)
		if err != nil || !strings.Contains(out, "--") {
			t.Errorf("%v: %v", args, err)
		}
		if m := singleDash.FindString(out); m != "" {
			t.Errorf("%v writes %q", args, m)
		}
	}
	// Both spellings are read.
	computePortal(t)
	for _, args := range [][]string{
		{"compute", "list", "--output", "json", "--search", "x"},
		{"compute", "list", "-output", "json", "-search", "x"},
	} {
		if out, _, err := cli(t, args...); err != nil || out != "[]\n" {
			t.Errorf("%v: %q %v", args, out, err)
		}
	}
}

// TestComputeScheduleStartTime: a file's schedule whose start_time is
// later than the portal's clock is refused with the reason at its line,
// and nothing is made; one passed already is made, its schedule applying.
func TestComputeScheduleStartTime(t *testing.T) {
	m, _, _ := computeMain(t)
	now := time.Now().UTC().Truncate(time.Minute) // the test's clock, stopped
	m.service.Now = func() time.Time { return now }
	file := func(name string, start time.Time) string {
		return writeFile(t, name+".yml", "name: "+name+"\ntype: computeinstance\nsize: Standard_DS1_v2\nschedules:\n  compute_start_stop:\n"+
			"    - action: stop\n      trigger: {type: cron, expression: 0 19 * * 1-5, time_zone: UTC, start_time: '"+start.Format("2006-01-02T15:04:05")+"'}\n")
	}
	_, _, err := cli(t, "compute", "create", "--file", file("later-box", now.Add(2*time.Hour)))
	if err == nil || isUsage(err) || !strings.Contains(err.Error(), "schedules.compute_start_stop[0].trigger.start_time: line 7, column") ||
		!strings.Contains(err.Error(), "The schedule starts at "+now.Add(2*time.Hour).Format("2006-01-02 15:04")+" UTC, later than now") {
		t.Errorf("a later start_time: %v", err)
	}
	if out, _, err := cli(t, "compute", "list", "--output", "json"); err != nil || out != "[]\n" {
		t.Errorf("after the refusal: %q %v", out, err)
	}
	out, _, err := cli(t, "compute", "create", "--file", file("began-box", now.Add(-2*time.Hour)))
	if err != nil || !strings.Contains(out, "Create of began-box accepted") {
		t.Errorf("a start_time passed: %q %v", out, err)
	}
}
