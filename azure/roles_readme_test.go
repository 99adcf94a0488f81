package azure_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/instancehub/instancehub/azure"
)

// TestTheREADMERolesAreTheDoctorsLists: the two custom roles the README
// gives an operator to create hold exactly the actions the doctor checks
// at each scope, so that a right the portal needs (the boot log's
// retrieveBootDiagnosticsData, which the README named and the doctor did
// not) is checked before a user meets its refusal.
func TestTheREADMERolesAreTheDoctorsLists(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string][]string{}
	for _, block := range regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(readme, -1) {
		var role struct {
			Name    string
			Actions []string
		}
		if json.Unmarshal(block[1], &role) == nil && role.Name != "" {
			roles[role.Name] = role.Actions
		}
	}
	for name, want := range map[string][]string{
		"instancehub portal reader": azure.SubscriptionActions,
		"instancehub portal":        azure.ResourceGroupActions,
	} {
		got, ok := roles[name]
		if !ok {
			t.Errorf("the README gives no role %q (it gives %d)", name, len(roles))
			continue
		}
		for _, a := range got {
			if !slices.Contains(want, a) {
				t.Errorf("the README's %q grants %s, which the doctor does not check", name, a)
			}
		}
		for _, a := range want {
			if !slices.Contains(got, a) {
				t.Errorf("the doctor checks %s, which the README's %q does not grant", a, name)
			}
		}
	}
}
