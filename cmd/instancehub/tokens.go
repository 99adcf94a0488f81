package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/instancehub/instancehub"
)

// tokensCreateCommand prints a new personal access token for a user, from
// the server's own machine: how automation gets its first token without a
// browser. The token is printed once, alone on stdout, for a script to keep.
func tokensCreateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var n instancehub.NewToken
	var email string
	err := parse("tokens create", args, stderr, func(f *flags) {
		c.bindDatabase(f)
		f.fs.StringVar(&email, "email", "", "email of the token's user (required)")
		f.fs.StringVar(&n.Name, "name", "", "what the token is for (required)")
		f.fs.StringVar(&n.Expires, "expires", "30d", "how long it works: days (30d) or a duration (12h), at most 365d")
		f.fs.BoolVar(&n.ReadOnly, "read-only", false, "let it read, never change")
	})
	if err != nil {
		return usageError{err}
	}
	if email == "" || n.Name == "" {
		return usageError{fmt.Errorf("--email and --name are required")}
	}
	db, err := openStore(ctx, c, newLogger(stderr, c.LogLevel, c.LogFormat))
	if err != nil {
		return err
	}
	defer db.Close()
	service := &instancehub.Service{Users: db, Roles: db, Tokens: db, Audit: db}
	created, err := service.CreateTokenFromCLI(ctx, email, n)
	if err != nil {
		return fmt.Errorf("%s", messageWithFields(err))
	}
	fmt.Fprintln(stdout, created.Secret)
	fmt.Fprintf(stderr, "Token %q of %s works until %s. It is shown only now.\n",
		created.Name, created.UserEmail, created.ExpiresAt.Format("2006-01-02 15:04 MST"))
	return nil
}

// messageWithFields is an error's message followed by its fields' own, in
// the fields' order.
func messageWithFields(err error) string {
	msg := instancehub.ErrorMessage(err)
	fields := instancehub.ErrorFields(err)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if fields[k] != msg {
			msg += fmt.Sprintf("\n  %s: %s", k, fields[k])
		}
	}
	return msg
}
