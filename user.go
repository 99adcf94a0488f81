package instancehub

import "time"

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
