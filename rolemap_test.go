package instancehub_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

func TestParseRoleMap(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]instancehub.Role
		err  string
	}{
		{"", map[string]instancehub.Role{}, ""},
		{" ih-admins = Owner , ,ih-users=data scientist", map[string]instancehub.Role{
			"ih-admins": instancehub.RoleOwner, "ih-users": instancehub.RoleDataScientist}, ""},
		{"CN=Admins,OU=Groups=Owner", nil, `"CN=Admins": There is no role "Admins"`},
		{"a=b=Reader", map[string]instancehub.Role{"a=b": instancehub.RoleReader}, ""},
		{"admins=Owner,admins=owner", map[string]instancehub.Role{"admins": instancehub.RoleOwner}, ""},
		{"admins=Owner,admins=Reader", nil, `"admins" is mapped to both Owner and Reader`},
		{"=Owner", nil, `"=Owner" names no group`},
		{"admins", nil, `"admins" is not group=Role`},
		{"admins=Admin", nil, `"admins=Admin": There is no role "Admin"`},
	}
	for _, tt := range tests {
		got, err := instancehub.ParseRoleMap(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(instancehub.ErrorMessage(err), tt.err)):
			t.Errorf("ParseRoleMap(%q) = %v, %v; want the error %q", tt.in, got, err, tt.err)
		case tt.err != "" && instancehub.ErrorCode(err) != instancehub.EINVALID:
			t.Errorf("ParseRoleMap(%q): code %q", tt.in, instancehub.ErrorCode(err))
		case tt.err == "" && (err != nil || !maps.Equal(got, tt.want)):
			t.Errorf("ParseRoleMap(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseRoleMap: whatever the flag says, parsing does not panic; what it
// accepts has a group and a real role in every pair, and formats back to the
// same map; what it refuses, it refuses as invalid with a message that
// quotes the offending item or group.
func FuzzParseRoleMap(f *testing.F) {
	for _, seed := range []string{
		"", "ih-admins=Owner,ih-users=Data Scientist", "a=b=Reader", "admins=Owner,admins=Reader",
		"=Owner", "admins", " , ", "g=datascientist,h= audit reader ", "x=Owner\x00,y=\u00a0Reader",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := instancehub.ParseRoleMap(s)
		if err != nil {
			if instancehub.ErrorCode(err) != instancehub.EINVALID || !strings.Contains(instancehub.ErrorMessage(err), `"`) {
				t.Fatalf("ParseRoleMap(%q): unclear error %v", s, err)
			}
			return
		}
		for group, role := range m {
			if group == "" || group != strings.TrimSpace(group) || strings.Contains(group, ",") {
				t.Fatalf("ParseRoleMap(%q) accepted the group %q", s, group)
			}
			if _, err := instancehub.ParseRole(string(role)); err != nil || string(role) == "" {
				t.Fatalf("ParseRoleMap(%q) accepted the role %q", s, role)
			}
		}
		again, err := instancehub.ParseRoleMap(instancehub.FormatRoleMap(m))
		if err != nil || !maps.Equal(again, m) {
			t.Fatalf("ParseRoleMap(%q) = %v does not round-trip: %v, %v", s, m, again, err)
		}
	})
}
