package oidc_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/instancehub/instancehub/oidc"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"
)

const redirectURL = "https://portal.example.com/auth/oidc/callback"

// startIssuer runs a real OpenID Connect provider in-process, one per test
// so that queued users and its clock are the test's own.
func startIssuer(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// newProvider registers the portal with m, as an administrator would, then
// lets the test change the configuration.
func newProvider(t *testing.T, m *mockoidc.MockOIDC, change func(*oidc.Config)) *oidc.Provider {
	t.Helper()
	cfg := oidc.Config{
		IssuerURL:    m.Issuer(),
		ClientID:     m.ClientID,
		ClientSecret: m.ClientSecret,
		RedirectURL:  redirectURL,
	}
	if change != nil {
		change(&cfg)
	}
	p, err := oidc.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// authCodeURL is where p sends the browser; p must be ready.
func authCodeURL(t *testing.T, p *oidc.Provider, state, nonce, verifier string) string {
	t.Helper()
	u, err := p.AuthCodeURL(state, nonce, verifier)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// answer is what the portal's callback holds when it calls Identify.
type answer struct{ code, verifier, nonce string }

// signIn plays the browser: it opens AuthCodeURL at the provider, which
// signs the next queued user in, and reads the code from the redirect back
// to the portal.
func signIn(t *testing.T, p *oidc.Provider) answer {
	t.Helper()
	a := answer{verifier: oauth2.GenerateVerifier(), nonce: oauth2.GenerateVerifier()}
	state := oauth2.GenerateVerifier()
	browser := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := browser.Get(authCodeURL(t, p, state, a.nonce, a.verifier))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %s %s", resp.Status, body)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Scheme + "://" + back.Host + back.Path; got != redirectURL {
		t.Fatalf("redirected to %s, want %s", got, redirectURL)
	}
	if got := back.Query().Get("state"); got != state {
		t.Fatalf("state came back as %q, want %q", got, state)
	}
	a.code = back.Query().Get("code")
	return a
}

// claimsUser is a person whose ID token carries the claims a test chooses,
// laid over mockoidc's own (iss, sub, aud, exp, nonce…), which they may
// override. mockoidc's MockUser cannot send Entra's claims, nor a name.
// UserInfo answers sub and the userinfo claims, which may override it.
type claimsUser struct {
	sub      string
	extra    map[string]any
	userinfo map[string]any
}

func (u claimsUser) ID() string { return u.sub }

func (u claimsUser) Userinfo([]string) ([]byte, error) {
	info := map[string]any{"sub": u.sub}
	for name, v := range u.userinfo {
		info[name] = v
	}
	return json.Marshal(info)
}

func (u claimsUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	b, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	var c jwt.MapClaims
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	for name, v := range u.extra {
		c[name] = v
	}
	return c, nil
}

// idTokenRewriter changes the ID token in the provider's token responses on
// their way to the portal, as a man in the middle would. An empty result
// removes the ID token.
type idTokenRewriter func(idToken string) string

func (rewrite idTokenRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.URL.Path != mockoidc.TokenEndpoint || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	idToken, _ := body["id_token"].(string)
	if idToken = rewrite(idToken); idToken == "" {
		delete(body, "id_token")
	} else {
		body["id_token"] = idToken
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// discoveryOnly answers every request with a discovery document that names
// issuer: enough for New, for issuers a test cannot reach.
type discoveryOnly string

func (issuer discoveryOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	base := "https://" + req.URL.Host
	doc := fmt.Sprintf(`{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q,"jwks_uri":%q}`,
		string(issuer), base+"/authorize", base+"/token", base+"/keys")
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(doc)),
		Request:    req,
	}, nil
}
