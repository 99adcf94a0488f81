package instancehub

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// sessionTouchEvery limits writes: last-seen is recorded at most this often.
const sessionTouchEvery = time.Minute

// SignIn checks a local account's email and password, as Authenticate does,
// and starts a session. The session the browser had, previous (a token, or
// empty), ends first, so that a session can never be fixed in advance.
func (s *Service) SignIn(ctx context.Context, email, password, previous string) (*SignedIn, error) {
	user, err := s.Authenticate(ctx, email, password)
	if err != nil {
		return nil, err
	}
	return s.startSession(ctx, user, previous)
}

// SignInWithIdentity signs in a person an identity provider vouched for, as
// SignInExternal does, and starts a session in place of previous.
func (s *Service) SignInWithIdentity(ctx context.Context, id *Identity, previous string) (*SignedIn, error) {
	user, err := s.SignInExternal(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.startSession(ctx, user, previous)
}

// startSession refuses a disabled account plainly: by here the person is
// proven (a local account's password check already answers for a disabled
// one as for a wrong password, which says nothing of it).
func (s *Service) startSession(ctx context.Context, user *User, previous string) (*SignedIn, error) {
	if !user.DisabledAt.IsZero() {
		return nil, Errorf(EUNAUTHORIZED, "This account is disabled. Ask an Owner of the workspace.")
	}
	if previous != "" {
		if err := s.Sessions.DeleteSession(ctx, hashSessionToken(previous)); err != nil {
			return nil, err
		}
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails on the platforms Go supports
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now().UTC()
	sess := &Session{
		TokenHash: hashSessionToken(token), UserID: user.ID,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionLifetime),
	}
	if err := s.Sessions.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	return &SignedIn{User: user, Token: token, ExpiresAt: sess.ExpiresAt}, nil
}

// UserBySession returns the user of the session with that token, with their
// roles, and records that it was used. A session unused for SessionIdle
// ends here. EUNAUTHORIZED when there is no such live session.
func (s *Service) UserBySession(ctx context.Context, token string) (*User, error) {
	gone := Errorf(EUNAUTHORIZED, "Your session has ended. Sign in again.")
	if token == "" || len(token) > 128 {
		return nil, gone
	}
	now, hash := s.now(), hashSessionToken(token)
	sess, err := s.Sessions.FindSession(ctx, hash, now)
	if ErrorCode(err) == ENOTFOUND {
		return nil, gone
	} else if err != nil {
		return nil, err
	}
	if now.Sub(sess.LastSeenAt) > SessionIdle {
		if err := s.Sessions.DeleteSession(ctx, hash); err != nil {
			return nil, err
		}
		return nil, gone
	}
	if now.Sub(sess.LastSeenAt) > sessionTouchEvery {
		if err := s.Sessions.TouchSession(ctx, hash, now); err != nil {
			return nil, err
		}
	}
	return sess.User, nil
}

// SignOut ends the session with that token and audits it; the signed-in
// user is the context's.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if user := UserFromContext(ctx); user != nil {
		s.record(ctx, "session.signOut", user.Email, nil)
	}
	if token == "" {
		return nil
	}
	return s.Sessions.DeleteSession(ctx, hashSessionToken(token))
}

func hashSessionToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
