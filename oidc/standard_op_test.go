package oidc_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/oidc"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/oauth2"
	"golang.org/x/text/language"
)

// A standards-following open-source OpenID Provider: zitadel/oidc's op
// package with its example storage and login page. Its web clients get the
// email and profile claims from UserInfo only, never in the ID token, as
// OpenID Connect Core 5.4 prescribes when an access token is issued.
const (
	zitadelClient   = "portal"
	zitadelSecret   = "portal-secret"
	zitadelPassword = "a long password"
)

// zitadelUsers is the provider's directory: one person, Ada.
type zitadelUsers struct{}

var ada = &storage.User{
	ID: "ada-1", Username: "ada", Password: zitadelPassword, FirstName: "Ada", LastName: "Lovelace",
	Email: "ada@example.com", EmailVerified: true, PreferredLanguage: language.English,
}

func (zitadelUsers) GetUserByID(id string) *storage.User {
	if id == ada.ID {
		return ada
	}
	return nil
}

func (zitadelUsers) GetUserByUsername(name string) *storage.User {
	if name == ada.Username {
		return ada
	}
	return nil
}

func (zitadelUsers) ExampleClientID() string { return storage.ServiceUserID }

// startZitadel runs the provider on a local port; its issuer is its URL.
func startZitadel(t *testing.T) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	clients := map[string]*storage.Client{zitadelClient: storage.WebClient(zitadelClient, zitadelSecret, redirectURL)}
	srv.Config.Handler = exampleop.SetupServer(issuer, storage.NewStorageWithClients(zitadelUsers{}, clients), nil, false)
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

// wiretap records what the portal asks the provider and the ID tokens it
// is given, to prove which path the claims took.
type wiretap struct {
	mu       sync.Mutex
	paths    []string
	idTokens []map[string]any
}

func (w *wiretap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	w.mu.Lock()
	defer w.mu.Unlock()
	w.paths = append(w.paths, req.URL.Path)
	var tokens struct {
		IDToken string `json:"id_token"`
	}
	if json.Unmarshal(body, &tokens) == nil && tokens.IDToken != "" {
		parts := strings.Split(tokens.IDToken, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c map[string]any
		_ = json.Unmarshal(payload, &c)
		w.idTokens = append(w.idTokens, c)
	}
	return resp, nil
}

// TestSignInWithAStandardProviderThatKeepsClaimsInUserInfo goes through the
// authorization-code flow with PKCE against zitadel's provider, as a browser
// with cookies would: the login page, the password, the redirects back.
func TestSignInWithAStandardProviderThatKeepsClaimsInUserInfo(t *testing.T) {
	issuer := startZitadel(t)
	tap := &wiretap{}
	p, err := oidc.New(t.Context(), oidc.Config{
		IssuerURL: issuer, ClientID: zitadelClient, ClientSecret: zitadelSecret, RedirectURL: redirectURL,
		HTTPClient: &http.Client{Transport: tap, Timeout: 10 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := signInWithPassword(t, p, issuer)

	got, err := p.Identify(t.Context(), a.code, a.verifier, a.nonce)
	if err != nil {
		t.Fatal(err)
	}
	want := instancehub.Identity{Subject: issuer + "#ada-1", Email: "ada@example.com", Name: "Ada Lovelace"}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got  %+v\nwant %+v", *got, want)
	}
	if len(tap.idTokens) != 1 || tap.idTokens[0]["email"] != nil || tap.idTokens[0]["sub"] != "ada-1" {
		t.Errorf("the ID tokens were %v, want one for ada-1 without email", tap.idTokens)
	}
	if !strings.Contains(strings.Join(tap.paths, " "), "/userinfo") {
		t.Errorf("UserInfo was not read: %v", tap.paths)
	}
}

// signInWithPassword plays the browser at zitadel's login page and returns
// what the portal's callback would hold.
func signInWithPassword(t *testing.T, p *oidc.Provider, issuer string) answer {
	t.Helper()
	a := answer{verifier: oauth2.GenerateVerifier(), nonce: oauth2.GenerateVerifier()}
	state := oauth2.GenerateVerifier()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	portal, _ := url.Parse(redirectURL)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if req.URL.Host == portal.Host {
				return http.ErrUseLastResponse // the portal is not running
			}
			return nil
		}}
	login, err := browser.Get(authCodeURL(t, p, state, a.nonce, a.verifier))
	if err != nil {
		t.Fatal(err)
	}
	login.Body.Close()
	id := login.Request.URL.Query().Get("authRequestID")
	if login.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("the login page: %s at %s", login.Status, login.Request.URL)
	}
	back, err := browser.PostForm(issuer+"/login/username", url.Values{
		"id": {id}, "username": {ada.Username}, "password": {zitadelPassword},
	})
	if err != nil {
		t.Fatal(err)
	}
	back.Body.Close()
	to, err := url.Parse(back.Header.Get("Location"))
	if back.StatusCode != http.StatusFound || err != nil || to.Host != portal.Host {
		t.Fatalf("after the password: %s to %q", back.Status, back.Header.Get("Location"))
	}
	if got := to.Query().Get("state"); got != state {
		t.Fatalf("state came back as %q, want %q", got, state)
	}
	a.code = to.Query().Get("code")
	return a
}
