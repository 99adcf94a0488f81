package oidc_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/oidc"
	"github.com/oauth2-proxy/mockoidc"
)

// TestSignIn signs people in through the whole flow against a real provider
// and checks every field of who they turn out to be. "{issuer}" in a
// subject stands for the provider's issuer URL.
func TestSignIn(t *testing.T) {
	const tid, oid = "72f988bf-86f1-41af-91ab-2d7cd011db47", "00000000-0000-0000-66f3-3332eca7ea81"
	tests := []struct {
		name   string
		user   mockoidc.User
		config func(*oidc.Config)
		want   instancehub.Identity
	}{{
		name: "standard provider with groups",
		user: &mockoidc.MockUser{
			Subject: "user-42", Email: "ada@example.com", EmailVerified: true,
			PreferredUsername: "ada", Groups: []string{"portal-admins", "staff"},
		},
		config: func(c *oidc.Config) {
			c.Scopes = []string{"openid", "profile", "email", "groups"}
			c.GroupsClaim = "groups"
		},
		// mockoidc sends no name claim: the email's local part stands in.
		want: instancehub.Identity{
			Subject: "{issuer}#user-42", Email: "ada@example.com", Name: "ada",
			Groups: []string{"portal-admins", "staff"},
		},
	}, {
		name: "groups claim not configured",
		user: &mockoidc.MockUser{Subject: "user-7", Email: "bob@example.com", Groups: []string{"staff"}},
		config: func(c *oidc.Config) {
			c.Scopes = []string{"profile", "email", "groups"} // openid is added
		},
		want: instancehub.Identity{Subject: "{issuer}#user-7", Email: "bob@example.com", Name: "bob"},
	}, {
		name: "Microsoft Entra ID: tid and oid, preferred_username, app roles",
		user: claimsUser{sub: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", extra: map[string]any{
			"tid": tid, "oid": oid, "name": "Ada Lovelace",
			"preferred_username": "Ada.Lovelace@contoso.com", "roles": []string{"Portal.Admin"},
		}},
		config: func(c *oidc.Config) { c.GroupsClaim = "roles" },
		want: instancehub.Identity{
			Subject: "entra:" + tid + ":" + oid, Email: "Ada.Lovelace@contoso.com",
			Name: "Ada Lovelace", Groups: []string{"Portal.Admin"},
		},
	}, {
		name: "Microsoft Entra ID: upn when preferred_username is no address",
		user: claimsUser{sub: "pairwise", extra: map[string]any{
			"tid": tid, "oid": oid, "preferred_username": "ada", "upn": "ada@contoso.onmicrosoft.com",
			"given_name": "Ada", "family_name": "Lovelace", "groups": "b9ae6c4f-group-id",
		}},
		config: func(c *oidc.Config) { c.GroupsClaim = "groups" },
		want: instancehub.Identity{
			Subject: "entra:" + tid + ":" + oid, Email: "ada@contoso.onmicrosoft.com",
			Name: "Ada Lovelace", Groups: []string{"b9ae6c4f-group-id"},
		},
	}, {
		name: "email claim wins over preferred_username",
		user: claimsUser{sub: "pairwise", extra: map[string]any{
			"tid": tid, "oid": oid, "email": "ada@contoso.com", "preferred_username": "ada.l@contoso.com",
			"name": "Ada",
		}},
		want: instancehub.Identity{Subject: "entra:" + tid + ":" + oid, Email: "ada@contoso.com", Name: "Ada"},
	}, {
		name: "email and name in UserInfo alone, as OpenID Connect Core 5.4 allows",
		user: claimsUser{sub: "u-1", userinfo: map[string]any{
			"email": "ada@example.com", "email_verified": true, "given_name": "Ada", "family_name": "Lovelace",
			"groups": []string{"staff"},
		}},
		config: func(c *oidc.Config) { c.GroupsClaim = "groups" },
		want: instancehub.Identity{
			Subject: "{issuer}#u-1", Email: "ada@example.com", Name: "Ada Lovelace", Groups: []string{"staff"},
		},
	}, {
		name: "the ID token's claims win over UserInfo's, which cannot change the subject",
		user: claimsUser{sub: "u-2", extra: map[string]any{"email": "ada@example.com"}, userinfo: map[string]any{
			"email": "the.boss@example.com", "name": "Ada", "tid": tid, "oid": oid,
		}},
		want: instancehub.Identity{Subject: "{issuer}#u-2", Email: "ada@example.com", Name: "Ada"},
	}, {
		name: "sub alone is no Entra identity",
		user: claimsUser{sub: "abc", extra: map[string]any{"tid": tid, "email": "ada@contoso.com"}},
		want: instancehub.Identity{Subject: "{issuer}#abc", Email: "ada@contoso.com", Name: "ada"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := startIssuer(t)
			m.QueueUser(tt.user)
			p := newProvider(t, m, tt.config)
			a := signIn(t, p)
			got, err := p.Identify(t.Context(), a.code, a.verifier, a.nonce)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Subject = strings.Replace(want.Subject, "{issuer}", m.Issuer(), 1)
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
		})
	}
}
