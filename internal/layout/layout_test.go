package layout

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/feedsync/feedsync"

// allowed lists, for each package, the module's packages it may import
// directly. A package missing here fails the test until its place in the
// layout is decided.
var allowed = map[string][]string{
	"feed":                       {},
	"feed/feedgen":               {},
	"feed/feedgen/cmd/feedcount": {"feed"},
	"feed/feedgen/cmd/feedgen":   {"feed/feedgen"},
	"tree":                       {"feed"},
	"store":                      {},
	"push":                       {"internal/redact"},
	"push/pushtest":              {"push"},
	"lint":                       {"feed", "tree"},
	"orders":                     {"feed", "tree"},
	"config":                     {"feed", "tree", "orders", "internal/redact", "internal/memlimit"},
	"engine":                     {"config", "feed", "tree", "orders", "store", "push", "internal/redact"},
	"publish":                    {"config", "feed", "tree", "push", "engine"},
	"daemon":                     {"config", "engine", "publish", "feed", "tree", "store", "push", "internal/redact"},
	"cmd/feedsync":               {"config", "engine", "daemon", "publish", "lint", "orders", "feed", "tree", "store", "push", "internal/redact"},
	"internal/redact":            {},
	"internal/memlimit":          {},
	"internal/realfeeds":         {},
	"internal/layout":            {},
}

// Imports run one way: no package imports one above it (go list, not test
// files, which may import what they test against).
func TestImportsRunOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}", module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		pkg = strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		ok, known := allowed[pkg]
		if !known {
			t.Errorf("package %s has no place in the layout: add it to allowed, and to the README's Layout table", pkg)
			continue
		}
		seen++
		for _, imp := range strings.Fields(imports) {
			rel, mine := strings.CutPrefix(imp, module+"/")
			if !mine {
				continue
			}
			if !slices.Contains(ok, rel) {
				t.Errorf("%s imports %s: a back-arrow (it may import %v)", pkg, rel, ok)
			}
		}
	}
	if seen < 10 {
		t.Errorf("go list showed %d of the module's packages; want them all", seen)
	}
}
