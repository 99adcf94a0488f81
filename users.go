package instancehub

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Authenticate checks a local account's email and password. A wrong email
// and a wrong password get the same EUNAUTHORIZED error and take as long.
func (s *Service) Authenticate(ctx context.Context, email, password string) (*User, error) {
	wrong := Errorf(EUNAUTHORIZED, "The email or password is not correct.")
	user, err := s.Users.FindUserByEmail(ctx, strings.TrimSpace(email))
	if ErrorCode(err) == ENOTFOUND {
		CheckPassword(dummyHash, password)
		return nil, wrong
	} else if err != nil {
		return nil, err
	}
	if user.PasswordHash == "" || !CheckPassword(user.PasswordHash, password) {
		return nil, wrong
	}
	return user, nil
}

// CreateUser adds a local account. It is how the command line and the first
// start make accounts; the checks are the form's.
func (s *Service) CreateUser(ctx context.Context, email, name, password string) (*User, error) {
	email, name = strings.TrimSpace(email), strings.TrimSpace(name)
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return nil, FieldError("email", fmt.Sprintf("%q is not an email address.", email))
	}
	if name == "" {
		name = email[:strings.IndexByte(email, '@')]
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	user := &User{Email: email, Name: name, PasswordHash: hash, CreatedAt: time.Now().UTC()}
	if err := s.Users.CreateUser(ctx, user); err != nil {
		return nil, err
	}
	return user, nil
}

// EnsureFirstUser creates the first account when there is none, with the
// given password or a generated one, which it returns so that it can be
// shown once. It does nothing when accounts exist.
func (s *Service) EnsureFirstUser(ctx context.Context, email, password string) (user *User, generated string, err error) {
	n, err := s.Users.CountUsers(ctx)
	if err != nil || n > 0 {
		return nil, "", err
	}
	if password == "" {
		generated = GeneratePassword()
		password = generated
	}
	user, err = s.CreateUser(ctx, email, "Administrator", password)
	return user, generated, err
}

// GeneratePassword returns a random 20-character password.
func GeneratePassword() string {
	return rand.Text()[:20]
}
