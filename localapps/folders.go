package localapps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/instancehub/instancehub"
)

// folders are the data directory's folders of one instance's server:
//
//	notebooks/<owner's id>      the owner's files, shared by the owner's
//	                            instances (~/cloudfiles/code inside)
//	sandboxes/<instance>-<id>/
//	    home                    the instance's own home, /home/azureuser
//	    run                     Jupyter's socket, made anew at each start
//
// The sandbox's folder is named after the instance and its record's ID,
// which a new instance of the same name does not share: it starts with an
// empty home. Stop and Start keep the home, though each Start gives the
// instance a new secret, as a VM keeps its disk; Prune removes it once the
// instance is deleted.
type folders struct {
	code, sandbox, home, run string
	// legacy is where portals before the ID named the sandbox folder
	// after a digest of the instance's secret; prepare moves it.
	legacy string
}

func instanceFolders(dataDir string, inst *instancehub.Instance) folders {
	sandbox := filepath.Join(dataDir, "sandboxes", sandboxKey(inst))
	return folders{
		code:    filepath.Join(dataDir, "notebooks", strconv.FormatInt(inst.OwnerID, 10)),
		sandbox: sandbox,
		home:    filepath.Join(sandbox, "home"),
		run:     filepath.Join(sandbox, "run"),
		legacy:  filepath.Join(dataDir, "sandboxes", legacySandboxKey(inst)),
	}
}

// sandboxKey names an instance's sandbox folder: its name (lower case, as
// names are compared) and its record's ID, which outlives the secret that
// each Start renews.
func sandboxKey(inst *instancehub.Instance) string {
	return strings.ToLower(inst.Name) + "-" + strconv.FormatInt(inst.ID, 10)
}

// legacySandboxKey is the name earlier portals gave the folder: the
// instance's name and the start of its secret's SHA-256. The secret was
// then kept for the instance's life; since Start renews it, the folder of
// an instance last started by such a portal is found by the secret it still
// has, and moved once to sandboxKey's name.
func legacySandboxKey(inst *instancehub.Instance) string {
	sum := sha256.Sum256([]byte(inst.AppSecret))
	return strings.ToLower(inst.Name) + "-" + hex.EncodeToString(sum[:6])
}

// prepare makes the folders, each 0700 and the sandbox user's, where they
// are not yet. The data directory's own folders (notebooks, sandboxes and
// each sandbox's) stay the portal's, so that the sandbox's user can put
// nothing in the way of what bwrap mounts, and sees none of them. Files
// of the owner's folder made before it became that user's (by a portal
// that ran Jupyter as itself) are handed over once. The caller holds the
// lock that keeps two prepares apart, and no sandbox of this instance
// runs.
func (f folders) prepare(user sandboxUserID, link bool) error {
	if _, err := os.Lstat(f.sandbox); errors.Is(err, fs.ErrNotExist) && f.legacy != f.sandbox {
		if err := os.Rename(f.legacy, f.sandbox); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("move the sandbox folder to its new name: %w", err)
		}
	}
	for _, dir := range []string{filepath.Dir(f.code), filepath.Dir(f.sandbox), f.sandbox} {
		if err := privateDir(dir); err != nil {
			return err
		}
	}
	if err := userDir(f.code, user, true); err != nil {
		return err
	}
	if err := userDir(f.home, user, false); err != nil {
		return err
	}
	// The run folder is made anew, so that nothing an earlier server left
	// (a socket, a link) is in the way of the next.
	if err := os.RemoveAll(f.run); err != nil {
		return err
	}
	if err := userDir(f.run, user, false); err != nil {
		return err
	}
	if link {
		return f.linkCloudfiles(user)
	}
	return nil
}

// linkCloudfiles puts ~/cloudfiles, a link to the share's mount, in the
// home unless the user has something of that name there.
func (f folders) linkCloudfiles(user sandboxUserID) error {
	link := filepath.Join(f.home, "cloudfiles")
	err := os.Symlink(sandboxShare, link)
	if errors.Is(err, fs.ErrExist) {
		return nil
	} else if err != nil {
		return err
	}
	if user.root {
		return os.Lchown(link, int(user.outside), int(user.outside))
	}
	return nil
}

// privateDir makes dir the portal's, 0700, whatever the umask.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// userDir makes dir a folder of the sandbox's user, 0700. dir's parent is
// the portal's, so the user cannot have put a link in its place. When the
// portal runs as root and dir is not yet the user's, what it holds is
// handed over too (when handOver), deepest first and dir last, so that the
// user reaches none of it before all of it is theirs.
func userDir(dir string, user sandboxUserID, handOver bool) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	if !user.root || ownedBy(st, user.outside) {
		return nil
	}
	if handOver {
		if err := handOverContents(dir, user.outside); err != nil {
			return err
		}
	}
	return os.Lchown(dir, int(user.outside), int(user.outside))
}

// handOverContents gives everything under dir (not dir itself) to uid,
// never following a link.
func handOverContents(dir string, uid uint32) error {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(paths) - 1; i >= 0; i-- { // deepest first
		if err := os.Lchown(paths[i], int(uid), int(uid)); err != nil {
			return err
		}
	}
	return nil
}

// Prune removes the sandbox folders, homes included, of the instances that
// no longer exist: those current, which returns the instance of a name now,
// says ENOTFOUND for, or whose instance of that name is a newer one. Call
// it after deletes (the portal does every 15 s): Delete takes the home
// with the instance, as Azure takes the VM's disk.
func (s *Servers) Prune(ctx context.Context, current func(ctx context.Context, name string) (*instancehub.Instance, error)) error {
	entries, err := os.ReadDir(filepath.Join(s.cfg.DataDir, "sandboxes"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	for _, e := range entries {
		cut := strings.LastIndexByte(e.Name(), '-')
		if !e.IsDir() || cut <= 0 {
			continue
		}
		inst, err := current(ctx, e.Name()[:cut])
		if err == nil && (sandboxKey(inst) == e.Name() || legacySandboxKey(inst) == e.Name()) {
			continue
		} else if err != nil && instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
			return err
		}
		if err := s.removeSandbox(e.Name()); err != nil {
			return err
		}
	}
	return nil
}

// removeSandbox removes the folder key unless a server uses it.
func (s *Servers) removeSandbox(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, srv := range s.servers {
		if filepath.Base(srv.folders.sandbox) == key {
			return nil
		}
	}
	s.cfg.Logger.Info("removed the home of a deleted instance", "sandbox", key)
	return os.RemoveAll(filepath.Join(s.cfg.DataDir, "sandboxes", key))
}
