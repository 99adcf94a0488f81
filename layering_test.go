package instancehub_test

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the project's import path; the rows below name packages
// relative to it, "" for the root.
const module = "github.com/instancehub/instancehub"

// layer is a package's row: the project's packages it may import ("" the
// root, "*" any), and why.
type layer struct {
	pkg    string
	may    []string
	reason string
}

// layering says which of the project's packages each package may import,
// and why (docs/architecture.md draws it). Every package has its row, as
// every route has its row in web's matrix: a new package, or a new import
// between two, is a decision to write down here. A row ending in "/"
// covers every package under that folder.
var layering = []layer{
	{"", nil, "the root is the vocabulary: it imports nothing of the project"},

	// Parts that each implement or use the vocabulary around one thing,
	// knowing nothing of one another.
	{"service", []string{""}, "the use cases ask the store, the cloud and the engine through the root's interfaces"},
	{"engine", []string{""}, "the engine drives operations through the root's store and cloud, never the service"},
	{"scheduler", []string{""}, "the scheduler asks small interfaces of its own, never the service or the engine"},
	{"store", []string{""}, "the store implements the root's store interfaces"},
	{"azure", []string{""}, "azure implements the root's Cloud"},
	{"apps", []string{""}, "the gateway asks a small Service interface of its own"},
	{"localapps", []string{""}, "the offline Jupyter servers are the root's application upstreams"},
	{"oidc", []string{""}, "single sign-on is the root's IdentityProvider"},
	{"metrics", []string{""}, "the figures implement the root's metrics interfaces"},
	{"events", []string{""}, "the hub tells open pages of the changes the store commits, through the root's interfaces"},
	{"amlyaml", []string{""}, "the az ml file is read into the root's CreateRequest"},
	{"views", []string{""}, "the pages show the root's types"},

	// Parts that stand alone.
	{"azure/emulator", nil, "the emulator is Azure offline: it knows nothing of the portal"},
	{"backup", nil, "a backup copies database files"},
	{"client", nil, "the API client speaks HTTP and JSON only"},
	{"static", nil, "static files"},
	{"e2e", nil, "browser tests start the real program"},
	{"internal/pgtest", nil, "a PostgreSQL server for tests"},
	{"internal/promtest", nil, "reads Prometheus figures for tests"},
	{"internal/tools/", []string{"internal/pgtest"}, "tools of the build"},

	// The web server calls the service; the program wires everything.
	{"web", []string{"", "service", "views", "amlyaml"}, "handlers parse, call the service, render"},
	{"internal/testportal", []string{"", "service", "engine", "events", "store", "azure", "azure/emulator"}, "wires a portal for tests as cmd does"},
	{"cmd/instancehub", []string{"*"}, "the program wires every part"},
}

// TestLayering holds every package's imports (go list's, tests' left
// out) against its row.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		var stderr []byte
		if e, ok := err.(*exec.ExitError); ok {
			stderr = e.Stderr
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	for line := range bytes.Lines(out) {
		fields := strings.Fields(string(line))
		pkg := relative(fields[0])
		row := slices.IndexFunc(layering, func(r layer) bool {
			return r.pkg == pkg || strings.HasSuffix(r.pkg, "/") && strings.HasPrefix(pkg, r.pkg)
		})
		if row < 0 {
			t.Errorf("%s has no row in layering: say which of the project's packages it may import", fields[0])
			continue
		}
		rule := layering[row]
		for _, imp := range fields[1:] {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue // the standard library's, or another module's
			}
			to := relative(imp)
			if !slices.Contains(rule.may, to) && !slices.Contains(rule.may, "*") {
				t.Errorf("%s imports %s, which it may not: %s", name(pkg), name(to), rule.reason)
			}
		}
	}
}

// relative is an import path of the project relative to its module.
func relative(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
}

// name is a package as messages name it.
func name(pkg string) string {
	if pkg == "" {
		return "the root package"
	}
	return pkg
}
