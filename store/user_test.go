package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// createUser creates a user named after the email's local part.
func createUser(tb testing.TB, db *DB, email, name string) *instancehub.User {
	tb.Helper()
	u := &instancehub.User{Email: email, Name: name}
	if err := db.CreateUser(context.Background(), u); err != nil {
		tb.Fatal(err)
	}
	return u
}

func TestCreateUser(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	u := &instancehub.User{Email: "Ada@Example.com", Name: "Ada Lovelace", PasswordHash: "$argon2id$x"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || !u.CreatedAt.Equal(start) {
		t.Errorf("after create: ID %d, CreatedAt %v; want an ID and %v", u.ID, u.CreatedAt, start)
	}

	dup := &instancehub.User{Email: "ada@EXAMPLE.com", Name: "Someone else"}
	wantCode(t, db.CreateUser(ctx, dup), instancehub.ECONFLICT)

	got, err := db.FindUserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, *u) {
		t.Errorf("FindUserByID = %+v, want %+v", got, u)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", n, err)
	}
}

func TestFindUserByEmail(t *testing.T) {
	db, _ := openTestDB(t)
	ada := createUser(t, db, "Ada@Example.com", "Ada")
	createUser(t, db, "grace@example.com", "Grace")

	tests := []struct {
		email  string
		wantID int64
		code   string
	}{
		{"Ada@Example.com", ada.ID, ""},
		{"ada@example.com", ada.ID, ""},
		{"ADA@EXAMPLE.COM", ada.ID, ""},
		{"ada@example.org", 0, instancehub.ENOTFOUND},
		{"", 0, instancehub.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			u, err := db.FindUserByEmail(context.Background(), tt.email)
			wantCode(t, err, tt.code)
			if err == nil && u.ID != tt.wantID {
				t.Errorf("found user %d, want %d", u.ID, tt.wantID)
			}
		})
	}
}

func TestFindUserByIDNotFound(t *testing.T) {
	db, _ := openTestDB(t)
	_, err := db.FindUserByID(context.Background(), 99)
	wantCode(t, err, instancehub.ENOTFOUND)
}

// TestDisablingEndsEverythingThatSignsIn: disabling a user ends their
// sessions and links to set a password and revokes their working tokens,
// in one transaction; enabling them again brings none of it back, and
// another user keeps theirs.
func TestDisablingEndsEverythingThatSignsIn(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	bob, carol := createUser(t, db, "bob@example.com", "Bob"), createUser(t, db, "carol@example.com", "Carol")
	for _, u := range []*instancehub.User{bob, carol} {
		createSession(t, db, "session-"+u.Name, u, start.Add(24*time.Hour))
		link := &instancehub.PasswordLink{TokenHash: "link-" + u.Name, UserID: u.ID, CreatedAt: start, ExpiresAt: start.Add(72 * time.Hour)}
		if err := db.CreatePasswordLink(ctx, link); err != nil {
			t.Fatal(err)
		}
		for i, expires := range []time.Time{start.Add(30 * 24 * time.Hour), start.Add(7 * 24 * time.Hour), start.Add(30 * time.Minute)} {
			tok := &instancehub.APIToken{UserID: u.ID, Name: fmt.Sprintf("token %d", i), Hash: fmt.Sprintf("hash-%s-%d", u.Name, i),
				Prefix: "ihp_abcd", CreatedAt: start, ExpiresAt: expires}
			if err := db.CreateToken(ctx, tok, start); err != nil {
				t.Fatal(err)
			}
		}
	}
	at := start.Add(time.Hour) // the third token has expired by then
	revoked, err := db.SetUserDisabled(ctx, bob.ID, at)
	if err != nil || revoked != 2 {
		t.Fatalf("disable: %d tokens revoked, %v; want the 2 that worked", revoked, err)
	}
	if _, err := db.SetUserDisabled(ctx, bob.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*instancehub.User{bob, carol} {
		kept := u == carol
		_, err := db.FindSession(ctx, "session-"+u.Name, at)
		if (err == nil) != kept {
			t.Errorf("%s's session: %v", u.Name, err)
		}
		works, err := db.PasswordLinkWorks(ctx, "link-"+u.Name, at)
		if err != nil || works != kept {
			t.Errorf("%s's link works: %v, %v", u.Name, works, err)
		}
		tokens, err := db.FindTokens(ctx, u.ID, at)
		if err != nil || len(tokens) != 3 {
			t.Fatalf("%s's tokens: %d, %v", u.Name, len(tokens), err)
		}
		for _, tok := range tokens {
			want := "Active"
			switch {
			case !tok.ExpiresAt.After(at):
				want = "Expired"
			case !kept:
				want = "Revoked"
			}
			if got := tok.Status(at); got != want || (want == "Revoked" && !tok.RevokedAt.Equal(at)) {
				t.Errorf("%s's %s: %s (revoked at %v), want %s", u.Name, tok.Name, got, tok.RevokedAt, want)
			}
			if _, err := db.FindToken(ctx, tok.Hash, at); (err == nil) != (want == "Active") {
				t.Errorf("%s's %s is found: %v", u.Name, tok.Name, err)
			}
		}
	}
}

// TestUpgradeEndsWhatDisabledAccountsKept opens a database made before
// disabling revoked tokens and ended links: an account disabled then loses
// its links and its working tokens, revoked as of its disabling; an
// enabled one keeps its own.
func TestUpgradeEndsWhatDisabledAccountsKept(t *testing.T) {
	ctx := context.Background()
	path, raw := olderDatabase(t, 18)
	disabledAt := start.Add(time.Hour)
	for _, stmt := range []string{
		fmt.Sprintf(`INSERT INTO users (id, email, name, created_at, disabled_at) VALUES (1, 'bob@example.com', 'Bob', 0, %d), (2, 'carol@example.com', 'Carol', 0, 0)`,
			millis(disabledAt)),
		fmt.Sprintf(`INSERT INTO password_links (token_hash, user_id, created_at, expires_at) VALUES ('link-bob', 1, 0, %[1]d), ('link-carol', 2, 0, %[1]d)`,
			millis(start.Add(72*time.Hour))),
		fmt.Sprintf(`INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, expires_at) VALUES
			(1, 'working', 'hash-bob-1', 'ihp_a', 0, %[1]d), (1, 'expired', 'hash-bob-2', 'ihp_b', 0, %[2]d), (2, 'working', 'hash-carol', 'ihp_c', 0, %[1]d)`,
			millis(start.Add(30*24*time.Hour)), millis(start)),
	} {
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for hash, works := range map[string]bool{"link-bob": false, "link-carol": true} {
		if got, err := db.PasswordLinkWorks(ctx, hash, start); err != nil || got != works {
			t.Errorf("%s works: %v, %v; want %v", hash, got, err, works)
		}
	}
	want := map[string]time.Time{"hash-bob-1": disabledAt, "hash-bob-2": {}, "hash-carol": {}}
	tokens, err := db.FindTokens(ctx, 0, start)
	if err != nil || len(tokens) != len(want) {
		t.Fatalf("tokens: %d, %v", len(tokens), err)
	}
	for _, tok := range tokens {
		if !tok.RevokedAt.Equal(want[tok.Hash]) {
			t.Errorf("%s revoked at %v, want %v", tok.Hash, tok.RevokedAt, want[tok.Hash])
		}
	}
}

// A session's start is its user's last sign-in, which FindUsers and the
// lookups read with how many live instances the user owns.
func TestLastSignInAndInstancesOwned(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	createUser(t, db, "bob@example.com", "Bob")
	createInstance(t, db, "ada-1", ada)
	gone, _ := createInstance(t, db, "ada-2", ada)
	createInstance(t, db, "ada-3", ada)
	if _, err := db.rawExec(ctx, `UPDATE instances SET state = 'Deleted' WHERE id = ?`, gone.ID); err != nil {
		t.Fatal(err)
	}

	clock.Add(90 * time.Minute)
	signedIn := clock.Now().UTC().Truncate(time.Millisecond)
	if err := db.CreateSession(ctx, &instancehub.Session{TokenHash: "h", UserID: ada.ID, ExpiresAt: signedIn.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	users, err := db.FindUsers(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range users {
		got[u.Email] = fmt.Sprintf("%v %d", u.LastSignInAt, u.Instances)
	}
	want := map[string]string{
		"ada@example.com": fmt.Sprintf("%v 2", signedIn),
		"bob@example.com": fmt.Sprintf("%v 0", time.Time{}),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FindUsers: last sign-in and instances = %v, want %v", got, want)
	}
	if u, err := db.FindUserByID(ctx, ada.ID); err != nil || !u.LastSignInAt.Equal(signedIn) {
		t.Errorf("FindUserByID: last sign-in %v (%v), want %v", u.LastSignInAt, err, signedIn)
	}
}
