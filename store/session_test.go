package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

func createSession(tb testing.TB, db *DB, token string, user *instancehub.User, expires time.Time) {
	tb.Helper()
	s := &instancehub.Session{TokenHash: token, UserID: user.ID, ExpiresAt: expires}
	if err := db.CreateSession(context.Background(), s); err != nil {
		tb.Fatal(err)
	}
}

func TestFindSession(t *testing.T) {
	db, _ := openTestDB(t)
	ada := createUser(t, db, "ada@example.com", "Ada")
	expires := start.Add(time.Hour)
	createSession(t, db, "hash-1", ada, expires)

	tests := []struct {
		name  string
		token string
		now   time.Time
		code  string
	}{
		{"valid", "hash-1", start, ""},
		{"a millisecond before expiry", "hash-1", expires.Add(-time.Millisecond), ""},
		{"at expiry", "hash-1", expires, instancehub.ENOTFOUND},
		{"after expiry", "hash-1", expires.Add(time.Minute), instancehub.ENOTFOUND},
		{"unknown token", "hash-2", start, instancehub.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := db.FindSession(context.Background(), tt.token, tt.now)
			wantCode(t, err, tt.code)
			if err != nil {
				return
			}
			if s.UserID != ada.ID || s.User == nil || !reflect.DeepEqual(*s.User, *ada) {
				t.Errorf("session user = %d %+v, want %+v", s.UserID, s.User, ada)
			}
			if !s.CreatedAt.Equal(start) || !s.LastSeenAt.Equal(start) || !s.ExpiresAt.Equal(expires) {
				t.Errorf("times = %v %v %v", s.CreatedAt, s.LastSeenAt, s.ExpiresAt)
			}
		})
	}
}

func TestTouchSession(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	createSession(t, db, "hash-1", ada, start.Add(time.Hour))

	seen := start.Add(10 * time.Minute)
	if err := db.TouchSession(ctx, "hash-1", seen); err != nil {
		t.Fatal(err)
	}
	s, err := db.FindSession(ctx, "hash-1", seen)
	if err != nil {
		t.Fatal(err)
	}
	if !s.LastSeenAt.Equal(seen) || !s.CreatedAt.Equal(start) {
		t.Errorf("LastSeenAt %v, CreatedAt %v; want %v, %v", s.LastSeenAt, s.CreatedAt, seen, start)
	}
	if err := db.TouchSession(ctx, "gone", seen); err != nil {
		t.Errorf("touching a session that is gone: %v", err)
	}
}

func TestDeleteSessions(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	grace := createUser(t, db, "grace@example.com", "Grace")
	later := start.Add(time.Hour)
	createSession(t, db, "ada-laptop", ada, later)
	createSession(t, db, "ada-phone", ada, later)
	createSession(t, db, "ada-tablet", ada, later)
	createSession(t, db, "grace-laptop", grace, later)

	if err := db.DeleteSession(ctx, "ada-laptop"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteSession(ctx, "ada-laptop"); err != nil {
		t.Errorf("signing out twice: %v", err)
	}
	if err := db.DeleteUserSessions(ctx, ada.ID); err != nil {
		t.Fatal(err)
	}
	for token, code := range map[string]string{
		"ada-laptop":   instancehub.ENOTFOUND,
		"ada-phone":    instancehub.ENOTFOUND,
		"ada-tablet":   instancehub.ENOTFOUND,
		"grace-laptop": "",
	} {
		_, err := db.FindSession(ctx, token, start)
		if got := instancehub.ErrorCode(err); got != code {
			t.Errorf("FindSession(%s): code %q, want %q", token, got, code)
		}
	}
}

func TestDeleteExpiredSessions(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	now := start.Add(24 * time.Hour)
	createSession(t, db, "expired-long-ago", ada, start)
	createSession(t, db, "expires-now", ada, now)
	createSession(t, db, "still-valid", ada, now.Add(time.Millisecond))

	n, err := db.DeleteExpiredSessions(ctx, now)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 2", n, err)
	}
	if _, err := db.FindSession(ctx, "still-valid", start); err != nil {
		t.Errorf("the valid session was deleted: %v", err)
	}
	var left int
	if err := db.rawQueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&left); err != nil || left != 1 {
		t.Errorf("%d sessions left (%v), want 1", left, err)
	}
	if n, err := db.DeleteExpiredSessions(ctx, now); err != nil || n != 0 {
		t.Errorf("second DeleteExpiredSessions = %d, %v; want 0", n, err)
	}
}
