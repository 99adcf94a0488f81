// Package oidc signs people in to instancehub with OpenID Connect: the
// authorization-code flow with PKCE and a nonce, against Microsoft Entra ID
// or any standard provider. It implements instancehub.IdentityProvider
// around go-oidc and golang.org/x/oauth2.
package oidc

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
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
	// Logger hears, from Start, when single sign-on is unavailable and
	// when it comes back; nothing by default.
	Logger *slog.Logger
	// Retry is how Start tries the discovery again while it fails.
	Retry Retry
}

// Retry is how often the discovery is tried again while it fails: after
// First, then twice as long each time, up to Max.
type Retry struct {
	First time.Duration // 1 s by default
	Max   time.Duration // 1 min by default
	// After waits as time.After does, its default; tests pass their own.
	After func(time.Duration) <-chan time.Time
}

// Provider is one OpenID Connect identity provider. It can sign people in
// once its issuer has been discovered; until then it says why not.
type Provider struct {
	cfg         Config
	name        string
	clientID    string
	groupsClaim string
	client      *http.Client

	mu sync.RWMutex
	// endpoints is nil until the issuer is discovered, and never again.
	endpoints *endpoints
	// unavailable says why, while endpoints is nil.
	unavailable error
}

// endpoints are what the discovery document gave.
type endpoints struct {
	oauth2   oauth2.Config
	verifier *gooidc.IDTokenVerifier
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
	p, err := newProvider(cfg)
	if err != nil {
		return nil, err
	}
	if err := p.discover(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Start returns a Provider even when its issuer cannot be discovered yet,
// as when the portal and the provider start together: single sign-on is
// then unavailable (Ready says why) and the discovery is tried again in the
// background, as cfg.Retry says, until it succeeds or ctx ends. It fails
// only when the configuration is incomplete, which no retry would mend.
func Start(ctx context.Context, cfg Config) (*Provider, error) {
	p, err := newProvider(cfg)
	if err != nil {
		return nil, err
	}
	if err := p.discover(ctx); err != nil {
		p.logger().Warn("single sign-on is unavailable; trying again in the background", "err", err)
		go p.retry(ctx, err)
	}
	return p, nil
}

func newProvider(cfg Config) (*Provider, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	return &Provider{cfg: cfg, name: displayName(cfg), clientID: cfg.ClientID, groupsClaim: cfg.GroupsClaim, client: client}, nil
}

// discover reads the issuer's discovery document. Once it has been read,
// the provider is ready for good; until then, Ready says why not, and
// discover returns the cause.
func (p *Provider) discover(ctx context.Context) error {
	discovered, err := gooidc.NewProvider(gooidc.ClientContext(ctx, p.client), p.cfg.IssuerURL)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		err = discoveryError(p.cfg.IssuerURL, err)
		p.unavailable = unavailable(discoveryMessage(err), err)
		return err
	}
	p.endpoints = &endpoints{
		oauth2: oauth2.Config{
			ClientID:     p.cfg.ClientID,
			ClientSecret: p.cfg.ClientSecret,
			Endpoint:     endpoint(discovered, p.cfg.ClientSecret),
			RedirectURL:  p.cfg.RedirectURL,
			Scopes:       scopes(p.cfg.Scopes),
		},
		verifier:   discovered.Verifier(&gooidc.Config{ClientID: p.cfg.ClientID, Now: p.cfg.Now}),
		discovered: discovered,
	}
	p.unavailable = nil
	return nil
}

// retry discovers the issuer again after each wait, the waits doubling up
// to their maximum, until it succeeds or ctx ends. A reason already logged
// as a warning is logged again only at debug level.
func (p *Provider) retry(ctx context.Context, first error) {
	wait, longest := cmp.Or(p.cfg.Retry.First, time.Second), cmp.Or(p.cfg.Retry.Max, time.Minute)
	after := p.cfg.Retry.After
	if after == nil {
		after = time.After
	}
	logged := discoveryMessage(first)
	for attempts := 2; ; attempts++ {
		select {
		case <-ctx.Done():
			return
		case <-after(wait):
		}
		err := p.discover(ctx)
		switch {
		case err == nil:
			p.logger().Info("single sign-on is available", "issuer", p.cfg.IssuerURL, "attempts", attempts)
			return
		case ctx.Err() != nil:
			return
		case discoveryMessage(err) != logged:
			logged = discoveryMessage(err)
			p.logger().Warn("single sign-on is unavailable; trying again in the background", "err", err)
		default:
			p.logger().Debug("single sign-on is still unavailable", "err", err)
		}
		wait = min(2*wait, longest)
	}
}

func (p *Provider) logger() *slog.Logger {
	if p.cfg.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.cfg.Logger
}

// Ready is nil once the issuer has been discovered. Until then it is an
// EUNAVAILABLE error whose message says why, for the sign-in page, with the
// cause in its chain, for the log.
func (p *Provider) Ready() error {
	_, err := p.ready()
	return err
}

func (p *Provider) ready() (*endpoints, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.endpoints == nil {
		return nil, p.unavailable
	}
	return p.endpoints, nil
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
// Until the issuer is discovered, it is Ready's error.
func (p *Provider) AuthCodeURL(state, nonce, verifier string) (string, error) {
	e, err := p.ready()
	if err != nil {
		return "", err
	}
	return e.oauth2.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Identify redeems code with its PKCE verifier, verifies the ID token and
// that it carries nonce, completes its claims from UserInfo when needed, and
// returns who signed in. Every failure is EUNAUTHORIZED, with a message for
// the user and the cause in its chain.
func (p *Provider) Identify(ctx context.Context, code, verifier, nonce string) (*instancehub.Identity, error) {
	e, err := p.ready()
	if err != nil {
		return nil, err
	}
	ctx = gooidc.ClientContext(ctx, p.client)
	token, idToken, err := e.redeem(ctx, code, verifier)
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
	if c, err = e.completeClaims(ctx, token, c, p.groupsClaim); err != nil {
		return nil, err
	}
	return identityFromClaims(c, p.groupsClaim)
}

// redeem exchanges the code for tokens and verifies the ID token among them:
// signature, issuer, audience and expiry.
func (e *endpoints) redeem(ctx context.Context, code, verifier string) (*oauth2.Token, *gooidc.IDToken, error) {
	token, err := e.oauth2.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, nil, refuse(exchangeMessage(err), fmt.Errorf("redeem the authorization code: %w", err))
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return nil, nil, refuse(msgNoIDToken, errors.New("the token response has no id_token"))
	}
	idToken, err := e.verifier.Verify(ctx, raw)
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
func (e *endpoints) completeClaims(ctx context.Context, token *oauth2.Token, c claims, groupsClaim string) (claims, error) {
	if !lacksProfile(c, groupsClaim) || e.discovered.UserInfoEndpoint() == "" || token.AccessToken == "" {
		return c, nil
	}
	info, err := e.discovered.UserInfo(ctx, oauth2.StaticTokenSource(token))
	if err != nil {
		// Going on with half the claims could take roles given by groups away.
		return nil, refuse(msgUnreachable, fmt.Errorf("read UserInfo: %w", err))
	}
	var extra claims
	if err := info.Claims(&extra); err != nil {
		return nil, refuse(msgUnverified, fmt.Errorf("decode UserInfo: %w", err))
	}
	return withUserInfo(c, extra, groupsClaim)
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
