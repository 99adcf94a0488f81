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
	// Ready is nil when people can sign in with the provider. While they
	// cannot, as when the provider could not be reached when the portal
	// started, it is EUNAVAILABLE with a message that says why.
	Ready() error
	// AuthCodeURL is where to send the browser to sign in. The caller keeps
	// state, nonce and the PKCE verifier to check the answer with.
	// EUNAVAILABLE while the provider is not Ready.
	AuthCodeURL(state, nonce, verifier string) (string, error)
	// Identify redeems an authorization code with its PKCE verifier, verifies
	// the ID token (signature, issuer, audience, expiry, and that its nonce
	// is nonce) and returns who signed in. EUNAUTHORIZED when anything is off,
	// EUNAVAILABLE while the provider is not Ready.
	Identify(ctx context.Context, code, verifier, nonce string) (*Identity, error)
}
