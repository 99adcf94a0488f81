package instancehub

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Personal access tokens let scripts and the command line call the JSON
// API as their user. A token is a random secret shown once; the store
// keeps its SHA-256 hash and a short prefix its owner recognises it by. It
// carries at most its user's roles, read again on every call, and a
// read-only token only their read permissions.
const (
	// TokenPrefix starts every token, so that secret scanners and people
	// know one when they see it.
	TokenPrefix = "ihp_"
	// MaxTokenLifetime is the longest a token may live.
	MaxTokenLifetime = 366 * 24 * time.Hour
	// DefaultTokenLifetime is what a token lives when nobody says.
	DefaultTokenLifetime = 30 * 24 * time.Hour
	// MaxTokenNameLength bounds a token's name.
	MaxTokenNameLength = 100
	// MaxTokensPerUser bounds a user's live tokens.
	MaxTokensPerUser = 50
)

// APIToken is a personal access token as the store keeps it.
type APIToken struct {
	ID        int64
	UserID    int64
	UserName  string
	UserEmail string
	Name      string
	// Hash is the SHA-256 of the secret, hex; Prefix its first characters.
	Hash     string
	Prefix   string
	ReadOnly bool
	// LastUsedAt and RevokedAt are zero for never.
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
	// User is the token's user with their roles, as FindToken loads it.
	User *User
	// Revocable is whether the signed-in user may revoke it, set by the
	// service; it is not stored.
	Revocable bool
}

// Live reports whether the token still works at now.
func (t *APIToken) Live(now time.Time) bool { return t.RevokedAt.IsZero() && t.ExpiresAt.After(now) }

// Status says in a word where the token stands: Active, Expired or Revoked.
func (t *APIToken) Status(now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "Revoked"
	case !t.ExpiresAt.After(now):
		return "Expired"
	}
	return "Active"
}

// NewToken is the form of a token to create.
type NewToken struct {
	Name string
	// Expires is how long it lives: "30d", "12h", or a Go duration; empty
	// for DefaultTokenLifetime.
	Expires  string
	ReadOnly bool
}

// CreatedToken is a token just created: its secret is shown once.
type CreatedToken struct {
	*APIToken
	Secret string
}

// ParseTokenLifetime reads how long a token lives: a number of days ("30d",
// "30"), or a Go duration ("720h"), from one hour to MaxTokenLifetime.
func ParseTokenLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultTokenLifetime, nil
	}
	bad := FieldError("expires", "Give the lifetime in days, such as 30d, at most 365 days.")
	if len(s) > 16 {
		return 0, bad
	}
	var d time.Duration
	if days, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil {
		if days < 1 || days > 366 {
			return 0, FieldError("expires", fmt.Sprintf("A token lives from 1 to 365 days; %d days is outside.", days))
		}
		d = time.Duration(days) * 24 * time.Hour
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, bad
	}
	if d < time.Hour || d > MaxTokenLifetime {
		return 0, FieldError("expires", "A token lives from one hour to 365 days.")
	}
	return d, nil
}

// Bad tokens are slowed down per source, as wrong passwords are: the first
// FreeBadTokens of a minute from one address are answered at once, each
// next one waits twice as long as the one before, from a second up to
// MaxBadTokenDelay. Only a token already found bad waits, so a valid token
// from the same address (a colleague behind the same NAT) is never slowed
// nor refused.
const (
	FreeBadTokens    = 3
	MaxBadTokenDelay = 30 * time.Second
)

// BadTokenDelay is how long the nth bad token of a minute from one
// address waits before it is refused.
func BadTokenDelay(n int) time.Duration {
	if n <= FreeBadTokens {
		return 0
	}
	d := time.Second
	for range n - FreeBadTokens - 1 {
		if d *= 2; d >= MaxBadTokenDelay {
			return MaxBadTokenDelay
		}
	}
	return d
}
