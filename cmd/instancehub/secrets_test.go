package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// secretEnv holds a recognizable value for every secret the commands take
// from the environment; marks are the parts that must never be printed.
var secretEnv = map[string]struct{ value, mark string }{
	"INSTANCEHUB_TOKEN":              {"ih_tok-7f3a9c1e2b", "tok-7f3a9c1e2b"},
	"INSTANCEHUB_OIDC_CLIENT_SECRET": {"oidc-sec-9c1e4d", "oidc-sec-9c1e4d"},
	"INSTANCEHUB_ADMIN_PASSWORD":     {"admin-pw-5b2d8f", "admin-pw-5b2d8f"},
	"INSTANCEHUB_DATABASE":           {"postgres://ih:db-pw-3e8a61@db.example.com/ih", "db-pw-3e8a61"},
	"INSTANCEHUB_TO":                 {"postgres://ih:to-pw-d41f07@db.example.com/ih", "to-pw-d41f07"},
}

// secretsNamed are the secret variables each command's help names.
var secretsNamed = map[string][]string{
	"serve":         {"INSTANCEHUB_DATABASE", "INSTANCEHUB_OIDC_CLIENT_SECRET", "INSTANCEHUB_ADMIN_PASSWORD"},
	"doctor":        {"INSTANCEHUB_DATABASE", "INSTANCEHUB_OIDC_CLIENT_SECRET", "INSTANCEHUB_ADMIN_PASSWORD"},
	"help":          {"INSTANCEHUB_DATABASE", "INSTANCEHUB_OIDC_CLIENT_SECRET", "INSTANCEHUB_ADMIN_PASSWORD"},
	"users add":     {"INSTANCEHUB_DATABASE"},
	"users unlock":  {"INSTANCEHUB_DATABASE"},
	"roles assign":  {"INSTANCEHUB_DATABASE"},
	"tokens create": {"INSTANCEHUB_DATABASE"},
	"audit archive": {"INSTANCEHUB_DATABASE"},
	"backup":        {"INSTANCEHUB_DATABASE"},
	"restore":       {"INSTANCEHUB_DATABASE"},
	"compute":       {"INSTANCEHUB_TOKEN"},
	"compute apply": {"INSTANCEHUB_TOKEN"},
	"migrate-data":  {"INSTANCEHUB_TO"},
	"emulator":      nil,
}

// commands are the commands the usage lists, each compute command apart:
// a command added to the usage is checked without another line here.
func commands(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^  instancehub ((?:[a-z][a-z-]* ?)+)`).FindAllStringSubmatch(usage, -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	i := slices.Index(out, "compute")
	if i < 0 {
		t.Fatalf("the usage lists no compute command:\n%s", usage)
	}
	var verbs []string
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z|]+) `).FindAllStringSubmatch(computeUsage, -1) {
		for _, v := range strings.Split(m[1], "|") {
			if !slices.Contains(verbs, "compute "+v) {
				verbs = append(verbs, "compute "+v)
			}
		}
	}
	return slices.Concat(out[:i], verbs, []string{"compute help"}, out[i+1:])
}

// TestHelpNeverShowsSecrets: every command's help, and the usage printed
// for a mistyped flag, name the secret variables they read and never show
// their values, on stdout or stderr, whatever the environment holds.
func TestHelpNeverShowsSecrets(t *testing.T) {
	all := commands(t)
	if len(all) < 15 {
		t.Fatalf("only %d commands found in the usage: %q", len(all), all)
	}
	for _, command := range all {
		named, ok := secretsNamed[strings.Fields(command)[0]]
		if full, ok2 := secretsNamed[command]; ok2 {
			named, ok = full, true
		}
		if !ok {
			t.Errorf("%s: which secret variables does it read? add it to secretsNamed", command)
			continue
		}
		cases := [][]string{{"-h"}, {"--no-such-flag"}}
		if command == "help" || command == "compute help" {
			cases = [][]string{nil}
		}
		for _, extra := range cases {
			args := append(strings.Fields(command), extra...)
			stdout, stderr, code := runMain(t, args...)
			if len(extra) > 0 && extra[0] == "--no-such-flag" && code != 2 {
				t.Errorf("instancehub %s: exit status %d, want 2 (usage)", strings.Join(args, " "), code)
			}
			output := stdout + stderr
			for name, secret := range secretEnv {
				if strings.Contains(output, secret.mark) {
					t.Errorf("instancehub %s shows the value of %s:\n%s", strings.Join(args, " "), name, output)
				}
			}
			for _, name := range named {
				if !strings.Contains(output, name) {
					t.Errorf("instancehub %s does not name %s:\n%s", strings.Join(args, " "), name, output)
				}
			}
		}
	}
}

// runMain runs the instancehub command in a process of its own, with every
// secret variable set, and returns what it printed and its exit status.
func runMain(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	for name, secret := range secretEnv {
		cmd.Env = append(cmd.Env, name+"="+secret.value)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// TestDatabaseURLErrorsNeverShowThePassword: a PostgreSQL URL the portal
// cannot use, given by flag or by environment, is refused without its
// password, in whatever shape the password was written.
func TestDatabaseURLErrorsNeverShowThePassword(t *testing.T) {
	const pw = "pw-0a5ec7"
	urls := []string{
		"host=db.example.com user=ih password=" + pw, // libpq's key=value form
		"ih:" + pw + "@db.example.com/ih",            // no scheme
		"mysql://ih:" + pw + "@db.example.com/ih",
		"postgres ://ih:" + pw + "@db.example.com/ih",
		"postgres://ih:" + pw + "/x@db.example.com/ih",    // a / not percent-encoded
		"postgres://ih:" + pw + "%zz@db.example.com/ih",   // a bad escape
		"postgres://ih:p@" + pw + "@db.example.com/ih",    // an @ not percent-encoded
		"postgres://ih:" + pw + "@db.example.com:port/ih", // a bad port
		"postgres://ih@[::1/ih?password=" + pw,
		"postgres://ih:" + pw + "@127.0.0.1:1/ih?connect_timeout=5", // nobody there
		"postgres://ih@127.0.0.1:1/ih?connect_timeout=5&password=" + pw,
	}
	for _, u := range urls {
		for _, c := range []struct {
			env  string
			args []string
		}{
			{"INSTANCEHUB_DATABASE", []string{"tokens", "create", "--data", t.TempDir(), "--email", "a@example.com", "--name", "ci"}},
			{"INSTANCEHUB_TO", []string{"migrate-data", "--from", "sqlite:" + t.TempDir()}},
		} {
			flag := "--" + strings.ToLower(strings.TrimPrefix(c.env, "INSTANCEHUB_"))
			for _, byEnv := range []bool{false, true} {
				args := c.args
				if byEnv {
					t.Setenv(c.env, u)
				} else {
					t.Setenv(c.env, "")
					args = append(slices.Clone(args), flag, u)
				}
				if c.env == "INSTANCEHUB_TO" {
					// The source must exist for the target to be opened.
					dir := args[2][len("sqlite:"):]
					if err := os.WriteFile(dir+"/instancehub.db", nil, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				var stdout, stderr bytes.Buffer
				err := run(t.Context(), args, strings.NewReader(""), &stdout, &stderr)
				if err == nil {
					t.Errorf("%s %q: no error", c.env, u)
					continue
				}
				if all := err.Error() + stdout.String() + stderr.String(); strings.Contains(all, pw) {
					t.Errorf("%s %q (by environment: %v) shows the password: %v\n%s", c.env, u, byEnv, err, all)
				}
			}
		}
	}
}

// TestSecretFlags: a secret flag takes its default from the environment and
// its value from the command line, as any flag, and shows neither.
func TestSecretFlags(t *testing.T) {
	t.Setenv("INSTANCEHUB_DATABASE", "postgres://ih:from-env@db/ih")
	var c Config
	if err := parse("serve", nil, io.Discard, c.bindServe); err != nil || c.Database != "postgres://ih:from-env@db/ih" {
		t.Errorf("from the environment: %q, %v", c.Database, err)
	}
	var printed bytes.Buffer
	f := &flags{fs: flag.NewFlagSet("serve", flag.ContinueOnError)}
	c.bindServe(f)
	if err := f.fs.Parse([]string{"--database", "postgres://ih:from-flag@db/ih"}); err != nil || c.Database != "postgres://ih:from-flag@db/ih" {
		t.Errorf("from the flag: %q, %v", c.Database, err)
	}
	f.fs.VisitAll(func(fl *flag.Flag) { fmt.Fprintln(&printed, fl.Name, fl.Value, fl.DefValue) })
	if strings.Contains(printed.String(), "from-") {
		t.Errorf("the flags show a secret:\n%s", printed.String())
	}
}

// TestPostgresURLShown: a PostgreSQL URL is shown without its password and
// its options, where a password may be too.
func TestPostgresURLShown(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://ih:pw@db.example.com/ih":                                    "postgres://ih@db.example.com:5432/ih",
		"postgresql://ih:pw@db.example.com:5433/ih?sslmode=disable&password=pw": "postgres://ih@db.example.com:5433/ih",
		"postgres://ih@[::1]:5433/ih?sslpassword=pw":                            "postgres://ih@[::1]:5433/ih",
		"postgres://ih:pw@/ih?host=/run/postgresql":                             "postgres://ih@/ih?host=%2Frun%2Fpostgresql",
	} {
		if got, err := postgresURL(in); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", in, got, err, want)
		}
	}
}
