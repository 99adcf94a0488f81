package instancehub

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"
)

// User is a person who signs in to the portal.
type User struct {
	ID           int64
	Email        string
	Name         string
	PasswordHash string // empty for users who sign in only with single sign-on
	// DisabledAt is when an Owner disabled the account, zero while it is
	// enabled: a disabled account cannot sign in; its instances stay.
	DisabledAt time.Time
	// Subject identifies the user at the identity provider; empty for
	// local accounts.
	Subject   string
	CreatedAt time.Time
	// LastSignInAt is when the user last signed in (by password or single
	// sign-on), zero if never.
	LastSignInAt time.Time
	// Instances is how many live instances the user owns, read with the
	// list of users (FindUsers) only.
	Instances int
	// Roles are the user's roles, loaded with the session.
	Roles []Role
	// ViaToken is set when the request came with a personal access token,
	// and ReadOnly when that token's scope is read-only: the user then
	// holds only the read permissions of their roles.
	ViaToken bool
	ReadOnly bool
}

// Session is a signed-in browser. The cookie holds a random token; only its
// SHA-256 hash is stored.
type Session struct {
	TokenHash  string
	UserID     int64
	User       *User
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// A session ends after SessionIdle without a request, and after
// SessionLifetime in any case.
const (
	SessionIdle     = 8 * time.Hour
	SessionLifetime = 7 * 24 * time.Hour
)

// SignedIn is a session just started: its token goes to the browser once,
// and the store keeps only its hash.
type SignedIn struct {
	User      *User
	Token     string
	ExpiresAt time.Time
}

// CSRFToken is the token a session's pages send back with every change. It
// is derived from the session's own secret token, so it is bound to that
// session, changes at every sign-in, and cannot be set by anyone who does not
// hold the session cookie (as a page on a sibling site can set a cookie).
func CSRFToken(sessionToken string) string {
	mac := hmac.New(sha256.New, []byte(sessionToken))
	mac.Write([]byte("instancehub csrf v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// ValidCSRFToken reports, in constant time, whether sent is the CSRF token
// of the session with that token.
func ValidCSRFToken(sessionToken, sent string) bool {
	return sessionToken != "" && sent != "" &&
		subtle.ConstantTimeCompare([]byte(CSRFToken(sessionToken)), []byte(sent)) == 1
}

// PasswordLinkLifetime is how long a link to set one's password works.
const PasswordLinkLifetime = 72 * time.Hour

// PasswordLink lets a new local account set its own password, once: the
// Owner who added the account passes the link on, and the portal keeps only
// the hash of its token.
type PasswordLink struct {
	TokenHash string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// NewUser is what an Owner enters to add someone.
type NewUser struct {
	Email, Name string
	Role        string
}
