package oidc

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

// FuzzClaimsMapping feeds arbitrary ID token and UserInfo claims through
// the mapping to an identity. Whatever they hold, it must not panic, UserInfo
// must never change who signed in nor any claim the ID token has, and an
// accepted identity must be complete: a subject, an address, a name, and
// groups without blanks.
func FuzzClaimsMapping(f *testing.F) {
	f.Add(`{"sub":"u1","email":"ada@example.com","name":"Ada"}`, `{"sub":"u1"}`, "groups")
	f.Add(`{"sub":"u1"}`, `{"sub":"u1","email":"ada@example.com","given_name":"Ada","groups":["a"," ",""]}`, "groups")
	f.Add(`{"sub":"u1","tid":"t","oid":"o","preferred_username":"ada@contoso.com"}`, `{"sub":"u1","tid":"x","oid":"y"}`, "roles")
	f.Add(`{"sub":"u1","email_verified":false}`, `{"sub":"u1","email":"a@b.c","email_verified":"true"}`, "")
	f.Add(`{"sub":"u1"}`, `{"sub":"u2","email":"the.boss@example.com"}`, "")
	f.Add(`{"sub":" ","email":"Ada <ada@example.com>","groups":"  staff "}`, `{}`, "groups")
	f.Fuzz(func(t *testing.T, idToken, userInfo, groupsClaim string) {
		var c, info claims
		if json.Unmarshal([]byte(idToken), &c) != nil || json.Unmarshal([]byte(userInfo), &info) != nil {
			return
		}
		before := cloneJSON(t, c)
		merged, err := withUserInfo(c, info, groupsClaim)
		if !reflect.DeepEqual(cloneJSON(t, c), before) {
			t.Fatalf("withUserInfo changed the ID token's claims: %v, was %v", c, before)
		}
		if err != nil {
			assertUnauthorized(t, err)
			merged = c
		} else {
			for name, v := range c {
				if name != "email_verified" && !reflect.DeepEqual(merged[name], v) {
					t.Fatalf("UserInfo changed the ID token's %s from %v to %v", name, v, merged[name])
				}
			}
		}
		id, err := identityFromClaims(merged, groupsClaim)
		if err != nil {
			assertUnauthorized(t, err)
			return
		}
		if want := subjectOf(c); id.Subject == "" || id.Subject != want {
			t.Fatalf("subject %q, want the ID token's %q", id.Subject, want)
		}
		if !isAddress(id.Email) || id.Name == "" {
			t.Fatalf("incomplete identity %+v", id)
		}
		for _, g := range id.Groups {
			if g == "" || g != strings.TrimSpace(g) {
				t.Fatalf("group %q in %q", g, id.Groups)
			}
		}
	})
}

func assertUnauthorized(t *testing.T, err error) {
	t.Helper()
	if code := instancehub.ErrorCode(err); code != instancehub.EUNAUTHORIZED || instancehub.ErrorMessage(err) == "" {
		t.Fatalf("refusal %v has code %q", err, code)
	}
}

func cloneJSON(t *testing.T, c claims) claims {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var out claims
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
