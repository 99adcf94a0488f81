package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// entry is the part of an OSV entry the indexes need; the file itself is
// kept as it came, so nothing govulncheck reads is lost in a round trip.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
	Affected []struct {
		Package struct {
			Name string `json:"name"` // a module path, or "stdlib" and "toolchain"
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
	raw []byte
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced,omitempty"`
		Fixed      string `json:"fixed,omitempty"`
	} `json:"events"`
}

// load reads every <ID>.json of dir, sorted by ID.
func load(dir string) ([]*entry, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no OSV files in %s", dir)
	}
	slices.Sort(files)
	entries := make([]*entry, 0, len(files))
	for _, f := range files {
		e, err := loadEntry(f)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// loadEntry reads one OSV file, which must be named after its ID: the
// database serves it at ID/<id>.json, and a file named otherwise would be
// indexed under one ID and served under another.
func loadEntry(file string) (*entry, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	e := &entry{raw: b}
	if err := json.Unmarshal(b, e); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if e.ID == "" || filepath.Base(file) != e.ID+".json" {
		return nil, fmt.Errorf("%s: holds entry %q; an OSV file must be named <id>.json", file, e.ID)
	}
	return e, nil
}

// latestFixed is the version from which no range is affected any more, ""
// when a range has no fix or is introduced again after its last fix. It is
// the rule of x/vulndb's index and of govulncheck's own (semver.NonSupersededFix):
// govulncheck skips a vulnerability outright when the version in use is at
// or above it, so a version too low here would hide a finding.
func latestFixed(ranges []osvRange) string {
	var latest string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && less(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && less(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// less compares OSV versions, which carry no "v"; "" is before any version.
func less(a, b string) bool {
	return semver.Compare(vPrefix(a), vPrefix(b)) < 0
}

func vPrefix(v string) string {
	if v == "" || strings.HasPrefix(v, "v") {
		return v
	}
	return "v" + v
}
