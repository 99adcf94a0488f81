package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// fileVersion is the version of the file format; a file of another is refused
// rather than misread.
const fileVersion = 1

// load reads the cloud kept at path; nil when there is none yet.
func load(path string) (*cloud, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	var c cloud
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("emulator: read %s: %w", path, err)
	}
	if c.Version != fileVersion {
		return nil, fmt.Errorf("emulator: %s has format version %d, want %d", path, c.Version, fileVersion)
	}
	if c.Resources == nil {
		c.Resources = map[string]*resource{}
	}
	if c.Tombstones == nil {
		c.Tombstones = map[string]*resource{}
	}
	return &c, nil
}

// saveLocked writes the cloud if it changed. It writes a temporary file and
// renames it over the old one, so a crash never leaves half a cloud behind.
func (e *Emulator) saveLocked() error {
	c := e.cloud
	if !c.dirty || e.opts.Path == "" {
		c.dirty = false
		return nil
	}
	b, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return fmt.Errorf("emulator: save: %w", err)
	}
	if err := writeAtomic(e.opts.Path, b); err != nil {
		return fmt.Errorf("emulator: save: %w", err)
	}
	c.dirty = false
	return nil
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// mustJSON marshals a value the SDK's models can always marshal.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("emulator: marshal %T: %v", v, err))
	}
	return b
}

// mustUnmarshal reads a body the emulator itself wrote.
func mustUnmarshal(b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		panic(fmt.Sprintf("emulator: unmarshal %T: %v", v, err))
	}
}
