package instancehub

import "context"

// Identity is a person as an identity provider vouches for them after a
// single sign-on.
type Identity struct {
	// Subject is stable and unique across providers: "entra:<tid>:<oid>"
	// for Microsoft Entra ID, "<issuer>#<sub>" for any other provider.
	Subject string
	Email   string
	Name    string
	// Groups holds the values of the configured groups or roles claim, which
	// the portal may map to roles.
	Groups []string
}

// IdentityProvider signs people in with OpenID Connect.
type IdentityProvider interface {
	// Name is what the sign-in button says: "Sign in with <Name>".
	Name() string
	// AuthCodeURL is where to send the browser to sign in. The caller keeps
	// state, nonce and the PKCE verifier to check the answer with.
	AuthCodeURL(state, nonce, verifier string) string
	// Identify redeems an authorization code with its PKCE verifier, verifies
	// the ID token (signature, issuer, audience, expiry, and that its nonce
	// is nonce) and returns who signed in. EUNAUTHORIZED when anything is off.
	Identify(ctx context.Context, code, verifier, nonce string) (*Identity, error)
}
