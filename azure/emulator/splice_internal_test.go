package emulator

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestMembersScanWhatJSONHolds: the list's splicing finds each member of a
// stored body, braces, brackets and escaped quotes inside strings
// included, and refuses what is not an object.
func TestMembersScanWhatJSONHolds(t *testing.T) {
	body := ` { "a" : "}\"{\\" , "b":[1,{"c":"]"},[]],"d":null,"e":-1.5e3,"f":true,"g":{},"h":{"i":{"j":"\u007d"}} } `
	var got []string
	if err := members([]byte(body), func(m member) error {
		got = append(got, string(m.name)+"="+string(m.value))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{`"a"="}\"{\\"`, `"b"=[1,{"c":"]"},[]]`, `"d"=null`, `"e"=-1.5e3`, `"f"=true`, `"g"={}`, `"h"={"i":{"j":"\u007d"}}`}
	if len(got) != len(want) {
		t.Fatalf("members %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("member %d: %s, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{``, `[]`, `{"a"}`, `{"a":}`, `{"a":"x`, `{"a":{"b":1}`, `{"a":1 "b":2}`, `"x"`} {
		if err := members([]byte(bad), func(member) error { return nil }); err == nil {
			t.Errorf("%q: scanned without an error", bad)
		}
	}
}

// TestListedVMSplicesTheComputedMembers: a VM's listing is its stored body,
// whatever it holds, with the provisioning state and the instance view (and
// the computer name) in its properties in place of stored ones, and a
// system-assigned identity given its principal; valid JSON in every case.
func TestListedVMSplicesTheComputedMembers(t *testing.T) {
	c := newCloud("sub", "rg")
	r := &resource{Type: typeVM, Name: "box", State: stateSucceeded, Power: "running", Changed: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for _, body := range []string{
		`{"name":"box","properties":{"osProfile":{"computerName":"box-pc"},"provisioningState":"Creating","instanceView":{"statuses":[]},"x":"}{"}}`,
		`{"name":"box","identity":{"type":"SystemAssigned, UserAssigned"},"properties":{}}`,
		`{"name":"box","identity":{"type":"UserAssigned"},"properties":null}`,
		`{"name":"box"}`,
	} {
		var buf bytes.Buffer
		if err := c.writeListedVM(&buf, r, []byte(body)); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		var vm struct {
			Name     string         `json:"name"`
			Identity map[string]any `json:"identity"`
			Props    map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(buf.Bytes(), &vm); err != nil {
			t.Fatalf("%s listed as invalid JSON %s: %v", body, buf.Bytes(), err)
		}
		view, _ := vm.Props["instanceView"].(map[string]any)
		statuses, _ := view["statuses"].([]any)
		if vm.Name != "box" || vm.Props["provisioningState"] != "Succeeded" || len(statuses) != 2 {
			t.Errorf("%s listed as %s", body, buf.Bytes())
		}
		if want := strings.HasPrefix(body, `{"name":"box","properties":{"osProfile":`); want != (view["computerName"] == "box-pc") || want && vm.Props["x"] != "}{" {
			t.Errorf("%s listed as %s: computer name or other properties", body, buf.Bytes())
		}
		if system := vm.Identity != nil && vm.Identity["type"] != "UserAssigned"; system != (vm.Identity["principalId"] != nil) {
			t.Errorf("%s listed as %s: identity", body, buf.Bytes())
		}
	}
}

// FuzzSkipString: a string as JSON writes it ends where JSON says, however
// it escapes what it holds, and what follows is not read into it.
func FuzzSkipString(f *testing.F) {
	for _, s := range []string{"", "plain", `a"b`, `a\b`, `\"`, `\\`, "<&>", "tab\tnew\nline", "\u2028", "\\\\\""} {
		f.Add(s, `,"x":"y"}`)
	}
	f.Fuzz(func(t *testing.T, s, after string) {
		quoted, _ := json.Marshal(s) // a string always marshals
		end, err := skipString(append(quoted, after...), 0)
		if err != nil || end != len(quoted) {
			t.Errorf("%s followed by %q: ends at %d (%v), want %d", quoted, after, end, err, len(quoted))
		}
		if _, err := skipString(quoted[:len(quoted)-1], 0); err == nil {
			t.Errorf("%s cut before its quote read as a string", quoted)
		}
	})
}

// TestInstanceViewsWrittenByHandAsMarshalled: the instance view a VM is
// listed with is written by hand as the marshalling of listedView writes
// it, byte for byte, whatever its state, power, failure, time and computer
// name; what needs escaping goes through the marshalling.
func TestInstanceViewsWrittenByHandAsMarshalled(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 30, 15, 123456789, time.FixedZone("CET", 3600))
	resources := []*resource{
		{State: "Succeeded", Power: "running", Changed: at},
		{State: "Succeeded", Power: "deallocated", Changed: at.Truncate(time.Second)},
		{State: "Creating", Changed: at},
		{State: "Updating", Power: "starting", Changed: time.Time{}},
		{State: "Failed", Power: "stopped", Changed: at, Failure: &armError{Code: "AllocationFailed", Message: "No <capacity> & \"room\""}},
		{State: "Failed", Changed: at},
		{State: "Deleting", Power: "running", Changed: at.Add(-48 * time.Hour)},
		{State: "Succ\"eeded", Power: "run<ning", Changed: at},
	}
	profiles := []string{
		"", `null`, `{}`, `{"computerName":"ada-box","adminUsername":"azureuser"}`,
		`{"adminUsername":"azureuser","computerName":""}`, `{"computerName":"a\"b"}`,
		`{"computerName":"x<y&z"}`, `{"computerName":"é"}`, `{"computerName":"\u00e9"}`,
		`{"computerName":null}`, `{"computerName":7}`, `{"linuxConfiguration":{"computerName":"inner"}}`,
	}
	for _, r := range resources {
		for _, profile := range profiles {
			var osProfile []byte
			if profile != "" {
				osProfile = []byte(profile)
			}
			var byHand, marshalled bytes.Buffer
			writeInstanceView(&byHand, osProfile, r)
			writeJSON(&marshalled, listedView{ComputerName: computerNameOf(osProfile), Statuses: statusLines(r)})
			if byHand.String() != marshalled.String() {
				t.Errorf("%s/%s with %s:\n by hand    %s\n marshalled %s", r.State, r.Power, profile, byHand.String(), marshalled.String())
			}
		}
	}
}

// computerNameOf is the computer name an OS profile holds, "" if none, as
// the marshalled view took it before the view was written by hand: its
// member found and decoded.
func computerNameOf(osProfile []byte) (name string) {
	_ = members(osProfile, func(m member) error {
		if m.is("computerName") {
			_ = json.Unmarshal(m.value, &name)
			return errFound
		}
		return nil
	})
	return name
}
