package oidc_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/oidc"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"
)

// TestIdentifyRefuses goes through the flow and spoils one thing each time.
// Every refusal is EUNAUTHORIZED with a message for the user (want) and
// the cause kept in the error for the log (cause).
func TestIdentifyRefuses(t *testing.T) {
	tests := []struct {
		name   string
		user   mockoidc.User              // mockoidc's default user when nil
		config func(*oidc.Config)         // the portal's configuration
		before func(m *mockoidc.MockOIDC) // runs between sign-in and Identify
		tamper func(a *answer)            // what the callback holds
		want   string                     // in the user's message
		cause  string                     // in the error's text
	}{{
		name:   "nonce of another sign-in",
		tamper: func(a *answer) { a.nonce = oauth2.GenerateVerifier() },
		want:   "does not belong to this sign-in", cause: "nonce",
	}, {
		name:   "nonce lost by the caller",
		tamper: func(a *answer) { a.nonce = "" },
		want:   "does not belong to this sign-in", cause: "nonce",
	}, {
		name:   "wrong PKCE verifier",
		tamper: func(a *answer) { a.verifier = oauth2.GenerateVerifier() },
		want:   "did not accept the sign-in", cause: "Code challenge did not match",
	}, {
		name:   "no PKCE verifier",
		tamper: func(a *answer) { a.verifier = "" },
		want:   "did not accept the sign-in", cause: "client sent none",
	}, {
		name: "ID token for another application",
		user: claimsUser{sub: "s", extra: map[string]any{"email": "a@example.com", "aud": "another-app"}},
		want: "for another application", cause: "expected audience",
	}, {
		name: "ID token authorized for another application",
		user: claimsUser{sub: "s", extra: map[string]any{"email": "a@example.com", "azp": "another-app"}},
		want: "for another application", cause: "authorized party",
	}, {
		name: "ID token from another issuer",
		user: claimsUser{sub: "s", extra: map[string]any{"email": "a@example.com", "iss": "https://evil.example.com"}},
		want: "another identity provider", cause: "different provider",
	}, {
		name: "ID token expired by the portal's clock",
		config: func(c *oidc.Config) {
			c.Now = func() time.Time { return time.Now().Add(11 * time.Minute) } // mockoidc's tokens live 10
		},
		want: "has expired", cause: "token is expired",
	}, {
		name:   "ID token issued expired",
		before: func(m *mockoidc.MockOIDC) { m.FastForward(-time.Hour) },
		want:   "has expired", cause: "token is expired",
	}, {
		name: "ID token tampered with",
		config: func(c *oidc.Config) {
			c.HTTPClient = &http.Client{Transport: idTokenRewriter(func(tok string) string {
				parts := strings.Split(tok, ".")
				payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
				payload = bytes.Replace(payload, []byte("jane.doe@"), []byte("the.boss@"), 1)
				parts[1] = base64.RawURLEncoding.EncodeToString(payload)
				return strings.Join(parts, ".")
			})}
		},
		want: "could not be verified", cause: "signature",
	}, {
		name: "no ID token",
		config: func(c *oidc.Config) {
			c.HTTPClient = &http.Client{Transport: idTokenRewriter(func(string) string { return "" })}
		},
		want: "sent no ID token", cause: "no id_token",
	}, {
		name:   "no email: scope not granted",
		config: func(c *oidc.Config) { c.Scopes = []string{"openid", "profile"} },
		want:   "sent no email address. Ask your administrator to grant the email scope", cause: "no email",
	}, {
		name: "no email: another provider's preferred_username is not trusted",
		user: claimsUser{sub: "s", extra: map[string]any{"preferred_username": "ada@example.com"}},
		want: "sent no email address", cause: "no email",
	}, {
		name: "email not verified",
		user: claimsUser{sub: "s", extra: map[string]any{"email": "ceo@example.com", "email_verified": false}},
		want: "not verified your email", cause: "email_verified",
	}, {
		name: "UserInfo about someone else",
		user: claimsUser{sub: "s", userinfo: map[string]any{"sub": "another", "email": "the.boss@example.com"}},
		want: "disagree about who signed in", cause: `UserInfo's sub "another"`,
	}, {
		name: "UserInfo's email not verified",
		user: claimsUser{sub: "s", userinfo: map[string]any{"email": "ceo@example.com", "email_verified": false}},
		want: "not verified your email", cause: "email_verified",
	}, {
		name: "no email in the ID token nor in UserInfo",
		user: claimsUser{sub: "s", userinfo: map[string]any{"name": "Ada"}},
		want: "sent no email address", cause: "no email",
	}, {
		name: "no subject",
		user: claimsUser{sub: "", extra: map[string]any{"email": "a@example.com"}},
		want: "did not say who signed in", cause: "no sub",
	}, {
		name:   "provider gone before the code is redeemed",
		before: func(m *mockoidc.MockOIDC) { _ = m.Shutdown() },
		want:   "could not be reached", cause: "connection refused",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := startIssuer(t)
			if tt.user != nil {
				m.QueueUser(tt.user)
			}
			p := newProvider(t, m, tt.config)
			a := signIn(t, p)
			if tt.before != nil {
				tt.before(m)
			}
			if tt.tamper != nil {
				tt.tamper(&a)
			}
			identity, err := p.Identify(t.Context(), a.code, a.verifier, a.nonce)
			assertRefused(t, identity, err, tt.want, tt.cause)
		})
	}
}

func assertRefused(t *testing.T, identity *instancehub.Identity, err error, want, cause string) {
	t.Helper()
	if err == nil {
		t.Fatalf("signed in as %+v, want a refusal", identity)
	}
	if code := instancehub.ErrorCode(err); code != instancehub.EUNAUTHORIZED {
		t.Errorf("code %q, want %q: %v", code, instancehub.EUNAUTHORIZED, err)
	}
	if msg := instancehub.ErrorMessage(err); !strings.Contains(msg, want) {
		t.Errorf("message %q, want it to say %q", msg, want)
	}
	if !strings.Contains(err.Error(), cause) {
		t.Errorf("error %q does not keep the cause %q", err, cause)
	}
}

// TestCodeRedeemedOnce: a code replayed after a sign-in is refused.
func TestCodeRedeemedOnce(t *testing.T) {
	m := startIssuer(t)
	p := newProvider(t, m, nil)
	a := signIn(t, p)
	if _, err := p.Identify(t.Context(), a.code, a.verifier, a.nonce); err != nil {
		t.Fatal(err)
	}
	identity, err := p.Identify(t.Context(), a.code, a.verifier, a.nonce)
	assertRefused(t, identity, err, "did not accept the sign-in", "Invalid code")
}

// TestAuthCodeURL checks the authorization request: code flow, our client
// and callback, the scopes, state and nonce, and an S256 PKCE challenge.
func TestAuthCodeURL(t *testing.T) {
	m := startIssuer(t)
	p := newProvider(t, m, nil)
	verifier := oauth2.GenerateVerifier()
	u, err := url.Parse(authCodeURL(t, p, "the-state", "the-nonce", verifier))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != m.AuthorizationEndpoint() {
		t.Errorf("sends the browser to %s, want %s", got, m.AuthorizationEndpoint())
	}
	sum := sha256.Sum256([]byte(verifier))
	want := map[string]string{
		"response_type":         "code",
		"client_id":             m.ClientID,
		"redirect_uri":          redirectURL,
		"scope":                 "openid profile email",
		"state":                 "the-state",
		"nonce":                 "the-nonce",
		"code_challenge":        base64.RawURLEncoding.EncodeToString(sum[:]),
		"code_challenge_method": "S256",
	}
	for name, value := range want {
		if got := u.Query().Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
	if u.Query().Has("code_verifier") {
		t.Error("the verifier must stay with the portal")
	}
}

func TestName(t *testing.T) {
	m := startIssuer(t)
	if got := newProvider(t, m, nil).Name(); got != "single sign-on" {
		t.Errorf("default name %q", got)
	}
	named := newProvider(t, m, func(c *oidc.Config) { c.DisplayName = "Contoso" })
	if got := named.Name(); got != "Contoso" {
		t.Errorf("configured name %q", got)
	}
	const entra = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
	p, err := oidc.New(t.Context(), oidc.Config{
		IssuerURL: entra, ClientID: "app", RedirectURL: redirectURL,
		HTTPClient: &http.Client{Transport: discoveryOnly(entra)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Name(); got != "Microsoft Entra ID" {
		t.Errorf("Entra's name %q", got)
	}
}

// TestNewFails: an issuer that cannot be used stops the portal at start,
// with an error that says what to check.
func TestNewFails(t *testing.T) {
	m := startIssuer(t)
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "http://" + ln.Addr().String() + "/oidc"
	ln.Close()

	valid := oidc.Config{IssuerURL: m.Issuer(), ClientID: m.ClientID, RedirectURL: redirectURL}
	tests := []struct {
		name   string
		change func(*oidc.Config)
		want   []string
	}{
		{"unreachable issuer", func(c *oidc.Config) { c.IssuerURL = unreachable },
			[]string{"discover the issuer " + unreachable, "reachable", "connection refused"}},
		{"not an issuer", func(c *oidc.Config) { c.IssuerURL = notFound.URL },
			[]string{"discover the issuer " + notFound.URL, "404"}},
		{"issuer spelt differently", func(c *oidc.Config) { c.IssuerURL = m.Issuer() + "/" },
			[]string{"did not match the issuer URL returned by provider"}},
		{"Entra's multi-tenant endpoint", func(c *oidc.Config) {
			c.IssuerURL = "https://login.microsoftonline.com/common/v2.0"
			c.HTTPClient = &http.Client{Transport: discoveryOnly("https://login.microsoftonline.com/{tenantid}/v2.0")}
		}, []string{"use your tenant's issuer"}},
		{"issuer is no URL", func(c *oidc.Config) { c.IssuerURL = "login.microsoftonline.com" },
			[]string{"issuer URL", "not an absolute"}},
		{"no client ID", func(c *oidc.Config) { c.ClientID = "" }, []string{"client ID is empty"}},
		{"relative redirect URL", func(c *oidc.Config) { c.RedirectURL = "/auth/oidc/callback" },
			[]string{"redirect URL", "not an absolute"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			p, err := oidc.New(t.Context(), cfg)
			if err == nil {
				t.Fatalf("New succeeded: %+v", p)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}
