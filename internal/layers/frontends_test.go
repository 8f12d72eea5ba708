package layers

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// talkingFrontEnds are the front ends that must talk in domain types
// (licensing, operation, or a port the front end declares), not in the
// store's: their non-test files do not import licensedesk/postgres.
var talkingFrontEnds = []string{"web", "bot", "links"}

// storeImportAllowed lists the files (or, ending in "/", the packages)
// that still import the store, and why. A file that no longer does must
// leave the list.
var storeImportAllowed = map[string]string{
	// Dev mode's sinks: /dev/mail, /dev/slack show the rows dev kept
	// instead of sending (postgres.KeptMail, KeptSlackMessage,
	// KeptSlackView), as stored; they are no domain's. Moving those three
	// types to a small package of their own would end this.
	"web/dev.go":      "dev sinks",
	"web/devslack.go": "dev sinks",
	// The service behind emailed links holds a concrete *postgres.DB
	// (and reads through its pool in places), Link and LinkState, the
	// token hash and the revoked reasons: a port of its own in domain
	// types is a change of its own.
	"links/": "the link service over the store",
}

func TestImports_FrontEndsTalkInDomainTypes(t *testing.T) {
	used := map[string]bool{}
	for _, pkg := range talkingFrontEnds {
		out, err := exec.Command("go", "list", "-f", "{{.Dir}}{{range .GoFiles}} {{.}}{{end}}", module+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		f := strings.Fields(string(out))
		if len(f) < 2 {
			t.Fatalf("go list %s: no files: %s", pkg, out)
		}
		for _, name := range f[1:] {
			file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(f[0], name), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range file.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if path != module+"postgres" && !strings.HasPrefix(path, module+"postgres/") {
					continue
				}
				rel := pkg + "/" + name
				switch {
				case storeImportAllowed[rel] != "":
					used[rel] = true
				case storeImportAllowed[pkg+"/"] != "":
					used[pkg+"/"] = true
				default:
					t.Errorf("%s imports %s: front ends talk in domain types (licensing, operation, or a port declared in %s)", rel, path, pkg)
				}
			}
		}
	}
	for k := range storeImportAllowed {
		if !used[k] {
			t.Errorf("%s no longer imports the store: take it off storeImportAllowed", k)
		}
	}
}
