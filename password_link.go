package instancehub

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// AddUser adds an account for someone and gives them a role, which must be
// chosen (never defaulted: a click must not make an Owner). With local
// accounts, it returns the token of a link to set their password, valid for
// PasswordLinkLifetime and once; the account has no password until then.
// Without (single sign-on only), the token is empty and they sign in with
// the identity provider. Owners only (PermWriteRoles). EINVALID with the
// field at fault; ECONFLICT, on "email", when the account exists.
func (s *Service) AddUser(ctx context.Context, n NewUser, localAccounts bool) (user *User, token string, err error) {
	n.Email, n.Name = strings.TrimSpace(n.Email), strings.TrimSpace(n.Name)
	defer func() {
		s.record(ctx, "user.add", Clip(n.Email, MaxEmailLength)+" as "+Clip(n.Role, MaxResourceNameLength), err)
	}()
	by, err := authorize(ctx, PermWriteRoles, "add users")
	if err != nil {
		return nil, "", err
	}
	role, err := ParseRole(n.Role)
	if err != nil {
		return nil, "", err
	}
	if err := checkEmail(n.Email); err != nil {
		return nil, "", err
	}
	if err := tooLong("name", "A name", n.Name, MaxDisplayNameLength); err != nil {
		return nil, "", err
	}
	if n.Name == "" {
		return nil, "", FieldError("name", "Enter the person's name, as colleagues know it.")
	}
	user = &User{Email: n.Email, Name: n.Name, CreatedAt: s.now()}
	if err := s.Users.CreateUser(ctx, user); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil, "", FieldError("email", "There is already an account with the email "+n.Email+"; give it a role below.")
		}
		return nil, "", err
	}
	if _, err := s.assignRole(ctx, user.Email, role, &RoleAssignment{AssignedByID: by.ID, AssignedByName: by.Name, Source: SourcePortal}); err != nil {
		return nil, "", err
	}
	if !localAccounts {
		return user, "", nil
	}
	token, err = s.newPasswordLink(ctx, user)
	return user, token, err
}

// CheckAddUser says whether the signed-in user may add people, before the
// form is shown: Owners only (PermWriteRoles), the refusal audited.
func (s *Service) CheckAddUser(ctx context.Context) error {
	if _, err := authorize(ctx, PermWriteRoles, "add users"); err != nil {
		s.recordDenial(ctx, "user.addForm", "", err)
		return err
	}
	return nil
}

func (s *Service) newPasswordLink(ctx context.Context, user *User) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	link := &PasswordLink{TokenHash: hashSessionToken(token), UserID: user.ID, CreatedAt: now, ExpiresAt: now.Add(PasswordLinkLifetime)}
	if err := s.Users.CreatePasswordLink(ctx, link); err != nil {
		return "", err
	}
	return token, nil
}

// linkGone is the answer to a link that is unknown, expired or used.
var linkGone = "This link has expired or was used already. Ask an Owner of the workspace for a new one."

// SetPasswordWithLink sets the password of the account a link was made
// for, and uses the link up: it works once, within PasswordLinkLifetime.
// EINVALID on "password" or "confirm" for a password refused; EINVALID on
// "link" for a link unknown, expired or used (nothing changes then).
func (s *Service) SetPasswordWithLink(ctx context.Context, token, password, confirm string) (user *User, err error) {
	defer func() {
		target := ""
		if user != nil {
			target = user.Email
		}
		s.record(ctx, "user.setPassword", target, err)
	}()
	if token == "" || len(token) > 128 {
		return nil, FieldError("link", linkGone)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	if password != confirm {
		return nil, FieldError("confirm", "The two passwords differ.")
	}
	user, err = s.Users.UsePasswordLink(ctx, hashSessionToken(token), s.now(), hash)
	if ErrorCode(err) == ENOTFOUND {
		return nil, FieldError("link", linkGone)
	}
	return user, err
}

// PasswordLinkWorks tells whether a link can still set a password, for the
// page that asks for it.
func (s *Service) PasswordLinkWorks(ctx context.Context, token string) bool {
	if token == "" || len(token) > 128 {
		return false
	}
	ok, err := s.Users.PasswordLinkWorks(ctx, hashSessionToken(token), s.now())
	return err == nil && ok
}
