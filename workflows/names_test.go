package workflows

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// wireCalls are the Temporal calls that name a signal, query or update,
// with the position of the name among their arguments.
var wireCalls = map[string]int{
	"GetSignalChannel":            1, // workflow.GetSignalChannel(ctx, name)
	"SetQueryHandler":             1,
	"SetQueryHandlerWithOptions":  1,
	"SetUpdateHandler":            1,
	"SetUpdateHandlerWithOptions": 1,
	"SignalChildWorkflow":         1, // childFuture.SignalChildWorkflow(ctx, name, arg)
	"SignalExternalWorkflow":      3, // workflow.SignalExternalWorkflow(ctx, id, run, name, arg)
	"SignalWorkflow":              3, // client.SignalWorkflow(ctx, id, run, name, arg)
	"SignalWithStartWorkflow":     2, // client.SignalWithStartWorkflow(ctx, id, name, arg, ...)
	"QueryWorkflow":               3, // client.QueryWorkflow(ctx, id, run, name, ...)
}

// wireFields are the option fields that name an update or a query.
var wireFields = map[string]bool{"UpdateName": true, "QueryType": true}

// wireDirs are the packages (and everything under them) that handle or
// send signals, queries and updates.
var wireDirs = []string{"workflows", "temporalclient", "activities", "cmd", "links", "bot", "web", "worker"}

// TestNames_WireContractInNamesGo: every signal, query and update name a
// handler registers or a client sends is a constant of names.go, never a
// string literal or a constant declared elsewhere, so the wire contract is
// one file.
func TestNames_WireContractInNamesGo(t *testing.T) {
	names := constsOf(t, "names.go")
	if len(names) < 12 {
		t.Fatalf("names.go declares %d constants; want every signal, query and update name", len(names))
	}
	checked := 0
	for _, dir := range wireDirs {
		root := filepath.Join("..", dir)
		if _, err := os.Stat(root); err != nil {
			continue
		}
		byDir := map[string][]*parsedFile{}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			pf, err := parseFile(path)
			byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], pf)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for dir, files := range byDir {
			// The package's own constants (names.go's aside) are never a
			// wire name.
			local := map[string]bool{}
			for _, pf := range files {
				if filepath.Base(pf.path) != "names.go" {
					for n := range topConsts(pf.f) {
						local[n] = true
					}
				}
			}
			inWorkflows := dir == filepath.Join("..", "workflows")
			for _, pf := range files {
				checked += checkWireNames(t, pf, names, local, inWorkflows)
			}
		}
	}
	// The packages above name signals, queries and updates in this many
	// places today; far fewer means the check stopped seeing them.
	if checked < 30 {
		t.Errorf("only %d wire names checked; the check no longer finds the calls", checked)
	}
}

type parsedFile struct {
	path string
	fset *token.FileSet
	f    *ast.File
}

func parseFile(path string) (*parsedFile, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	return &parsedFile{path, fset, f}, err
}

// constsOf is the package-level constants file declares.
func constsOf(t *testing.T, file string) map[string]bool {
	t.Helper()
	pf, err := parseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return topConsts(pf.f)
}

func topConsts(f *ast.File) map[string]bool {
	out := map[string]bool{}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
			for _, s := range g.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					out[n.Name] = true
				}
			}
		}
	}
	return out
}

// checkWireNames reports each wire name in pf that is not a names.go
// constant, and returns how many it checked.
func checkWireNames(t *testing.T, pf *parsedFile, names, local map[string]bool, inWorkflows bool) int {
	t.Helper()
	checked := 0
	check := func(what string, e ast.Expr) {
		checked++
		if why := wireNameProblem(e, names, local, inWorkflows); why != "" {
			t.Errorf("%s: %s names %s; use a constant of workflows/names.go", pf.fset.Position(e.Pos()), what, why)
		}
	}
	ast.Inspect(pf.f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if i, ok := wireCalls[sel.Sel.Name]; ok && i < len(n.Args) {
				check(sel.Sel.Name, n.Args[i])
			}
		case *ast.KeyValueExpr:
			if k, ok := n.Key.(*ast.Ident); ok && wireFields[k.Name] {
				check(k.Name, n.Value)
			}
		}
		return true
	})
	return checked
}

// wireNameProblem says what is wrong with e as a wire name, or "" when it
// is a names.go constant (or a variable, whose callers pass one).
func wireNameProblem(e ast.Expr, names, local map[string]bool, inWorkflows bool) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		if s, err := strconv.Unquote(e.Value); err == nil {
			return "the literal " + strconv.Quote(s)
		}
		return "the literal " + e.Value
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && x.Name == "workflows" {
			if !names[e.Sel.Name] {
				return "workflows." + e.Sel.Name + ", which is not in names.go"
			}
			return ""
		}
		return ""
	case *ast.Ident:
		switch {
		case inWorkflows && names[e.Name]:
			return ""
		case local[e.Name]:
			return "the constant " + e.Name + " of its own package"
		case inWorkflows && e.Obj == nil && isExportedWireLike(e.Name):
			return e.Name + ", which is not in names.go"
		}
		return ""
	case *ast.BinaryExpr:
		return "a computed name"
	}
	return ""
}

// isExportedWireLike is a name that looks like a signal, query or update
// constant.
func isExportedWireLike(name string) bool {
	return slices.ContainsFunc([]string{"Signal", "Query", "Update"}, func(s string) bool { return strings.HasSuffix(name, s) })
}
