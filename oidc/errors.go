package oidc

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/instancehub/instancehub"
	"golang.org/x/oauth2"
)

// What a person is told when single sign-on fails. The cause stays out of
// these messages and goes to the log through the error chain.
const (
	msgCodeRefused     = "Single sign-on failed: the identity provider did not accept the sign-in, which may have taken too long or been used already. Please try again."
	msgUnreachable     = "Single sign-on failed: the identity provider could not be reached. Please try again in a moment."
	msgNoIDToken       = "Single sign-on failed: the identity provider sent no ID token. Ask your administrator to check that the openid scope is allowed."
	msgExpired         = "Single sign-on failed: the sign-in answer has expired. Please try again; if it keeps happening, this server's clock may be wrong."
	msgOtherApp        = "Single sign-on failed: the sign-in answer was for another application."
	msgOtherIssuer     = "Single sign-on failed: the sign-in answer came from another identity provider."
	msgUnverified      = "Single sign-on failed: the sign-in answer could not be verified. Please try again."
	msgNonce           = "Single sign-on failed: the sign-in answer does not belong to this sign-in. Please start again from the sign-in page."
	msgNoSubject       = "Single sign-on failed: the identity provider did not say who signed in."
	msgOtherSubject    = "Single sign-on failed: the identity provider's answers disagree about who signed in. Please try again."
	msgNoEmail         = "Single sign-on failed: the identity provider sent no email address. Ask your administrator to grant the email scope, or to add the email (or, for Microsoft Entra ID, preferred_username) claim to the ID token or UserInfo."
	msgEmailUnverified = "Single sign-on failed: the identity provider has not verified your email address."
)

// Why single sign-on is unavailable, as the sign-in page says it; the
// cause goes to the log through the error chain.
const (
	msgNoAnswer    = "The identity provider could not be reached."
	msgBadAnswer   = "The identity provider did not answer as expected."
	msgMismatch    = "The identity provider's settings do not match this portal's; an administrator needs to correct them (the portal's log says how)."
	msgKeepsTrying = " The portal keeps trying, and single sign-on comes back by itself once it can."
)

// unavailable returns an EUNAVAILABLE error that tells people why single
// sign-on cannot be used, and keeps detail in its chain for the log.
func unavailable(message string, detail error) error {
	return fmt.Errorf("%w: %w", &instancehub.Error{Code: instancehub.EUNAVAILABLE, Message: message + msgKeepsTrying}, detail)
}

// discoveryMessage tells an issuer that could not be reached from one that
// answered with no usable discovery document, or with another issuer's.
func discoveryMessage(err error) string {
	var mismatch *gooidc.IssuerMismatchError
	var unreached *url.Error
	switch {
	case errors.As(err, &mismatch):
		return msgMismatch
	case errors.As(err, &unreached):
		return msgNoAnswer
	}
	return msgBadAnswer
}

// refuse returns an EUNAUTHORIZED error that shows message to the user and
// keeps detail in its chain, for the log and for errors.Is and errors.As.
func refuse(message string, detail error) error {
	return fmt.Errorf("%w: %w", &instancehub.Error{Code: instancehub.EUNAUTHORIZED, Message: message}, detail)
}

// exchangeMessage tells a refused code (a provider's OAuth error answer)
// from a provider that could not be reached.
func exchangeMessage(err error) string {
	var refused *oauth2.RetrieveError
	if errors.As(err, &refused) {
		return msgCodeRefused
	}
	return msgUnreachable
}

// verifyMessage names what was wrong with the ID token. go-oidc types only
// its expiry error, so audience and issuer errors are told apart by their
// text; the tests pin that text down.
func verifyMessage(err error) string {
	var expired *gooidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		return msgExpired
	case strings.Contains(err.Error(), "expected audience"):
		return msgOtherApp
	case strings.Contains(err.Error(), "issued by a different provider"):
		return msgOtherIssuer
	}
	return msgUnverified
}
