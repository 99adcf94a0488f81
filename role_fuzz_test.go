package instancehub

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzParseRole: whatever an Owner types, or the role map flag holds, is
// either one of the roles or an invalid-field error that names the field,
// and a role's own name, in any case and with or without its spaces, is
// that role.
func FuzzParseRole(f *testing.F) {
	for _, r := range Roles {
		f.Add(string(r))
	}
	f.Add("data scientist")
	f.Add("DATASCIENTIST")
	f.Add(" Owner ")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		role, err := ParseRole(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || e.Fields["role"] == "" {
				t.Fatalf("ParseRole(%q) = %v, want an invalid role field", s, err)
			}
			return
		}
		if !slices.Contains(Roles, role) {
			t.Fatalf("ParseRole(%q) = %q, not a role", s, role)
		}
		again, err := ParseRole(strings.ToUpper(strings.ReplaceAll(string(role), " ", "")))
		if err != nil || again != role {
			t.Fatalf("ParseRole of %q's name without spaces, in capitals = %q, %v", role, again, err)
		}
	})
}
