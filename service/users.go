package service

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// admitSignIn refuses an attempt once its account has had its share of
// guesses and its address has had its own there; it never refuses for an
// address's failures elsewhere.
func admitSignIn(c instancehub.LoginCounts) error {
	if c.Account >= instancehub.MaxFailuresPerAccount && c.Pair >= instancehub.FreeFailures {
		return instancehub.Errorf(instancehub.ETHROTTLED, "Too many failed sign-ins to this account from your network. Wait %d minutes, or ask an Owner of the workspace to unlock it.",
			int(instancehub.FailureWindow.Minutes()))
	}
	return nil
}

// signInDelay is how long an admitted attempt waits: as its account's
// failures from its address ask, or its address's everywhere, whichever
// is longer.
func signInDelay(c instancehub.LoginCounts) time.Duration {
	return max(instancehub.SignInDelay(c.Pair), instancehub.SignInDelay(c.Address-instancehub.AddressFreeFailures+instancehub.FreeFailures))
}

// Authenticate checks a local account's email and password. A wrong email,
// a wrong password and a disabled account get the same EUNAUTHORIZED error
// and take as long. Failures slow the next attempts down and an account's
// guesses are bounded, as the limits above say: ETHROTTLED for an attempt
// refused unchecked. Every attempt is audited.
func (s *Service) Authenticate(ctx context.Context, email, password string) (user *instancehub.User, err error) {
	email = instancehub.Clip(strings.TrimSpace(email), instancehub.MaxEmailLength)
	defer func() {
		audited := ctx
		if user != nil {
			audited = instancehub.NewContextWithUser(ctx, user)
		}
		s.record(audited, "session.signIn", email, err)
	}()
	if s.Throttle == nil {
		return s.checkPassword(ctx, email, password)
	}
	addr, now := instancehub.SourceFromContext(ctx), s.now()
	attempt, counts, err := s.Throttle.ReserveLoginAttempt(ctx, email, addr, now, now.Add(-instancehub.FailureWindow), admitSignIn)
	if err != nil {
		return nil, err
	}
	if err = s.wait(ctx, signInDelay(counts)); err == nil {
		user, err = s.checkPassword(ctx, email, password)
	}
	if serr := s.settleAttempt(context.WithoutCancel(ctx), attempt, email, addr, err); serr != nil {
		return nil, serr
	}
	return user, err
}

// settleAttempt records how an attempt ended: a wrong password is a
// failure; a right one clears the account's failures from its address; an
// attempt that ended neither right nor wrong is taken back.
func (s *Service) settleAttempt(ctx context.Context, attempt int64, email, addr string, err error) error {
	switch instancehub.ErrorCode(err) {
	case instancehub.EUNAUTHORIZED:
		return s.Throttle.FailLoginAttempt(ctx, attempt)
	case "":
		if _, err := s.Throttle.ClearLoginFailures(ctx, email, addr); err != nil {
			return err
		}
	}
	return s.Throttle.ForgetLoginAttempt(ctx, attempt)
}

// UnlockAccount forgets an account's failed sign-ins from every address, as
// the signed-in Owner, so that its next sign-ins wait no more; it returns
// how many failures it forgot. EFORBIDDEN without roles/write; an EINVALID
// field error for an unknown email.
func (s *Service) UnlockAccount(ctx context.Context, email string) (n int, err error) {
	email = instancehub.Clip(strings.TrimSpace(email), instancehub.MaxEmailLength)
	defer func() { s.record(ctx, "user.unlock", email, err) }()
	if _, err := authorize(ctx, instancehub.PermWriteRoles, "unlock accounts"); err != nil {
		return 0, err
	}
	return s.unlockAccount(ctx, email)
}

// UnlockAccountFromCLI is UnlockAccount from the command line, which is
// trusted: how an Owner who cannot sign in gets back.
func (s *Service) UnlockAccountFromCLI(ctx context.Context, email string) (n int, err error) {
	email = instancehub.Clip(strings.TrimSpace(email), instancehub.MaxEmailLength)
	defer func() { s.record(ctx, "user.unlock", email+" (command line)", err) }()
	return s.unlockAccount(ctx, email)
}

func (s *Service) unlockAccount(ctx context.Context, email string) (int, error) {
	if _, err := s.Users.FindUserByEmail(ctx, email); instancehub.ErrorCode(err) == instancehub.ENOTFOUND {
		return 0, instancehub.FieldError("email", fmt.Sprintf("There is no user with the email %s.", email))
	} else if err != nil {
		return 0, err
	}
	return s.Throttle.ClearLoginFailures(ctx, email, "")
}

// wait pauses for d, or until ctx ends.
func (s *Service) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if s.Wait != nil {
		return s.Wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkPassword returns the account of that email when password is its
// own and it is not disabled. A disabled account answers as a wrong
// password does, whatever the password, so that nobody learns from it
// whether they guessed right.
func (s *Service) checkPassword(ctx context.Context, email, password string) (*instancehub.User, error) {
	wrong := instancehub.Errorf(instancehub.EUNAUTHORIZED, "The email or password is not correct, or the account is disabled.")
	user, err := s.Users.FindUserByEmail(ctx, email)
	hash := instancehub.DummyHash
	if err == nil && user.PasswordHash != "" {
		hash = user.PasswordHash
	} else if err != nil && instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		return nil, err
	}
	matches, err := checkPasswordLimited(ctx, hash, password)
	if err != nil {
		return nil, err
	}
	if user == nil || user.PasswordHash == "" || !matches || !user.DisabledAt.IsZero() {
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
func (s *Service) CreateUser(ctx context.Context, email, name, password string) (user *instancehub.User, err error) {
	email, name = strings.TrimSpace(email), strings.TrimSpace(name)
	defer func() { s.record(ctx, "user.add", instancehub.Clip(email, instancehub.MaxEmailLength), err) }()
	if err := checkEmail(email); err != nil {
		return nil, err
	}
	if err := instancehub.TooLong("name", "A name", name, instancehub.MaxDisplayNameLength); err != nil {
		return nil, err
	}
	if name == "" {
		name = email[:strings.IndexByte(email, '@')]
	}
	hash, err := instancehub.HashPassword(password)
	if err != nil {
		return nil, err
	}
	user = &instancehub.User{Email: email, Name: name, PasswordHash: hash, CreatedAt: s.now()}
	if err := s.Users.CreateUser(ctx, user); err != nil {
		return nil, err
	}
	return user, nil
}

func checkEmail(email string) error {
	if err := instancehub.TooLong("email", "An email address", email, instancehub.MaxEmailLength); err != nil {
		return err
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return instancehub.FieldError("email", fmt.Sprintf("%q is not an email address.", email))
	}
	return nil
}

// EnsureFirstUser creates the first account, an Owner, when there is none,
// with the given password or a generated one, which it returns so that it
// can be shown once. It does nothing when accounts exist, or when another
// portal starting beside it makes the account first.
func (s *Service) EnsureFirstUser(ctx context.Context, email, password string) (user *instancehub.User, generated string, err error) {
	n, err := s.Users.CountUsers(ctx)
	if err != nil || n > 0 {
		return nil, "", err
	}
	if password == "" {
		generated = instancehub.GeneratePassword()
		password = generated
	}
	user, err = s.CreateUser(ctx, email, "Administrator", password)
	if instancehub.ErrorCode(err) == instancehub.ECONFLICT {
		// Another portal on the database, started at the same moment,
		// made it first.
		return nil, "", nil
	} else if err != nil {
		return nil, "", err
	}
	owner := &instancehub.RoleAssignment{UserID: user.ID, Role: instancehub.RoleOwner, Source: instancehub.SourceCLI, AssignedAt: s.now()}
	if err := s.Roles.AssignRole(ctx, owner); err != nil {
		return nil, "", err
	}
	user.Roles = []instancehub.Role{instancehub.RoleOwner}
	return user, generated, nil
}

// SignInExternal signs in a person an identity provider vouched for: the
// user it knows by subject, else a new user. An email the provider sends is
// not proof of owning a local account of that email (Entra ID does not
// verify it), so such an account is never taken over. When groups map to
// roles, the roles single sign-on gave follow the groups at each sign-in.
func (s *Service) SignInExternal(ctx context.Context, id *instancehub.Identity) (user *instancehub.User, err error) {
	defer func() {
		audited := ctx
		if user != nil {
			audited = instancehub.NewContextWithUser(ctx, user)
		}
		s.record(audited, "session.signIn", instancehub.Clip(id.Email, instancehub.MaxEmailLength)+" (single sign-on)", err)
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

func (s *Service) externalUser(ctx context.Context, id *instancehub.Identity) (*instancehub.User, error) {
	if id.Subject == "" || len(id.Subject) > instancehub.MaxSubjectLength || checkEmail(id.Email) != nil {
		return nil, instancehub.Errorf(instancehub.EUNAUTHORIZED, "The identity provider sent no usable identity (email %q).", instancehub.Clip(id.Email, instancehub.MaxEmailLength))
	}
	// The provider's display name is not ours to refuse; it is cut instead.
	name := instancehub.Clip(strings.TrimSpace(id.Name), instancehub.MaxDisplayNameLength)
	if name == "" {
		name = id.Email[:strings.IndexByte(id.Email, '@')]
	}
	user, err := s.Users.FindUserBySubject(ctx, id.Subject)
	switch {
	case instancehub.ErrorCode(err) == instancehub.ENOTFOUND:
		user = &instancehub.User{Email: id.Email, Name: name, Subject: id.Subject, CreatedAt: s.now()}
		if err := s.Users.CreateUser(ctx, user); instancehub.ErrorCode(err) == instancehub.ECONFLICT {
			return nil, instancehub.Errorf(instancehub.EUNAUTHORIZED, "An account with the email %s already exists in instancehub, not linked to single sign-on. Sign in with its password, or ask an Owner.", id.Email)
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
func (s *Service) syncMappedRoles(ctx context.Context, user *instancehub.User, groups []string) error {
	if len(s.RoleMap) == 0 {
		return nil
	}
	want := map[instancehub.Role]bool{}
	for _, g := range groups {
		if r, ok := s.RoleMap[g]; ok {
			want[r] = true
		}
	}
	current, err := s.Roles.FindRoleAssignments(ctx, "")
	if err != nil {
		return err
	}
	have := map[instancehub.Role]bool{}
	for _, a := range current {
		if a.UserID != user.ID {
			continue
		}
		have[a.Role] = true
		if a.Source == instancehub.SourceSSO && !want[a.Role] {
			_, err := s.Roles.RemoveRoleAssignment(ctx, a.ID)
			s.record(ctx, "role.remove", fmt.Sprintf("%s: %s (single sign-on groups)", user.Email, a.Role), err)
			if err != nil && instancehub.ErrorCode(err) != instancehub.ECONFLICT {
				return err
			}
		}
	}
	for r := range want {
		if have[r] {
			continue
		}
		a := &instancehub.RoleAssignment{UserID: user.ID, Role: r, Source: instancehub.SourceSSO, AssignedAt: s.now()}
		err := s.Roles.AssignRole(ctx, a)
		s.record(ctx, "role.assign", fmt.Sprintf("%s: %s (single sign-on groups)", user.Email, r), err)
		if err != nil && instancehub.ErrorCode(err) != instancehub.ECONFLICT {
			return err
		}
	}
	return nil
}

// People returns every account with its roles, for the access control
// page's list of users (PermReadRoles).
func (s *Service) People(ctx context.Context) ([]*instancehub.User, error) {
	if _, err := authorize(ctx, instancehub.PermReadRoles, "see the users"); err != nil {
		return nil, err
	}
	users, err := s.Users.FindUsers(ctx, "", 0)
	if err != nil {
		return nil, err
	}
	assignments, err := s.Roles.FindRoleAssignments(ctx, "")
	if err != nil {
		return nil, err
	}
	byID := map[int64]*instancehub.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	for _, a := range assignments {
		if u := byID[a.UserID]; u != nil {
			u.Roles = append(u.Roles, a.Role)
		}
	}
	return users, nil
}

// SetUserDisabled disables the account with id, which ends its sessions
// and its links to set a password at once, revokes its tokens for good,
// and keeps it from signing in (its instances stay, and keep running); or
// enables it again, which brings back none of its tokens or links: a token
// that may have leaked while it was disabled stays dead, and its person
// makes new ones. Owners only. ECONFLICT for one's own account, and for the
// last Owner who can sign in.
func (s *Service) SetUserDisabled(ctx context.Context, id int64, disabled bool) (user *instancehub.User, err error) {
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	revoked := 0
	defer func() {
		target := ""
		if user != nil {
			target = user.Email
		}
		if revoked > 0 {
			target += " (" + instancehub.Plural(revoked, "token") + " revoked)"
		}
		s.record(ctx, action, target, err)
	}()
	by, err := authorize(ctx, instancehub.PermWriteRoles, "disable or enable users")
	if err != nil {
		return nil, err
	}
	if user, err = s.Users.FindUserByID(ctx, id); err != nil {
		return nil, err
	}
	at := time.Time{}
	if disabled {
		if user.ID == by.ID {
			return user, instancehub.Errorf(instancehub.ECONFLICT, "You cannot disable your own account.")
		}
		if err := s.keepAnOwner(ctx, user); err != nil {
			return user, err
		}
		at = s.now()
	}
	revoked, err = s.Users.SetUserDisabled(ctx, user.ID, at)
	return user, err
}

// keepAnOwner refuses to disable the last Owner who can sign in.
func (s *Service) keepAnOwner(ctx context.Context, user *instancehub.User) error {
	owners, err := s.Roles.FindRoleAssignments(ctx, instancehub.RoleOwner)
	if err != nil {
		return err
	}
	others, isOwner := 0, false
	for _, a := range owners {
		if a.UserID == user.ID {
			isOwner = true
			continue
		}
		if u, err := s.Users.FindUserByID(ctx, a.UserID); err == nil && u.DisabledAt.IsZero() {
			others++
		}
	}
	if isOwner && others == 0 {
		return instancehub.Errorf(instancehub.ECONFLICT, "%s is the last Owner who can sign in; make someone else an Owner first.", user.Name)
	}
	return nil
}

// hashSlots bounds how many passwords are hashed at once: each takes 19 MiB,
// and a burst of sign-ins must not exhaust the server's memory.
var hashSlots = make(chan struct{}, 4)

// checkPasswordLimited is CheckPassword within the bound, waiting for a
// slot as long as ctx allows.
func checkPasswordLimited(ctx context.Context, hash, password string) (bool, error) {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-hashSlots }()
	return instancehub.CheckPassword(hash, password), nil
}

// UserToDisable returns the account with id, for the page that asks before
// disabling it: Owners only, as disabling is. EFORBIDDEN without
// roles/write; ENOTFOUND for no such account.
func (s *Service) UserToDisable(ctx context.Context, id int64) (*instancehub.User, error) {
	if _, err := authorize(ctx, instancehub.PermWriteRoles, "disable accounts"); err != nil {
		return nil, err
	}
	return s.Users.FindUserByID(ctx, id)
}
