package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/instancehub/instancehub"
	"golang.org/x/term"
)

// usersAddCommand adds a local account. The password is read from stdin,
// without echo when stdin is a terminal, so it never shows in the process list.
func usersAddCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c Config
	var email, name string
	err := parse("users add", args, stderr, func(f *flags) {
		c.bindDatabase(f)
		f.fs.StringVar(&email, "email", "", "email of the new account (required)")
		f.fs.StringVar(&name, "name", "", "display name of the new account")
	})
	if err != nil {
		return err
	}
	if email == "" {
		return fmt.Errorf("--email is required")
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, c, newLogger(stderr, c.LogLevel, c.LogFormat))
	if err != nil {
		return err
	}
	defer db.Close()
	service := &instancehub.Service{Users: db, Audit: db}
	user, err := service.CreateUser(ctx, email, name, password)
	if err != nil {
		return fmt.Errorf("%s", instancehub.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "Added %s <%s>.\n", user.Name, user.Email)
	return nil
}

// usersUnlockCommand forgets an account's failed sign-ins from every
// address: how an Owner whose sign-ins a stranger slowed down gets back at
// once. The email comes first or as --email.
func usersUnlockCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var email string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		email, args = args[0], args[1:]
	}
	err := parse("users unlock", args, stderr, func(f *flags) {
		c.bindDatabase(f)
		f.fs.StringVar(&email, "email", email, "email of the account (required)")
	})
	if err != nil {
		return err
	}
	if email == "" {
		return fmt.Errorf("usage: instancehub users unlock EMAIL [--data D]")
	}
	db, err := openStore(ctx, c, newLogger(stderr, c.LogLevel, c.LogFormat))
	if err != nil {
		return err
	}
	defer db.Close()
	service := &instancehub.Service{Users: db, Audit: db, Throttle: db}
	n, err := service.UnlockAccountFromCLI(ctx, email)
	if err != nil {
		return fmt.Errorf("%s", instancehub.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "Forgot %d failed sign-ins of %s; its sign-ins wait no more.\n", n, email)
	return nil
}

func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("no password on stdin; pipe it in, for example: read -rs P && echo \"$P\" | instancehub users add --email …")
	}
	return line, nil
}

// rolesAssignCommand gives a user a role from the command line: how a
// portal that signs in only with single sign-on gets its first Owner, and how
// a locked-out workspace recovers.
func rolesAssignCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var email, roleName string
	err := parse("roles assign", args, stderr, func(f *flags) {
		c.bindDatabase(f)
		f.fs.StringVar(&email, "email", "", "email of the user (required)")
		f.fs.StringVar(&roleName, "role", "", "the role to give (required)")
	})
	if err != nil {
		return err
	}
	if email == "" || roleName == "" {
		return fmt.Errorf("--email and --role are required")
	}
	role, err := instancehub.ParseRole(roleName)
	if err != nil {
		return fmt.Errorf("%s", instancehub.ErrorMessage(err))
	}
	db, err := openStore(ctx, c, newLogger(stderr, c.LogLevel, c.LogFormat))
	if err != nil {
		return err
	}
	defer db.Close()
	service := &instancehub.Service{Users: db, Roles: db, Audit: db}
	a, err := service.AssignRoleFromCLI(ctx, email, role)
	if err != nil {
		return fmt.Errorf("%s", instancehub.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "%s <%s> now has the %s role.\n", a.UserName, a.UserEmail, a.Role)
	return nil
}
