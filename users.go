package instancehub

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// The brute-force limit on local sign-in: after this many failures in the
// window, an account — or an address — must wait until the window passes.
const (
	MaxFailuresPerAccount = 5
	MaxFailuresPerAddress = 20
	FailureWindow         = 15 * time.Minute
)

// Authenticate checks a local account's email and password. A wrong email
// and a wrong password get the same EUNAUTHORIZED error and take as long;
// too many failures for the account or from the address get ETHROTTLED
// until the window passes. Every attempt is audited.
func (s *Service) Authenticate(ctx context.Context, email, password string) (user *User, err error) {
	email = strings.TrimSpace(email)
	defer func() {
		audited := ctx
		if user != nil {
			audited = NewContextWithUser(ctx, user)
		}
		s.record(audited, "session.signIn", email, err)
	}()
	var attempt int64
	if s.Throttle != nil {
		// The attempt counts as a failure until the password proves right.
		now := s.now()
		attempt, err = s.Throttle.ReserveLoginAttempt(ctx, email, SourceFromContext(ctx), now, now.Add(-FailureWindow),
			MaxFailuresPerAccount, MaxFailuresPerAddress)
		if ErrorCode(err) == ETHROTTLED {
			return nil, Errorf(ETHROTTLED, "Too many failed sign-ins. Wait %d minutes and try again, or ask an Owner to check your account.",
				int(FailureWindow.Minutes()))
		} else if err != nil {
			return nil, err
		}
	}
	if user, err = s.checkPassword(ctx, email, password); err != nil {
		if attempt != 0 && ErrorCode(err) != EUNAUTHORIZED {
			// Neither right nor wrong: it must not count toward a lockout.
			if ferr := s.Throttle.ForgetLoginAttempt(context.WithoutCancel(ctx), attempt); ferr != nil {
				s.logger().Error("forget login attempt", "err", ferr)
			}
		}
		return nil, err
	}
	if s.Throttle != nil {
		if err := s.Throttle.ClearLoginFailures(ctx, email, s.now().Add(-FailureWindow)); err != nil {
			return nil, err
		}
	}
	return user, nil
}

func (s *Service) checkPassword(ctx context.Context, email, password string) (*User, error) {
	wrong := Errorf(EUNAUTHORIZED, "The email or password is not correct.")
	user, err := s.Users.FindUserByEmail(ctx, email)
	hash := dummyHash
	if err == nil && user.PasswordHash != "" {
		hash = user.PasswordHash
	} else if err != nil && ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	matches, err := checkPasswordLimited(ctx, hash, password)
	if err != nil {
		return nil, err
	}
	if user == nil || user.PasswordHash == "" || !matches {
		return nil, wrong
	}
	if s.Roles != nil {
		if user.Roles, err = s.Roles.UserRoles(ctx, user.ID); err != nil {
			return nil, err
		}
	}
	return user, nil
}

// CreateUser adds a local account. It is how the command line and the first
// start make accounts; the checks are the form's.
func (s *Service) CreateUser(ctx context.Context, email, name, password string) (user *User, err error) {
	email, name = strings.TrimSpace(email), strings.TrimSpace(name)
	defer func() { s.record(ctx, "user.add", email, err) }()
	if err := checkEmail(email); err != nil {
		return nil, err
	}
	if name == "" {
		name = email[:strings.IndexByte(email, '@')]
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	user = &User{Email: email, Name: name, PasswordHash: hash, CreatedAt: s.now()}
	if err := s.Users.CreateUser(ctx, user); err != nil {
		return nil, err
	}
	return user, nil
}

func checkEmail(email string) error {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return FieldError("email", fmt.Sprintf("%q is not an email address.", email))
	}
	return nil
}

// EnsureFirstUser creates the first account, an Owner, when there is none,
// with the given password or a generated one, which it returns so that it
// can be shown once. It does nothing when accounts exist.
func (s *Service) EnsureFirstUser(ctx context.Context, email, password string) (user *User, generated string, err error) {
	n, err := s.Users.CountUsers(ctx)
	if err != nil || n > 0 {
		return nil, "", err
	}
	if password == "" {
		generated = GeneratePassword()
		password = generated
	}
	if user, err = s.CreateUser(ctx, email, "Administrator", password); err != nil {
		return nil, "", err
	}
	owner := &RoleAssignment{UserID: user.ID, Role: RoleOwner, Source: SourceCLI, AssignedAt: s.now()}
	if err := s.Roles.AssignRole(ctx, owner); err != nil {
		return nil, "", err
	}
	user.Roles = []Role{RoleOwner}
	return user, generated, nil
}

// GeneratePassword returns a random 20-character password.
func GeneratePassword() string {
	return rand.Text()[:20]
}

// SignInExternal signs in a person an identity provider vouched for: the
// user it knows by subject, else a new user. An email the provider sends is
// not proof of owning a local account of that email (Entra ID does not
// verify it), so such an account is never taken over. When groups map to
// roles, the roles single sign-on gave follow the groups at each sign-in.
func (s *Service) SignInExternal(ctx context.Context, id *Identity) (user *User, err error) {
	defer func() {
		audited := ctx
		if user != nil {
			audited = NewContextWithUser(ctx, user)
		}
		s.record(audited, "session.signIn", id.Email+" (single sign-on)", err)
	}()
	if user, err = s.externalUser(ctx, id); err != nil {
		return nil, err
	}
	if err := s.syncMappedRoles(ctx, user, id.Groups); err != nil {
		return nil, err
	}
	if user.Roles, err = s.Roles.UserRoles(ctx, user.ID); err != nil {
		return nil, err
	}
	return user, nil
}

func (s *Service) externalUser(ctx context.Context, id *Identity) (*User, error) {
	if id.Subject == "" || checkEmail(id.Email) != nil {
		return nil, Errorf(EUNAUTHORIZED, "The identity provider sent no usable identity (email %q).", id.Email)
	}
	name := strings.TrimSpace(id.Name)
	if name == "" {
		name = id.Email[:strings.IndexByte(id.Email, '@')]
	}
	user, err := s.Users.FindUserBySubject(ctx, id.Subject)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		user = &User{Email: id.Email, Name: name, Subject: id.Subject, CreatedAt: s.now()}
		if err := s.Users.CreateUser(ctx, user); ErrorCode(err) == ECONFLICT {
			return nil, Errorf(EUNAUTHORIZED, "An account with the email %s already exists in instancehub, not linked to single sign-on. Sign in with its password, or ask an Owner.", id.Email)
		} else if err != nil {
			return nil, err
		}
		return user, nil
	case err != nil:
		return nil, err
	}
	if user.Email != id.Email || user.Name != name {
		user.Email, user.Name = id.Email, name
		if err := s.Users.UpdateUser(ctx, user); err != nil {
			return nil, err
		}
	}
	return user, nil
}

// syncMappedRoles gives user the roles their groups map to and takes back
// those single sign-on gave before that the groups no longer grant. Roles
// assigned in the portal or on the command line are left alone.
func (s *Service) syncMappedRoles(ctx context.Context, user *User, groups []string) error {
	if len(s.RoleMap) == 0 {
		return nil
	}
	want := map[Role]bool{}
	for _, g := range groups {
		if r, ok := s.RoleMap[g]; ok {
			want[r] = true
		}
	}
	current, err := s.Roles.FindRoleAssignments(ctx, "")
	if err != nil {
		return err
	}
	have := map[Role]bool{}
	for _, a := range current {
		if a.UserID != user.ID {
			continue
		}
		have[a.Role] = true
		if a.Source == SourceSSO && !want[a.Role] {
			_, err := s.Roles.RemoveRoleAssignment(ctx, a.ID)
			s.record(ctx, "role.remove", fmt.Sprintf("%s: %s (single sign-on groups)", user.Email, a.Role), err)
			if err != nil && ErrorCode(err) != ECONFLICT {
				return err
			}
		}
	}
	for r := range want {
		if have[r] {
			continue
		}
		a := &RoleAssignment{UserID: user.ID, Role: r, Source: SourceSSO, AssignedAt: s.now()}
		err := s.Roles.AssignRole(ctx, a)
		s.record(ctx, "role.assign", fmt.Sprintf("%s: %s (single sign-on groups)", user.Email, r), err)
		if err != nil && ErrorCode(err) != ECONFLICT {
			return err
		}
	}
	return nil
}
