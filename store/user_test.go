package store

import (
	"context"
	"reflect"
	"testing"

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
