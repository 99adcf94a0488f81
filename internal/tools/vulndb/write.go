package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The index files' shapes, as govulncheck's client decodes them.
type (
	dbMeta struct {
		Modified time.Time `json:"modified"`
	}
	module struct {
		Path  string       `json:"path"`
		Vulns []moduleVuln `json:"vulns"`
	}
	moduleVuln struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Fixed    string    `json:"fixed,omitempty"`
	}
	vuln struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Aliases  []string  `json:"aliases,omitempty"`
	}
)

// write builds the database in a sibling folder and then puts it in place
// of out, so an interrupted build never leaves a half database that a later
// make would take as done. The database's time is the latest of the
// entries' and since: the module's OSV files carry no modification time of
// their own (x/vulndb's deploy takes it from git), the module version does.
func write(out string, entries []*entry, since time.Time) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), filepath.Base(out)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := writeAll(tmp, entries, since); err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

func writeAll(dir string, entries []*entry, since time.Time) error {
	for _, sub := range []string{"index", "ID"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if err := os.WriteFile(filepath.Join(dir, "ID", e.ID+".json"), e.raw, 0o644); err != nil {
			return err
		}
	}
	indexes := map[string]any{
		"db.json":      dbMeta{Modified: modified(entries, since)},
		"modules.json": modules(entries),
		"vulns.json":   vulns(entries),
	}
	for name, v := range indexes {
		if err := writeJSON(filepath.Join(dir, "index", name), v); err != nil {
			return err
		}
	}
	return nil
}

func modified(entries []*entry, since time.Time) time.Time {
	latest := since.UTC()
	for _, e := range entries {
		if e.Modified.After(latest) {
			latest = e.Modified.UTC()
		}
	}
	return latest
}

// modules lists each module with the vulnerabilities that affect it, by path
// and then by ID, as x/vulndb publishes it. An entry that names a module in
// two affected blocks is listed twice, as there too.
func modules(entries []*entry) []*module {
	byPath := map[string]*module{}
	for _, e := range entries {
		for _, a := range e.Affected {
			m := byPath[a.Package.Name]
			if m == nil {
				m = &module{Path: a.Package.Name, Vulns: []moduleVuln{}}
				byPath[m.Path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: latestFixed(a.Ranges)})
		}
	}
	list := make([]*module, 0, len(byPath))
	for _, m := range byPath {
		slices.SortStableFunc(m.Vulns, func(a, b moduleVuln) int { return cmp.Compare(a.ID, b.ID) })
		list = append(list, m)
	}
	slices.SortFunc(list, func(a, b *module) int { return cmp.Compare(a.Path, b.Path) })
	return list
}

func vulns(entries []*entry) []vuln {
	list := make([]vuln, len(entries))
	for i, e := range entries {
		list[i] = vuln{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases}
	}
	return list
}

func writeJSON(file string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return os.WriteFile(file, b, 0o644)
}
