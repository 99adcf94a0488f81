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

// TestQuietWritesKeepTheDataVersion: a session's last-seen and a token's
// last use, which no page shows, leave the data version (and so every page
// and read kept at it), while the session's and the token's own kept reads
// show the new times; a write a page shows, here or by another process on
// the same database, moves it.
func TestQuietWritesKeepTheDataVersion(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	createSession(t, db, "hash-1", ada, start.Add(time.Hour))
	tok := &instancehub.APIToken{UserID: ada.ID, Name: "laptop", Hash: "token-hash", Prefix: "ih_abcd",
		CreatedAt: start, ExpiresAt: start.Add(24 * time.Hour)}
	if err := db.CreateToken(ctx, tok, start); err != nil {
		t.Fatal(err)
	}
	version := func() int64 {
		t.Helper()
		v, err := db.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Kept reads of the session and the token, at this version.
	if _, err := db.FindSession(ctx, "hash-1", start); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindToken(ctx, "token-hash", start); err != nil {
		t.Fatal(err)
	}
	before := version()

	seen := start.Add(2 * time.Minute)
	if err := db.TouchSession(ctx, "hash-1", seen); err != nil {
		t.Fatal(err)
	}
	if first, err := db.TouchToken(ctx, tok.ID, seen); err != nil || !first {
		t.Fatalf("first use %v, %v", first, err)
	}
	if first, err := db.TouchToken(ctx, tok.ID, seen.Add(time.Minute)); err != nil || first {
		t.Fatalf("second use reported first %v, %v", first, err)
	}
	if after := version(); after != before {
		t.Errorf("data version %d, then %d after a session's and a token's use", before, after)
	}
	if s, err := db.FindSession(ctx, "hash-1", seen); err != nil || !s.LastSeenAt.Equal(seen) {
		t.Errorf("the session after its touch: %+v, %v; want last seen %v", s, err, seen)
	}
	if kept, err := db.FindToken(ctx, "token-hash", seen); err != nil || !kept.LastUsedAt.Equal(seen.Add(time.Minute)) {
		t.Errorf("the token after its use: %+v, %v; want last used %v", kept, err, seen.Add(time.Minute))
	}

	// A write a page shows moves the version.
	runningInstance(t, db, "shown", ada)
	moved := version()
	if moved == before {
		t.Errorf("data version %d after an instance was created", moved)
	}
	if err := db.SetWorkspaceLimit(ctx, "westeurope", "standardDSv2Family", 48); err != nil {
		t.Fatal(err)
	}
	if v := version(); v == moved {
		t.Errorf("data version %d after a quota changed", v)
	}
}
