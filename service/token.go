package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// tokenTouchEvery limits writes: last use is recorded at most this often
// (and always the first time).
const tokenTouchEvery = time.Minute

// CreateToken makes a personal access token for the signed-in user.
// EFORBIDDEN through a token, and for someone with no role, whose token
// every call would refuse.
func (s *Service) CreateToken(ctx context.Context, n instancehub.NewToken) (t *instancehub.CreatedToken, err error) {
	defer func() {
		s.record(ctx, "token.create", instancehub.Clip(strings.TrimSpace(n.Name), instancehub.MaxAuditTargetLength), err)
	}()
	if err := s.CheckCreateToken(ctx); err != nil {
		return nil, err
	}
	return s.createToken(ctx, instancehub.UserFromContext(ctx), n)
}

// CheckCreateToken says whether the signed-in user may make a token, for
// the page that offers it: not through a token, and not without a role,
// since every call would refuse that token.
func (s *Service) CheckCreateToken(ctx context.Context) error {
	user := instancehub.UserFromContext(ctx)
	switch {
	case user == nil:
		return instancehub.Errorf(instancehub.EUNAUTHORIZED, "Sign in to continue.")
	case user.ViaToken:
		return instancehub.Errorf(instancehub.EFORBIDDEN, "A token cannot make tokens: sign in to the portal for that.")
	case !user.HasRole():
		return instancehub.Errorf(instancehub.EFORBIDDEN, "You have no role in this workspace, so every call would refuse a token of yours. Ask an Owner of the workspace for access first.")
	}
	return nil
}

// CreateTokenFromCLI makes a token for the user with that email, from the
// server's own command line (for automation to start from). An EINVALID
// field error for an unknown or disabled email; EFORBIDDEN when they have
// no role.
func (s *Service) CreateTokenFromCLI(ctx context.Context, email string, n instancehub.NewToken) (t *instancehub.CreatedToken, err error) {
	defer func() {
		s.record(ctx, "token.create", instancehub.Clip(email+": "+strings.TrimSpace(n.Name), instancehub.MaxAuditTargetLength), err)
	}()
	user, err := s.Users.FindUserByEmail(ctx, strings.TrimSpace(email))
	if instancehub.ErrorCode(err) == instancehub.ENOTFOUND {
		return nil, instancehub.FieldError("email", fmt.Sprintf("There is no user with the email %s.", instancehub.Clip(email, instancehub.MaxEmailLength)))
	} else if err != nil {
		return nil, err
	}
	if !user.DisabledAt.IsZero() {
		return nil, instancehub.FieldError("email", fmt.Sprintf("%s is disabled.", user.Email))
	}
	if user.Roles, err = s.Roles.UserRoles(ctx, user.ID); err != nil {
		return nil, err
	}
	if !user.HasRole() {
		return nil, instancehub.Errorf(instancehub.EFORBIDDEN, "%s has no role in this workspace, so every call would refuse its token. Give them a role first.", user.Email)
	}
	return s.createToken(ctx, user, n)
}

func (s *Service) createToken(ctx context.Context, user *instancehub.User, n instancehub.NewToken) (*instancehub.CreatedToken, error) {
	name := strings.TrimSpace(n.Name)
	fields := map[string]string{}
	if name == "" {
		fields["name"] = "Give the token a name that says what uses it, such as \"nightly report\"."
	} else if err := instancehub.TooLong("name", "A token's name", name, instancehub.MaxTokenNameLength); err != nil {
		fields["name"] = instancehub.ErrorMessage(err)
	}
	lifetime, err := instancehub.ParseTokenLifetime(n.Expires)
	if err != nil {
		fields["expires"] = instancehub.ErrorMessage(err)
	}
	if len(fields) > 0 {
		return nil, &instancehub.Error{Code: instancehub.EINVALID, Message: "Some settings need your attention.", Fields: fields}
	}
	secret := newTokenSecret()
	now := s.now()
	t := &instancehub.APIToken{UserID: user.ID, UserName: user.Name, UserEmail: user.Email, Name: name,
		Hash: hashSessionToken(secret), Prefix: secret[:len(instancehub.TokenPrefix)+4], ReadOnly: n.ReadOnly,
		CreatedAt: now, ExpiresAt: now.Add(lifetime), Revocable: true}
	if err := s.Tokens.CreateToken(ctx, t, now); err != nil {
		if instancehub.ErrorCode(err) == instancehub.ECONFLICT {
			return nil, instancehub.FieldError("name", instancehub.ErrorMessage(err))
		}
		return nil, err
	}
	return &instancehub.CreatedToken{APIToken: t, Secret: secret}, nil
}

func newTokenSecret() string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails on the platforms Go supports
	return instancehub.TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
}

// UserByToken returns the user of a live token with their roles, as the
// API's calls act: a read-only token keeps only their read permissions. It
// records the token's use (at most once a minute) and audits its first.
// EUNAUTHORIZED for a token unknown, expired, revoked or of a disabled user,
// answered after refuseToken's pause.
func (s *Service) UserByToken(ctx context.Context, secret string) (*instancehub.User, error) {
	if !strings.HasPrefix(secret, instancehub.TokenPrefix) || len(secret) > 128 {
		return nil, s.refuseToken(ctx)
	}
	now := s.now()
	t, err := s.Tokens.FindToken(ctx, hashSessionToken(secret), now)
	if instancehub.ErrorCode(err) == instancehub.ENOTFOUND {
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
			s.record(instancehub.NewContextWithUser(ctx, &user), "token.use", tokenTarget(t), nil)
		}
	}
	return &user, nil
}

// refuseToken audits a bad token, tallied per source and minute as other
// refusals are, so that a flood of guesses leaves one row that counts them;
// the tally's count is also how many this source sent this minute, which
// sets its pause (BadTokenDelay). It returns the refusal.
func (s *Service) refuseToken(ctx context.Context) error {
	refused := instancehub.Errorf(instancehub.EUNAUTHORIZED, "The token is not valid: it is unknown, expired or revoked, or its user is disabled. Create a new one on the Tokens page.")
	e := s.auditEvent(ctx, "request.token", "", refused)
	s.writeAudit(ctx, e)
	_ = s.wait(ctx, instancehub.BadTokenDelay(e.Count)) // a caller gone early is refused all the same
	return refused
}

// tokenTarget names a token in the audit log: its name and prefix.
func tokenTarget(t *instancehub.APIToken) string {
	return instancehub.Clip(fmt.Sprintf("%s (%s…) of %s", t.Name, t.Prefix, t.UserEmail), instancehub.MaxAuditTargetLength)
}

// APITokens lists the signed-in user's tokens, or everyone's for all, which
// takes tokens/manage.
func (s *Service) APITokens(ctx context.Context, all bool) ([]*instancehub.APIToken, error) {
	user := instancehub.UserFromContext(ctx)
	if user == nil {
		return nil, instancehub.Errorf(instancehub.EUNAUTHORIZED, "Sign in to continue.")
	}
	owner := user.ID
	if all {
		if _, err := authorize(ctx, instancehub.PermManageTokens, "see everyone's tokens"); err != nil {
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
		t.Revocable = t.RevokedAt.IsZero() && (t.UserID == user.ID || user.Can(instancehub.PermManageTokens)) && !user.ViaToken
	}
	return tokens, nil
}

// RevokeToken revokes a token: one's own, or anyone's with tokens/manage.
// It stops working at its next call.
func (s *Service) RevokeToken(ctx context.Context, id int64) (t *instancehub.APIToken, err error) {
	target := fmt.Sprintf("token %d", id)
	defer func() {
		if t != nil {
			target = tokenTarget(t)
		}
		s.record(ctx, "token.revoke", target, err)
	}()
	user := instancehub.UserFromContext(ctx)
	if user == nil {
		return nil, instancehub.Errorf(instancehub.EUNAUTHORIZED, "Sign in to continue.")
	}
	t, err = s.Tokens.FindTokenByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.UserID != user.ID {
		if _, err := authorize(ctx, instancehub.PermManageTokens, "revoke other people's tokens"); err != nil {
			return t, err
		}
	}
	if user.ViaToken && t.UserID != user.ID {
		return t, instancehub.Errorf(instancehub.EFORBIDDEN, "A token cannot revoke other people's tokens: sign in to the portal for that.")
	}
	if err := s.Tokens.RevokeToken(ctx, id, s.now()); err != nil {
		if instancehub.ErrorCode(err) == instancehub.ENOTFOUND {
			return t, instancehub.Errorf(instancehub.ECONFLICT, "The token %s was revoked already.", t.Name)
		}
		return t, err
	}
	t.RevokedAt = s.now()
	return t, nil
}
