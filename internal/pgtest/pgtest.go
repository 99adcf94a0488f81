// Package pgtest finds the PostgreSQL server the tests run against, and
// gives each test a database of its own on it. In this order:
//
//  1. the server in INSTANCEHUB_TEST_POSTGRES (a postgres:// URL of a role
//     that may create databases);
//  2. else one on 127.0.0.1:5432, as the postgres role;
//  3. else a throwaway cluster of the installed PostgreSQL (Debian's, which
//     `make test` installs), in a temporary directory, on a free loopback
//     port, stopped by Stop.
//
// A package whose tests use it runs them through Run, from its TestMain,
// which stops that cluster when they end; NewDatabase refuses a test of a
// package that does not, whose cluster would outlive its tests.
//
// There is no fallback to skipping: without PostgreSQL, the tests fail.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

var (
	once    sync.Once
	server  string
	failure error
	stop    func()
	count   atomic.Int64
	running atomic.Bool // the tests run through Run
)

// Run runs the package's tests, then stops the throwaway cluster if they
// started one, and returns their exit code: a package whose tests use
// PostgreSQL has
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
func Run(m *testing.M) int {
	running.Store(true)
	code := m.Run()
	Stop()
	return code
}

// Server returns the URL of the server (of its postgres database).
func Server() (string, error) {
	once.Do(func() { server, stop, failure = find() })
	return server, failure
}

// Stop stops the throwaway cluster, if one was started.
func Stop() {
	if stop != nil {
		stop()
	}
}

// NewDatabase creates an empty database for tb and returns its URL; the
// database is dropped when tb ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	if !running.Load() {
		tb.Fatal("pgtest: this package's tests do not run through pgtest.Run, which stops the throwaway PostgreSQL cluster they may start " +
			"(each make test left one running): its TestMain must be os.Exit(pgtest.Run(m))")
	}
	u, drop, err := CreateDatabase()
	if err != nil {
		tb.Fatalf("PostgreSQL for the tests: %v", err)
	}
	tb.Cleanup(drop)
	return u
}

// CreateDatabase creates an empty database on the server and returns its
// URL, and a function that drops it.
func CreateDatabase() (string, func(), error) {
	base, err := Server()
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("ih_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, count.Add(1))
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop := func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	}
	return withDatabase(base, name), drop, nil
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func find() (string, func(), error) {
	if u := os.Getenv("INSTANCEHUB_TEST_POSTGRES"); u != "" {
		if err := ping(u); err != nil {
			return "", nil, fmt.Errorf("INSTANCEHUB_TEST_POSTGRES: %w", err)
		}
		return u, nil, nil
	}
	local := "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	if ping(local) == nil {
		return local, nil, nil
	}
	return throwaway()
}

func ping(u string) error {
	db, err := sql.Open("pgx", u)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// throwaway starts a cluster of the newest installed PostgreSQL in a
// temporary directory, tuned for tests (no fsync), and returns its URL.
func throwaway() (string, func(), error) {
	bin, err := binDir()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", clusterPrefix)
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	// PostgreSQL refuses to run as root: as root, run it as postgres.
	run := func(name string, args ...string) *exec.Cmd {
		return exec.Command(filepath.Join(bin, name), args...)
	}
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return "", nil, fmt.Errorf("running as root, PostgreSQL needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", nil, err
		}
		run = func(name string, args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(bin, name)}, args...)...)
		}
	}
	stopCluster := func(data string) { _ = run("pg_ctl", "-D", data, "-m", "immediate", "stop").Run() }
	reapOrphans(os.TempDir(), stopCluster)
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", port, dir)
	if out, err := run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start PostgreSQL: %v: %s %s", err, out, log)
	}
	stop := func() {
		stopCluster(data)
		os.RemoveAll(dir)
	}
	u := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := ping(u); err != nil {
		stop()
		return "", nil, err
	}
	return u, stop, nil
}

// A throwaway cluster lives in a temporary directory named clusterPrefix
// and something, whose ownerFile holds the test process's ID.
const (
	clusterPrefix = "instancehub-pg-"
	ownerFile     = "owner"
)

// reapOrphans stops (stop, given a data directory) and removes the
// throwaway clusters under tmp whose test process is gone: one that
// crashed (a fatal error, a kill) never ran Run's cleanup, and its cluster
// served on, an orphan per crash. A cluster without an owner (one being
// made, or made before owners were written) is left alone.
func reapOrphans(tmp string, stop func(data string)) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, clusterPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		stop(filepath.Join(dir, "data"))
		os.RemoveAll(dir)
	}
}

// processAlive says whether a process of that ID exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// binDir is the directory of the newest installed PostgreSQL's programs.
func binDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("no PostgreSQL server is installed and none answers on 127.0.0.1:5432: " +
		"`make test` installs Debian's postgresql, or set INSTANCEHUB_TEST_POSTGRES")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
