// Command vulndb turns the OSV files of the golang.org/x/vulndb module into
// the database folder that govulncheck reads with -db file://DIR, so that
// `make vulncheck` needs nothing beyond the Go module proxy:
//
//	vulndb -osv MODULE_DIR/data/osv -modified 2026-11-05T23:49:57Z -out DIR
//
// The folder follows https://go.dev/security/vuln/database#api:
// index/db.json, index/modules.json, index/vulns.json and ID/<id>.json.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	osvDir := flag.String("osv", "", "the folder of OSV files (`data/osv` of the golang.org/x/vulndb module)")
	out := flag.String("out", "", "the database folder to write; replaced whole")
	modified := flag.String("modified", "", "RFC 3339 time of the vulndb version, for index/db.json")
	flag.Parse()
	if err := run(*osvDir, *out, *modified); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

func run(osvDir, out, modified string) error {
	if osvDir == "" || out == "" {
		return fmt.Errorf("-osv and -out are required")
	}
	var since time.Time
	if modified != "" {
		t, err := time.Parse(time.RFC3339, modified)
		if err != nil {
			return fmt.Errorf("-modified: %w", err)
		}
		since = t
	}
	entries, err := load(osvDir)
	if err != nil {
		return err
	}
	return write(out, entries, since)
}
