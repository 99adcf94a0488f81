// Command instancehub is the portal for cloud data-science workstations.
//
//	instancehub serve            serve the portal
//	instancehub users add        add a local account (password on stdin)
//	instancehub users unlock     forget an account's failed sign-ins
//	instancehub tokens create    print a new API token for a user
//	instancehub audit archive    move old audit events into a checked file
//	instancehub backup           back up the data directory while the portal serves
//	instancehub restore          put a backup back into a stopped portal's directory
//	instancehub compute …        drive compute instances through the API
//
// Run `instancehub help` for every flag and its environment variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/instancehub/instancehub"
)

const usage = `instancehub: a self-hosted portal for cloud data-science workstations on Azure.

Usage:
  instancehub serve [flags]                       serve the portal
  instancehub users add --email E [--name N]      add a local account; the password is read from stdin
  instancehub users unlock EMAIL                  forget an account's failed sign-ins, so they slow it no more
  instancehub roles assign --email E --role R     give a user a role (Owner, Contributor, Compute Operator,
                                                  Data Scientist, Reader, Audit Reader)
  instancehub tokens create --email E --name N    print a new API token for a user [--expires 30d] [--read-only]
  instancehub compute COMMAND [NAME] [flags]      drive compute instances through the API with a token:
                                                  list, show, create [--file F.yml], apply, start, stop,
                                                  restart, delete, ops (run instancehub compute help)
  instancehub emulator [--addr A] [--data D]      serve the offline emulator in a process of its own, over HTTPS,
                                                  for portals to share (serve --emulator-url, --emulator-ca)
  instancehub migrate-data --from sqlite:PATH --to postgres://…
                                                  copy a stopped portal's records into a new PostgreSQL
                                                  database, for several replicas; counts verified
  instancehub audit archive --before YYYY-MM-DD --out FILE
                                                  move the audit log's events before that day (at least
                                                  30 days ago) into a new file, checked before they leave
  instancehub backup --out FILE                   back up the portal's records while it serves: the data
                                                  directory's databases, checked and compressed (on
                                                  PostgreSQL, with pg_dump when it is installed)
  instancehub restore --from FILE --data D        put a backup back into a data directory no portal serves
  instancehub doctor [flags]                      check the configuration against Azure (or the emulator)
  instancehub help                                show this help

Every flag can also be set with the environment variable named after it:
--emulator-latency is INSTANCEHUB_EMULATOR_LATENCY.

Without --azure-subscription-id the portal runs against its built-in offline
Azure emulator, kept in the data directory.
`

func main() {
	// Heap profiles are asked through the operator endpoints only; until
	// those are served (serveDebug), the runtime samples no allocation
	// and keeps no table of their call stacks (about 2 MB resident).
	heapSampling, runtime.MemProfileRate = runtime.MemProfileRate, 0
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	var usage usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "instancehub:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "instancehub:", err)
		os.Exit(1)
	}
}

// usageError is a command used wrongly (exit status 2); any other error is
// a refusal or a failure (exit status 1).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		args = []string{"serve"}
	}
	switch args[0] {
	case "serve":
		return serveCommand(ctx, args[1:], stderr)
	case "users":
		switch {
		case len(args) >= 2 && args[1] == "add":
			return usersAddCommand(ctx, args[2:], stdin, stdout, stderr)
		case len(args) >= 2 && args[1] == "unlock":
			return usersUnlockCommand(ctx, args[2:], stdout, stderr)
		}
		return usageError{fmt.Errorf("usage: instancehub users add --email E [--name N], or instancehub users unlock EMAIL")}
	case "doctor":
		return doctorCommand(ctx, args[1:], stdout, stderr)
	case "tokens":
		if len(args) < 2 || args[1] != "create" {
			return usageError{fmt.Errorf("usage: instancehub tokens create --email E --name N [--expires 30d] [--read-only]")}
		}
		return tokensCreateCommand(ctx, args[2:], stdout, stderr)
	case "compute":
		return computeCommand(ctx, args[1:], stdout, stderr)
	case "emulator":
		return emulatorCommand(ctx, args[1:], stderr)
	case "migrate-data":
		return migrateDataCommand(ctx, args[1:], stdout, stderr)
	case "audit":
		if len(args) < 2 || args[1] != "archive" {
			return usageError{errors.New(auditUsage)}
		}
		return auditArchiveCommand(ctx, args[2:], stdout, stderr)
	case "backup":
		return backupCommand(ctx, args[1:], stdout, stderr)
	case "restore":
		return restoreCommand(ctx, args[1:], stdout, stderr)
	case "roles":
		if len(args) < 2 || args[1] != "assign" {
			return usageError{fmt.Errorf("usage: instancehub roles assign --email E --role R")}
		}
		return rolesAssignCommand(ctx, args[2:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		fmt.Fprintln(stdout, "\nFlags of serve:")
		var c Config
		f := &flags{fs: flag.NewFlagSet("serve", flag.ContinueOnError)}
		c.bindServe(f)
		printFlags(stdout, f.fs)
		return nil
	}
	if strings.HasPrefix(args[0], "-") {
		return serveCommand(ctx, args, stderr)
	}
	return usageError{fmt.Errorf("unknown command %q; run instancehub help", args[0])}
}

func parse(name string, args []string, stderr io.Writer, bind func(*flags)) error {
	f := &flags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.SetOutput(stderr)
	f.fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage of instancehub %s:\n", name)
		printFlags(stderr, f.fs)
	}
	bind(f)
	if f.err != nil {
		return usageError{f.err}
	}
	if err := f.fs.Parse(args); err != nil {
		return usageError{err}
	}
	return nil
}

// printFlags writes fs's flags as flag.PrintDefaults does, but GNU-style,
// --flag, as the usage texts write them (the flag package reads both --flag
// and -flag).
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(fl *flag.Flag) {
		var b strings.Builder
		fmt.Fprintf(&b, "  --%s", fl.Name)
		name, usage := flag.UnquoteUsage(fl)
		if name != "" {
			b.WriteString(" " + name)
		}
		b.WriteString("\n    \t")
		b.WriteString(strings.ReplaceAll(usage, "\n", "\n    \t"))
		switch def := fl.DefValue; {
		case def == "" || def == "false" || def == "0" || def == "0s":
		case isString(fl.Value):
			fmt.Fprintf(&b, " (default %q)", def)
		default:
			fmt.Fprintf(&b, " (default %s)", def)
		}
		fmt.Fprintln(w, b.String())
	})
}

// isString reports whether v holds a string, whose default is quoted.
func isString(v flag.Value) bool {
	g, ok := v.(flag.Getter)
	if !ok {
		return false
	}
	_, ok = g.Get().(string)
	return ok
}

// newLogger logs from level on, in format: text (key=value, for people) or
// json (one object a line, for log shippers; --log-format allows no other).
// A line logged for a request, or for an operation one started, names the
// request's ID.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(instancehub.WithRequestIDs(h))
}
