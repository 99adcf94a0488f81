// Package backup copies the SQLite databases of a portal's data directory
// into one checked, compressed file while the portal serves, and puts them
// back into a stopped portal's directory.
//
// A copy of a file SQLite is writing (cp instancehub.db) misses what its
// write-ahead log holds and may catch a page half written. A backup reads
// each database in one read transaction instead (VACUUM INTO), which sees
// every commit made before it began and none after, while the portal goes
// on writing; each copy is then checked whole (PRAGMA integrity_check)
// before it is packed.
//
// A backup is a gzipped tar file: the databases, then backup.json, the
// manifest that names each with its size, SHA-256 and schema version. It
// is written under a temporary name, read back and compared with its
// manifest, and only then linked to its own name, which it never
// overwrites.
package backup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// The databases of a data directory a backup holds.
const (
	Database = "instancehub.db" // the portal's records
	Emulator = "emulator.db"    // the offline emulator's cloud, when it runs in the portal's process
)

// manifestName is the manifest's name in a backup, after the databases.
const manifestName = "backup.json"

// Format is the version of a backup's layout; a backup of another is
// refused rather than misread.
const Format = 1

// Manifest says what a backup holds.
type Manifest struct {
	Format int       `json:"format"`
	Made   time.Time `json:"made"` // when the copies were read
	Files  []File    `json:"files"`
}

// File is one database of a backup.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Version is the database's schema version: the newest migration
	// applied for the portal's, SQLite's user_version for the emulator's.
	Version int64 `json:"version"`
}

// File returns the manifest's entry of a database, nil when it holds none.
func (m *Manifest) File(name string) *File {
	for i := range m.Files {
		if m.Files[i].Name == name {
			return &m.Files[i]
		}
	}
	return nil
}

// Take writes a backup of the databases in dir to out, a file that must
// not exist yet, and returns its manifest. dir must hold the portal's
// database; the emulator's is taken too when dir holds one. The portal may
// serve meanwhile: each database is read in one transaction. made is the
// manifest's time.
func Take(ctx context.Context, dir, out string, made time.Time) (*Manifest, error) {
	if _, err := os.Lstat(out); err == nil {
		return nil, fmt.Errorf("%s exists: a backup never overwrites a file", out)
	}
	if fi, err := os.Stat(filepath.Join(dir, Database)); err != nil || fi.Size() == 0 {
		return nil, fmt.Errorf("%s holds no portal database (%s)", dir, Database)
	}
	work, err := os.MkdirTemp(filepath.Dir(out), ".backup-")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(work)
	m := &Manifest{Format: Format, Made: made.UTC().Truncate(time.Second)}
	for _, name := range []string{Database, Emulator} {
		src := filepath.Join(dir, name)
		if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) && name == Emulator {
			continue
		}
		copied := filepath.Join(work, name)
		if err := snapshot(ctx, src, copied); err != nil {
			return nil, fmt.Errorf("copy %s: %w", src, err)
		}
		f, err := inspect(ctx, name, copied)
		if err != nil {
			return nil, fmt.Errorf("check the copy of %s: %w", src, err)
		}
		m.Files = append(m.Files, f)
	}
	packed := filepath.Join(work, "backup.tar.gz")
	if err := pack(packed, work, m); err != nil {
		return nil, fmt.Errorf("write %s: %w", out, err)
	}
	if read, err := Verify(packed); err != nil {
		return nil, fmt.Errorf("read back %s: %w", out, err)
	} else if !slices.Equal(read.Files, m.Files) {
		return nil, fmt.Errorf("read back %s: it holds %v, not %v", out, read.Files, m.Files)
	}
	// A link, unlike a rename, refuses a name taken meanwhile.
	if err := os.Link(packed, out); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return m, syncDir(filepath.Dir(out))
}

// open opens a SQLite file for the backup's own reads and writes, with
// none of the portal's pragmas: it waits for a writer rather than failing.
func open(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// snapshot copies the database at src into the new file dst, as one read
// transaction sees it.
func snapshot(ctx context.Context, src, dst string) error {
	db, err := open(src)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return err
	}
	return nil
}

// inspect checks a copied database whole and describes it.
func inspect(ctx context.Context, name, path string) (File, error) {
	f := File{Name: name}
	db, err := open(path)
	if err != nil {
		return f, err
	}
	defer db.Close()
	if err := integrity(ctx, db); err != nil {
		return f, err
	}
	if f.Version, err = version(ctx, db, name); err != nil {
		return f, err
	}
	if err := db.Close(); err != nil {
		return f, err
	}
	file, err := os.Open(path)
	if err != nil {
		return f, err
	}
	defer file.Close()
	h := sha256.New()
	if f.Size, err = io.Copy(h, file); err != nil {
		return f, err
	}
	f.SHA256 = hex.EncodeToString(h.Sum(nil))
	return f, nil
}

// integrity runs SQLite's integrity check, which reads every page.
func integrity(ctx context.Context, db *sql.DB) error {
	problems, err := integrityProblems(ctx, db)
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity check: %s", strings.Join(problems, "; "))
	}
	return nil
}

func integrityProblems(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	return problems, rows.Err()
}

// version reads a database's schema version: goose's newest migration
// applied for the portal's, user_version for the emulator's.
func version(ctx context.Context, db *sql.DB, name string) (int64, error) {
	var v int64
	if name == Emulator {
		err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
		return v, err
	}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`).Scan(&tables); err != nil || tables == 0 {
		return 0, err
	}
	err := db.QueryRowContext(ctx, `SELECT COALESCE(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v, err
}

// pack writes the files m names, from dir, and m itself into a new gzipped
// tar file at path, synced to disk.
func pack(path, dir string, m *Manifest) error {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	zw, err := gzip.NewWriterLevel(out, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, f := range m.Files {
		src, err := os.Open(filepath.Join(dir, f.Name))
		if err != nil {
			return err
		}
		err = tw.WriteHeader(&tar.Header{Name: f.Name, Mode: 0o600, Size: f.Size, ModTime: m.Made, Typeflag: tar.TypeReg})
		if err == nil {
			_, err = io.Copy(tw, src)
		}
		src.Close()
		if err != nil {
			return err
		}
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: manifestName, Mode: 0o600, Size: int64(len(manifest)), ModTime: m.Made, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(manifest); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := out.Sync(); err != nil {
		return err
	}
	return out.Close()
}

// Verify reads the backup at path whole and returns its manifest once each
// database it holds matches the manifest's size and SHA-256.
func Verify(path string) (*Manifest, error) {
	return unpack(path, func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil })
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// unpack reads the backup at path, writing each database to the writer
// create returns for its name, and checks each against the manifest.
func unpack(path string, create func(name string) (io.WriteCloser, error)) (*Manifest, error) {
	in, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return nil, fmt.Errorf("%s is not a backup: %w", path, err)
	}
	tr := tar.NewReader(zr)
	got := map[string]File{}
	var m *Manifest
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s is not a whole backup: %w", path, err)
		}
		switch {
		case m != nil:
			return nil, fmt.Errorf("%s holds %s after its manifest", path, h.Name)
		case h.Name == manifestName:
			if h.Size > 1<<20 {
				return nil, fmt.Errorf("%s: its manifest is %d bytes", path, h.Size)
			}
			m = &Manifest{}
			if err := json.NewDecoder(tr).Decode(m); err != nil {
				return nil, fmt.Errorf("%s: its manifest: %w", path, err)
			}
		case (h.Name == Database || h.Name == Emulator) && h.Typeflag == tar.TypeReg:
			if _, dup := got[h.Name]; dup {
				return nil, fmt.Errorf("%s holds %s twice", path, h.Name)
			}
			w, err := create(h.Name)
			if err != nil {
				return nil, err
			}
			hash := sha256.New()
			n, err := io.Copy(io.MultiWriter(w, hash), tr)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("%s: read %s: %w", path, h.Name, err)
			}
			got[h.Name] = File{Name: h.Name, Size: n, SHA256: hex.EncodeToString(hash.Sum(nil))}
		default:
			return nil, fmt.Errorf("%s holds %q, which no backup holds", path, h.Name)
		}
	}
	// The rest of the stream, to its end: gzip checks its CRC and length
	// there, which also cover the bytes tar skips (its padding and end
	// blocks). A file changed anywhere is refused, not only where a
	// database or the manifest lies.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("%s is not a whole backup: %w", path, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%s is not a whole backup: it has no manifest", path)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("%s is a backup of format %d; this build reads format %d", path, m.Format, Format)
	}
	if m.File(Database) == nil {
		return nil, fmt.Errorf("%s holds no portal database", path)
	}
	for _, f := range m.Files {
		g, ok := got[f.Name]
		if !ok || g.Size != f.Size || g.SHA256 != f.SHA256 {
			return nil, fmt.Errorf("%s: %s does not match its manifest (%d bytes, SHA-256 %s; the manifest says %d, %s)",
				path, f.Name, g.Size, g.SHA256, f.Size, f.SHA256)
		}
		delete(got, f.Name)
	}
	for name := range got {
		return nil, fmt.Errorf("%s holds %s, which its manifest does not name", path, name)
	}
	return m, nil
}

// syncDir makes the names just written in dir survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
