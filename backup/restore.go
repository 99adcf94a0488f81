package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Restored says what Restore did.
type Restored struct {
	Manifest *Manifest
	// Replaced is where the portal database the directory held was moved
	// (with its -wal and -shm files), "" when it held none.
	Replaced string
	// Emulator says what became of the emulator's cloud: "restored" into
	// a directory that had none, "kept" when the directory has its own
	// (the cloud, like Azure, is not turned back), "" when the backup
	// holds none.
	Emulator string
}

// Restore puts the databases of the backup at from into the data directory
// dir, whose portal must be stopped (the caller holds its lock). Nothing
// in dir changes until the whole backup has been read, matched with its
// manifest, checked by SQLite and accepted by check, which is given each
// database's name and a path to a copy of it (to refuse a schema newer
// than the build knows). The portal database dir held is moved aside, not
// deleted; the emulator's cloud is put back only where dir has none, since
// it stands for Azure, which a restore does not turn back.
func Restore(ctx context.Context, from, dir string, check func(name, path string) error, now time.Time) (*Restored, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(dir, ".restore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	m, err := unpack(from, func(name string) (io.WriteCloser, error) {
		return os.OpenFile(filepath.Join(work, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	})
	if err != nil {
		return nil, err
	}
	for _, f := range m.Files {
		path := filepath.Join(work, f.Name)
		if err := checkFile(ctx, path); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", from, f.Name, err)
		}
		if check != nil {
			if err := check(f.Name, path); err != nil {
				return nil, err
			}
		}
	}
	r := &Restored{Manifest: m}
	target := filepath.Join(dir, Database)
	if _, err := os.Stat(target); err == nil {
		r.Replaced = target + ".replaced-" + now.UTC().Format("20060102T150405Z")
		if err := moveDatabase(target, r.Replaced); err != nil {
			return nil, fmt.Errorf("move the database aside: %w", err)
		}
	}
	if err := os.Rename(filepath.Join(work, Database), target); err != nil {
		return nil, err
	}
	if m.File(Emulator) != nil {
		r.Emulator = "kept"
		if _, err := os.Stat(filepath.Join(dir, Emulator)); errors.Is(err, fs.ErrNotExist) {
			if err := os.Rename(filepath.Join(work, Emulator), filepath.Join(dir, Emulator)); err != nil {
				return nil, err
			}
			r.Emulator = "restored"
		}
	}
	return r, syncDir(dir)
}

// checkFile runs SQLite's integrity check on a database written out of a
// backup, and syncs it to disk.
func checkFile(ctx context.Context, path string) error {
	db, err := open(path)
	if err != nil {
		return err
	}
	err = integrity(ctx, db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// moveDatabase renames a SQLite database with its write-ahead log, which
// SQLite finds by the database's name and which holds commits the file may
// not have yet; the shared memory, rebuilt from the log, is removed.
func moveDatabase(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	if err := os.Rename(from+"-wal", to+"-wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		_ = os.Rename(to, from) // whole where it was, rather than without its log
		return err
	}
	if err := os.Remove(from + "-shm"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Prune removes the oldest of the files in dir whose names start with
// prefix and end with suffix, keeping the newest keep (names sort by age:
// they carry the time or the version), and returns those removed.
func Prune(dir, prefix, suffix string, keep int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) && strings.HasSuffix(e.Name(), suffix) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	var removed []string
	for len(names) > max(keep, 0) {
		path := filepath.Join(dir, names[0])
		if err := os.Remove(path); err != nil {
			return removed, err
		}
		removed, names = append(removed, path), names[1:]
	}
	return removed, nil
}
