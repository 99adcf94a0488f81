package instancehub

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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
	// tokenTouchEvery limits writes: last use is recorded at most this
	// often (and always the first time).
	tokenTouchEvery = time.Minute
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

// CreateToken makes a personal access token for the signed-in user.
// EFORBIDDEN through a token, and for someone with no role, whose token
// every call would refuse.
func (s *Service) CreateToken(ctx context.Context, n NewToken) (t *CreatedToken, err error) {
	defer func() { s.record(ctx, "token.create", Clip(strings.TrimSpace(n.Name), MaxAuditTargetLength), err) }()
	if err := s.CheckCreateToken(ctx); err != nil {
		return nil, err
	}
	return s.createToken(ctx, UserFromContext(ctx), n)
}

// CheckCreateToken says whether the signed-in user may make a token, for
// the page that offers it: not through a token, and not without a role,
// since every call would refuse that token.
func (s *Service) CheckCreateToken(ctx context.Context) error {
	user := UserFromContext(ctx)
	switch {
	case user == nil:
		return Errorf(EUNAUTHORIZED, "Sign in to continue.")
	case user.ViaToken:
		return Errorf(EFORBIDDEN, "A token cannot make tokens: sign in to the portal for that.")
	case !user.HasRole():
		return Errorf(EFORBIDDEN, "You have no role in this workspace, so every call would refuse a token of yours. Ask an Owner of the workspace for access first.")
	}
	return nil
}

// CreateTokenFromCLI makes a token for the user with that email, from the
// server's own command line (for automation to start from). An EINVALID
// field error for an unknown or disabled email; EFORBIDDEN when they have
// no role.
func (s *Service) CreateTokenFromCLI(ctx context.Context, email string, n NewToken) (t *CreatedToken, err error) {
	defer func() {
		s.record(ctx, "token.create", Clip(email+": "+strings.TrimSpace(n.Name), MaxAuditTargetLength), err)
	}()
	user, err := s.Users.FindUserByEmail(ctx, strings.TrimSpace(email))
	if ErrorCode(err) == ENOTFOUND {
		return nil, FieldError("email", fmt.Sprintf("There is no user with the email %s.", Clip(email, MaxEmailLength)))
	} else if err != nil {
		return nil, err
	}
	if !user.DisabledAt.IsZero() {
		return nil, FieldError("email", fmt.Sprintf("%s is disabled.", user.Email))
	}
	if user.Roles, err = s.Roles.UserRoles(ctx, user.ID); err != nil {
		return nil, err
	}
	if !user.HasRole() {
		return nil, Errorf(EFORBIDDEN, "%s has no role in this workspace, so every call would refuse its token. Give them a role first.", user.Email)
	}
	return s.createToken(ctx, user, n)
}

func (s *Service) createToken(ctx context.Context, user *User, n NewToken) (*CreatedToken, error) {
	name := strings.TrimSpace(n.Name)
	fields := map[string]string{}
	if name == "" {
		fields["name"] = "Give the token a name that says what uses it, such as \"nightly report\"."
	} else if err := tooLong("name", "A token's name", name, MaxTokenNameLength); err != nil {
		fields["name"] = ErrorMessage(err)
	}
	lifetime, err := ParseTokenLifetime(n.Expires)
	if err != nil {
		fields["expires"] = ErrorMessage(err)
	}
	if len(fields) > 0 {
		return nil, &Error{Code: EINVALID, Message: "Some settings need your attention.", Fields: fields}
	}
	secret := newTokenSecret()
	now := s.now()
	t := &APIToken{UserID: user.ID, UserName: user.Name, UserEmail: user.Email, Name: name,
		Hash: hashSessionToken(secret), Prefix: secret[:len(TokenPrefix)+4], ReadOnly: n.ReadOnly,
		CreatedAt: now, ExpiresAt: now.Add(lifetime), Revocable: true}
	if err := s.Tokens.CreateToken(ctx, t, now); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil, FieldError("name", ErrorMessage(err))
		}
		return nil, err
	}
	return &CreatedToken{APIToken: t, Secret: secret}, nil
}

func newTokenSecret() string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails on the platforms Go supports
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
}

// UserByToken returns the user of a live token with their roles, as the
// API's calls act: a read-only token keeps only their read permissions. It
// records the token's use (at most once a minute) and audits its first.
// EUNAUTHORIZED for a token unknown, expired, revoked or of a disabled user,
// answered after refuseToken's pause.
func (s *Service) UserByToken(ctx context.Context, secret string) (*User, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 128 {
		return nil, s.refuseToken(ctx)
	}
	now := s.now()
	t, err := s.Tokens.FindToken(ctx, hashSessionToken(secret), now)
	if ErrorCode(err) == ENOTFOUND {
		return nil, s.refuseToken(ctx)
	} else if err != nil {
		return nil, err
	}
	user := *t.User
	user.ViaToken, user.ReadOnly = true, t.ReadOnly
	if t.LastUsedAt.IsZero() || now.Sub(t.LastUsedAt) > tokenTouchEvery {
		// Bookkeeping: a failure to note the use must not fail the call.
		first, err := s.Tokens.TouchToken(ctx, t.ID, now)
		if err != nil {
			s.logger().ErrorContext(ctx, "record a token's use", "token", t.ID, "err", err)
		}
		if err == nil && first {
			s.record(NewContextWithUser(ctx, &user), "token.use", tokenTarget(t), nil)
		}
	}
	return &user, nil
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

// refuseToken audits a bad token, tallied per source and minute as other
// refusals are, so that a flood of guesses leaves one row that counts them;
// the tally's count is also how many this source sent this minute, which
// sets its pause (BadTokenDelay). It returns the refusal.
func (s *Service) refuseToken(ctx context.Context) error {
	refused := Errorf(EUNAUTHORIZED, "The token is not valid: it is unknown, expired or revoked, or its user is disabled. Create a new one on the Tokens page.")
	e := s.auditEvent(ctx, "request.token", "", refused)
	s.writeAudit(ctx, e)
	_ = s.wait(ctx, BadTokenDelay(e.Count)) // a caller gone early is refused all the same
	return refused
}

// tokenTarget names a token in the audit log: its name and prefix.
func tokenTarget(t *APIToken) string {
	return Clip(fmt.Sprintf("%s (%s…) of %s", t.Name, t.Prefix, t.UserEmail), MaxAuditTargetLength)
}

// APITokens lists the signed-in user's tokens, or everyone's for all, which
// takes tokens/manage.
func (s *Service) APITokens(ctx context.Context, all bool) ([]*APIToken, error) {
	user := UserFromContext(ctx)
	if user == nil {
		return nil, Errorf(EUNAUTHORIZED, "Sign in to continue.")
	}
	owner := user.ID
	if all {
		if _, err := authorize(ctx, PermManageTokens, "see everyone's tokens"); err != nil {
			s.recordDenial(ctx, "token.list", "", err)
			return nil, err
		}
		owner = 0
	}
	tokens, err := s.Tokens.FindTokens(ctx, owner, s.now())
	if err != nil {
		return nil, err
	}
	for _, t := range tokens {
		t.Revocable = t.RevokedAt.IsZero() && (t.UserID == user.ID || user.Can(PermManageTokens)) && !user.ViaToken
	}
	return tokens, nil
}

// RevokeToken revokes a token: one's own, or anyone's with tokens/manage.
// It stops working at its next call.
func (s *Service) RevokeToken(ctx context.Context, id int64) (t *APIToken, err error) {
	target := fmt.Sprintf("token %d", id)
	defer func() {
		if t != nil {
			target = tokenTarget(t)
		}
		s.record(ctx, "token.revoke", target, err)
	}()
	user := UserFromContext(ctx)
	if user == nil {
		return nil, Errorf(EUNAUTHORIZED, "Sign in to continue.")
	}
	t, err = s.Tokens.FindTokenByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.UserID != user.ID {
		if _, err := authorize(ctx, PermManageTokens, "revoke other people's tokens"); err != nil {
			return t, err
		}
	}
	if user.ViaToken && t.UserID != user.ID {
		return t, Errorf(EFORBIDDEN, "A token cannot revoke other people's tokens: sign in to the portal for that.")
	}
	if err := s.Tokens.RevokeToken(ctx, id, s.now()); err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return t, Errorf(ECONFLICT, "The token %s was revoked already.", t.Name)
		}
		return t, err
	}
	t.RevokedAt = s.now()
	return t, nil
}
