// Package static holds the portal's stylesheet, script and icons, and htmx,
// which `make` copies from node_modules into vendor/ (it is never committed).
package static

import "embed"

// FS holds every file of this directory.
//
//go:embed *
var FS embed.FS
