package backup

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/store"
)

// made is the time the tests' backups say they were made.
var made = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

// portalDir makes a data directory with a portal database holding n audit
// events, and returns it with the store still open: what the events wrote
// is in the write-ahead log, not yet in the file.
func portalDir(t *testing.T, n int) (string, *store.DB) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, Database))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The schema made long ago is in the file, as a portal's is.
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, Database))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		audit(t, db, i)
	}
	return dir, db
}

func audit(t *testing.T, db *store.DB, i int) {
	t.Helper()
	err := db.RecordAudit(context.Background(), &instancehub.AuditEvent{At: made, Action: "test.event", Target: fmt.Sprint(i), Result: instancehub.AuditSucceeded})
	if err != nil {
		t.Error(err)
	}
}

// events counts the audit events of the portal database at path.
func events(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM audit_events WHERE action = 'test.event'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestABackupHoldsWhatTheLogHolds: the events a serving portal committed
// are in its write-ahead log, where a copy of the database file misses
// them; a backup holds every one, and restores them.
func TestABackupHoldsWhatTheLogHolds(t *testing.T) {
	dir, _ := portalDir(t, 50)
	if fi, err := os.Stat(filepath.Join(dir, Database+"-wal")); err != nil || fi.Size() == 0 {
		t.Fatalf("the events are not in the log (%v): the test proves nothing", err)
	}
	copied := filepath.Join(t.TempDir(), "copy.db")
	b, err := os.ReadFile(filepath.Join(dir, Database))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copied, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := events(t, copied); n != 0 {
		t.Fatalf("a copy of the file holds %d of 50 events: the log was written back, the test proves nothing", n)
	}

	out := filepath.Join(t.TempDir(), "portal.tar.gz")
	m, err := Take(context.Background(), dir, out, made)
	if err != nil {
		t.Fatal(err)
	}
	f := m.File(Database)
	if f == nil || f.Version != store.KnownSchema() || len(f.SHA256) != 64 || !m.Made.Equal(made) || m.File(Emulator) != nil {
		t.Errorf("manifest %+v", m)
	}
	restored := t.TempDir()
	r, err := Restore(context.Background(), out, restored, nil, made)
	if err != nil {
		t.Fatal(err)
	}
	if r.Replaced != "" || r.Emulator != "" {
		t.Errorf("restore into an empty directory: %+v", r)
	}
	if n := events(t, filepath.Join(restored, Database)); n != 50 {
		t.Errorf("the restored database holds %d of the 50 events", n)
	}
}

// TestABackupWhileThePortalWrites: a backup taken while another connection
// keeps committing holds a moment of the database: every event committed
// before it began, none after it ended, and a database SQLite finds whole.
func TestABackupWhileThePortalWrites(t *testing.T) {
	dir, db := portalDir(t, 200)
	var committed atomic.Int64
	committed.Store(200)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 200; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			audit(t, db, i)
			committed.Add(1)
		}
	}()
	time.Sleep(20 * time.Millisecond) // let the writer get going
	before := committed.Load()
	out := filepath.Join(t.TempDir(), "portal.tar.gz")
	_, err := Take(context.Background(), dir, out, made)
	after := committed.Load()
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	restored := t.TempDir()
	if _, err := Restore(context.Background(), out, restored, nil, made); err != nil {
		t.Fatal(err)
	}
	n := int64(events(t, filepath.Join(restored, Database)))
	if n < before || n > after+1 {
		t.Errorf("the backup holds %d events; %d were committed before it began and %d when it ended", n, before, after)
	}
	t.Logf("%d events committed before the backup, %d in it, %d at its end", before, n, after)
}

// TestRestore: a restore moves the directory's database aside with its
// log, puts the backup's in its place, and puts the emulator's cloud back
// only where the directory has none.
func TestRestore(t *testing.T) {
	ctx := context.Background()
	dir, db := portalDir(t, 10)
	emulatorDB(t, filepath.Join(dir, Emulator))
	out := filepath.Join(t.TempDir(), "portal.tar.gz")
	m, err := Take(ctx, dir, out, made)
	if err != nil {
		t.Fatal(err)
	}
	if e := m.File(Emulator); e == nil || e.Version != 2 {
		t.Fatalf("the emulator's cloud in the manifest: %+v", m.Files)
	}
	for i := 10; i < 15; i++ {
		audit(t, db, i) // after the backup: in the database moved aside
	}
	cloudResources(t, filepath.Join(dir, Emulator), `INSERT INTO resources (model) VALUES ('{}')`)
	db.Close()

	r, err := Restore(ctx, out, dir, nil, made.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, Database) + ".replaced-20261201T103000Z"; r.Replaced != want || r.Emulator != "kept" {
		t.Errorf("restored: %+v; want the database moved to %s and the emulator kept", r, want)
	}
	if n := events(t, filepath.Join(dir, Database)); n != 10 {
		t.Errorf("restored database: %d events, want the backup's 10", n)
	}
	if n := events(t, r.Replaced); n != 15 {
		t.Errorf("the database moved aside holds %d events, want its 15 (its log moved with it)", n)
	}
	if n := cloudResources(t, filepath.Join(dir, Emulator), ""); n != 2 {
		t.Errorf("the directory's own cloud was turned back: %d resources, want its 2", n)
	}

	if err := os.Remove(filepath.Join(dir, Emulator)); err != nil {
		t.Fatal(err)
	}
	r, err = Restore(ctx, out, dir, nil, made.Add(2*time.Hour))
	if err != nil || r.Emulator != "restored" {
		t.Fatalf("restore into a directory without its cloud: %+v, %v", r, err)
	}
	if n := cloudResources(t, filepath.Join(dir, Emulator), ""); n != 1 {
		t.Errorf("the restored cloud holds %d resources, want the backup's 1", n)
	}
}

// emulatorDB makes a SQLite file as the emulator keeps its cloud
// (user_version 2).
func emulatorDB(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE resources (id INTEGER PRIMARY KEY, model TEXT); INSERT INTO resources (model) VALUES ('{}'); PRAGMA user_version = 2`); err != nil {
		t.Fatal(err)
	}
}

// cloudResources runs exec, if any, on an emulator's cloud, and counts
// its resources.
func cloudResources(t *testing.T, path, exec string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if exec != "" {
		if _, err := db.Exec(exec); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM resources`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// flipAByte returns whole with a bit of one byte from its middle on
// changed, the first such change that changes what the file holds: some
// bits of a compressed stream (a Huffman table's code for a symbol never
// used) change nothing, and such a file is the same backup.
func flipAByte(t *testing.T, whole []byte) []byte {
	t.Helper()
	original := unzipped(t, whole)
	for i := len(whole) / 2; i < len(whole); i++ {
		flipped := append([]byte(nil), whole...)
		flipped[i] ^= 0x40
		zr, err := gzip.NewReader(bytes.NewReader(flipped))
		if err != nil {
			return flipped
		}
		held, err := io.ReadAll(zr)
		if err != nil {
			return flipped // changed where gzip's own check finds it
		}
		if !bytes.Equal(held, original) {
			return flipped
		}
	}
	t.Fatal("no byte of the second half changes the backup")
	return nil
}

// paddingChanged returns whole with a byte of the tar's padding after a
// file changed, compressed again under whole's CRC and length: tar
// reads no padding, so only gzip's check at the stream's end sees it.
func paddingChanged(t *testing.T, whole []byte) []byte {
	t.Helper()
	held := unzipped(t, whole)
	for at := 0; ; {
		if at+512 > len(held) || held[at] == 0 {
			t.Fatal("no file of the backup leaves padding")
		}
		size, err := strconv.ParseInt(strings.Trim(string(held[at+124:at+136]), " \x00"), 8, 64)
		if err != nil {
			t.Fatal(err)
		}
		if size%512 != 0 {
			held[at+512+int(size)] ^= 0x40
			break
		}
		at += 512 + int(size)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(held); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	copy(out[len(out)-8:], whole[len(whole)-8:])
	return out
}

func unzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestARestoreRefusesAndChangesNothing: a backup changed by a byte, cut
// short, or refused by the caller's check leaves the directory as it was.
func TestARestoreRefusesAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	dir, db := portalDir(t, 10)
	out := filepath.Join(t.TempDir(), "portal.tar.gz")
	if _, err := Take(ctx, dir, out, made); err != nil {
		t.Fatal(err)
	}
	db.Close()
	whole, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := portalDir(t, 3)
	flipped := flipAByte(t, whole)
	for _, c := range []struct {
		name  string
		bytes []byte
		check func(string, string) error
		want  string
	}{
		{"a byte changed", flipped, nil, "portal.tar.gz"},
		{"a change only gzip's check sees", paddingChanged(t, whole), nil, "portal.tar.gz"},
		{"cut short", whole[:len(whole)-100], nil, "portal.tar.gz"},
		{"not a backup", []byte("hello"), nil, "is not a backup"},
		{"refused by the check", whole, func(name, path string) error {
			if events(t, path) != 10 {
				t.Errorf("the check was given %s without its 10 events", path)
			}
			return fmt.Errorf("schema refused")
		}, "schema refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "portal.tar.gz")
			if err := os.WriteFile(path, c.bytes, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Restore(ctx, path, target, c.check, made)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("restore: %v; want a refusal saying %q", err, c.want)
			}
			if n := events(t, filepath.Join(target, Database)); n != 3 {
				t.Errorf("the refused restore changed the database: %d events", n)
			}
			if left, _ := filepath.Glob(filepath.Join(target, "*.replaced-*")); len(left) > 0 {
				t.Errorf("the refused restore moved %v", left)
			}
			if left, _ := filepath.Glob(filepath.Join(target, ".restore-*")); len(left) > 0 {
				t.Errorf("the refused restore left %v", left)
			}
		})
	}
}

// TestABackupRefuses: a backup never overwrites a file, needs a portal
// database, and refuses a database SQLite finds damaged, leaving no file.
func TestABackupRefuses(t *testing.T) {
	ctx := context.Background()
	dir, db := portalDir(t, 5)
	taken := filepath.Join(t.TempDir(), "taken.tar.gz")
	if err := os.WriteFile(taken, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Take(ctx, dir, taken, made); err == nil || !strings.Contains(err.Error(), "never overwrites") {
		t.Errorf("over a file: %v", err)
	}
	if b, _ := os.ReadFile(taken); string(b) != "keep me" {
		t.Errorf("the file was overwritten")
	}
	if _, err := Take(ctx, t.TempDir(), filepath.Join(t.TempDir(), "x.tar.gz"), made); err == nil || !strings.Contains(err.Error(), "holds no portal database") {
		t.Errorf("a directory without a database: %v", err)
	}

	// Damage an index's pages: SQLite reads the table still, and copies
	// what it reads, but the integrity check finds the index wrong.
	for i := range 2000 {
		audit(t, db, 5+i)
	}
	db.Close()
	damageIndex(t, filepath.Join(dir, Database), "audit_events_at")
	outDir := t.TempDir()
	_, err := Take(ctx, dir, filepath.Join(outDir, "damaged.tar.gz"), made)
	if err == nil {
		t.Fatal("a damaged database was backed up")
	}
	t.Logf("refused: %v", err)
	if left, _ := os.ReadDir(outDir); len(left) > 0 {
		t.Errorf("the refused backup left %v", left)
	}
}

// TestARestoreChecksEachDatabase: a backup whose database matches its
// manifest, but that SQLite finds damaged (as when it was damaged before
// it was packed by hand), is refused.
func TestARestoreChecksEachDatabase(t *testing.T) {
	dir, db := portalDir(t, 2000)
	db.Close()
	work := t.TempDir()
	b, err := os.ReadFile(filepath.Join(dir, Database))
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(work, Database)
	if err := os.WriteFile(damaged, b, 0o600); err != nil {
		t.Fatal(err)
	}
	damageIndex(t, damaged, "audit_events_at")
	f, err := os.Open(damaged)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	size, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Format: Format, Made: made, Files: []File{{Name: Database, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}}}
	out := filepath.Join(t.TempDir(), "damaged.tar.gz")
	if err := pack(out, work, m); err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	_, err = Restore(context.Background(), out, target, nil, made)
	if err == nil || !strings.Contains(err.Error(), "integrity check") {
		t.Fatalf("restore of a damaged database: %v", err)
	}
	if left, _ := os.ReadDir(target); len(left) > 0 {
		t.Errorf("the refused restore left %v", left)
	}
}

// damageIndex overwrites the pages of an index with zeros but their
// headers, as a disk's fault might.
func damageIndex(t *testing.T, path, index string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	var root, pageSize int64
	if err := db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = ?`, index).Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, pageSize)
	if _, err := f.ReadAt(page, (root-1)*pageSize); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	for i := 12; i < len(page); i++ {
		page[i] = 0xff
	}
	if _, err := f.WriteAt(page, (root-1)*pageSize); err != nil {
		t.Fatal(err)
	}
}

// TestPrune keeps the newest backups of a kind and no other file.
func TestPrune(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		"instancehub-20261201T000000Z.tar.gz", "instancehub-20261202T000000Z.tar.gz", "instancehub-20261203T000000Z.tar.gz",
		"before-00020.tar.gz", "notes.txt",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := Prune(dir, "instancehub-", ".tar.gz", 2)
	if err != nil || len(removed) != 1 || filepath.Base(removed[0]) != "instancehub-20261201T000000Z.tar.gz" {
		t.Fatalf("removed %v, %v", removed, err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 4 {
		t.Errorf("left %v", left)
	}
}
