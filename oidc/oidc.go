// Package oidc signs people in to instancehub with OpenID Connect: the
// authorization-code flow with PKCE and a nonce, against Microsoft Entra ID
// or any standard provider. It implements instancehub.IdentityProvider
// around go-oidc and golang.org/x/oauth2.
package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/instancehub/instancehub"
	"golang.org/x/oauth2"
)

// Config is how the portal is registered with its identity provider.
type Config struct {
	// IssuerURL is the provider's issuer, exactly as its discovery document
	// names it, e.g. https://login.microsoftonline.com/<tenant>/v2.0.
	IssuerURL string
	ClientID  string
	// ClientSecret may be empty for a public client, which PKCE alone protects.
	ClientSecret string
	// RedirectURL is the portal's callback, e.g.
	// https://portal.example.com/auth/oidc/callback.
	RedirectURL string
	// Scopes default to openid, profile and email; openid is always asked for.
	Scopes []string
	// GroupsClaim optionally names the claim holding groups or app roles,
	// e.g. "groups" or "roles"; its values become Identity.Groups.
	GroupsClaim string
	// DisplayName is shown on the sign-in button. It defaults to
	// "Microsoft Entra ID" for login.microsoftonline.com, else "single sign-on".
	DisplayName string
	// HTTPClient is used for every call to the provider; tests and proxies
	// set it. By default a client with a 30-second timeout.
	HTTPClient *http.Client
	// Now is the clock for the ID token's expiry; time.Now by default.
	Now func() time.Time
}

// Provider is one OpenID Connect identity provider, discovered once at start.
type Provider struct {
	name        string
	clientID    string
	groupsClaim string
	client      *http.Client
	oauth2      oauth2.Config
	verifier    *gooidc.IDTokenVerifier
	// discovered reads UserInfo, when the discovery document names its
	// endpoint.
	discovered *gooidc.Provider
}

var _ instancehub.IdentityProvider = (*Provider)(nil)

// defaultTimeout bounds each call to the provider when Config has no
// HTTPClient: http.DefaultClient would let a hung provider hang the portal's
// start and its sign-ins.
const defaultTimeout = 30 * time.Second

// New discovers the issuer and returns a Provider for it. It fails when the
// configuration is incomplete, the issuer cannot be reached, or the issuer
// calls itself by another URL.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	discovered, err := gooidc.NewProvider(gooidc.ClientContext(ctx, client), cfg.IssuerURL)
	if err != nil {
		return nil, discoveryError(cfg.IssuerURL, err)
	}
	return &Provider{
		name:        displayName(cfg),
		clientID:    cfg.ClientID,
		groupsClaim: cfg.GroupsClaim,
		client:      client,
		oauth2: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     endpoint(discovered, cfg.ClientSecret),
			RedirectURL:  cfg.RedirectURL,
			Scopes:       scopes(cfg.Scopes),
		},
		verifier:   discovered.Verifier(&gooidc.Config{ClientID: cfg.ClientID, Now: cfg.Now}),
		discovered: discovered,
	}, nil
}

// check reports the first setting that cannot work, before any network call.
func (cfg Config) check() error {
	if !isAbsoluteURL(cfg.IssuerURL) {
		return fmt.Errorf("oidc: the issuer URL %q is not an absolute http(s) URL", cfg.IssuerURL)
	}
	if cfg.ClientID == "" {
		return errors.New("oidc: the client ID is empty")
	}
	if !isAbsoluteURL(cfg.RedirectURL) {
		return fmt.Errorf("oidc: the redirect URL %q is not an absolute http(s) URL", cfg.RedirectURL)
	}
	return nil
}

func isAbsoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// discoveryError says what to check, since the operator reads it at start.
func discoveryError(issuer string, err error) error {
	var mismatch *gooidc.IssuerMismatchError
	if errors.As(err, &mismatch) && strings.Contains(mismatch.Discovered, "{tenantid}") {
		// Entra's common and organizations endpoints name no tenant, so no
		// token could ever match their issuer.
		return fmt.Errorf("oidc: %s is a multi-tenant Microsoft Entra ID endpoint; "+
			"use your tenant's issuer, https://login.microsoftonline.com/<tenant-id>/v2.0: %w", issuer, err)
	}
	return fmt.Errorf("oidc: discover the issuer %s (is the URL right, and reachable from this server?): %w", issuer, err)
}

// endpoint sends a public client's ID in the request body: with no secret
// there is nothing to put in a Basic Authorization header, and some providers
// refuse an empty one.
func endpoint(p *gooidc.Provider, secret string) oauth2.Endpoint {
	e := p.Endpoint()
	if secret == "" {
		e.AuthStyle = oauth2.AuthStyleInParams
	}
	return e
}

// scopes defaults to the three scopes that yield an email and a name, and
// always asks for openid, without which there is no ID token.
func scopes(configured []string) []string {
	if len(configured) == 0 {
		return []string{gooidc.ScopeOpenID, "profile", "email"}
	}
	if slices.Contains(configured, gooidc.ScopeOpenID) {
		return slices.Clone(configured)
	}
	return append([]string{gooidc.ScopeOpenID}, configured...)
}

func displayName(cfg Config) string {
	if cfg.DisplayName != "" {
		return cfg.DisplayName
	}
	if u, err := url.Parse(cfg.IssuerURL); err == nil && strings.EqualFold(u.Hostname(), "login.microsoftonline.com") {
		return "Microsoft Entra ID"
	}
	return "single sign-on"
}

// Name is what the sign-in button says: "Sign in with <Name>".
func (p *Provider) Name() string { return p.name }

// AuthCodeURL is where to send the browser to sign in. The provider binds
// the code to verifier's S256 challenge and echoes nonce in the ID token.
func (p *Provider) AuthCodeURL(state, nonce, verifier string) string {
	return p.oauth2.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
}

// Identify redeems code with its PKCE verifier, verifies the ID token and
// that it carries nonce, completes its claims from UserInfo when needed, and
// returns who signed in. Every failure is EUNAUTHORIZED, with a message for
// the user and the cause in its chain.
func (p *Provider) Identify(ctx context.Context, code, verifier, nonce string) (*instancehub.Identity, error) {
	ctx = gooidc.ClientContext(ctx, p.client)
	token, idToken, err := p.redeem(ctx, code, verifier)
	if err != nil {
		return nil, err
	}
	var c claims
	if err := idToken.Claims(&c); err != nil {
		return nil, refuse(msgUnverified, fmt.Errorf("decode the ID token's claims: %w", err))
	}
	if err := p.checkBinding(idToken.Nonce, c, nonce); err != nil {
		return nil, err
	}
	if c, err = p.completeClaims(ctx, token, c); err != nil {
		return nil, err
	}
	return identityFromClaims(c, p.groupsClaim)
}

// redeem exchanges the code for tokens and verifies the ID token among them:
// signature, issuer, audience and expiry.
func (p *Provider) redeem(ctx context.Context, code, verifier string) (*oauth2.Token, *gooidc.IDToken, error) {
	token, err := p.oauth2.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, nil, refuse(exchangeMessage(err), fmt.Errorf("redeem the authorization code: %w", err))
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return nil, nil, refuse(msgNoIDToken, errors.New("the token response has no id_token"))
	}
	idToken, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, nil, refuse(verifyMessage(err), fmt.Errorf("verify the ID token: %w", err))
	}
	return token, idToken, nil
}

// completeClaims asks UserInfo for what the ID token lacks: OpenID Connect
// Core 5.4 lets a provider that issues an access token keep the email and
// profile claims for UserInfo alone, and many standard providers do. The
// call is made only when something is missing, and only to a provider that
// has UserInfo.
func (p *Provider) completeClaims(ctx context.Context, token *oauth2.Token, c claims) (claims, error) {
	if !lacksProfile(c, p.groupsClaim) || p.discovered.UserInfoEndpoint() == "" || token.AccessToken == "" {
		return c, nil
	}
	info, err := p.discovered.UserInfo(ctx, oauth2.StaticTokenSource(token))
	if err != nil {
		// Going on with half the claims could take roles given by groups away.
		return nil, refuse(msgUnreachable, fmt.Errorf("read UserInfo: %w", err))
	}
	var extra claims
	if err := info.Claims(&extra); err != nil {
		return nil, refuse(msgUnverified, fmt.Errorf("decode UserInfo: %w", err))
	}
	return withUserInfo(c, extra, p.groupsClaim)
}

// checkBinding makes sure the token answers this very sign-in: its nonce is
// the one the caller kept (go-oidc leaves that to us), and when it names an
// authorized party, that party is us (OpenID Connect Core 3.1.3.7).
func (p *Provider) checkBinding(got string, c claims, want string) error {
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return refuse(msgNonce, fmt.Errorf("the ID token's nonce %q is not the sign-in's", got))
	}
	if azp := c.str("azp"); azp != "" && azp != p.clientID {
		return refuse(msgOtherApp, fmt.Errorf("the ID token's authorized party is %q, not %q", azp, p.clientID))
	}
	return nil
}
