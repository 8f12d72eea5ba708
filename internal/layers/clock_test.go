package layers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// wallMark is how a line says its read of the wall clock is honest:
// measuring a duration, a network deadline, a log or a metric, a protocol
// timestamp that must be the real one (a signature's), or a harness that
// drives real processes. Anything that decides or renders by the time of
// day reads an injected clock (internal/clock) instead, or workflow.Now.
const wallMark = "clock:wall"

// clockHome may read the wall clock: it is where the one clock lives.
var clockHome = []string{"internal/clock"}

// harness is code that is not the product but drives it from outside, in
// real time: the test-support packages (a PostgreSQL cluster, a Slack
// stand-in) and the chaos, cluster and book-generating commands, which
// start real processes, kill them and time them.
var harness = []string{"internal/pgtest", "internal/slacktest", "internal/browsertest",
	"cmd/licensedesk/chaos.go", "cmd/licensedesk/cluster.go", "cmd/licensedesk/cluster_peers.go", "cmd/licensedesk/cluster_temporal.go", "cmd/licensedesk/gen.go"}

// TestClock_OnlyTheClockReadsTheWallClock fails when production code
// outside internal/clock calls time.Now, time.Since or time.Until (or
// passes time.Now as a value) on a line that does not say why the wall
// clock is right there.
func TestClock_OnlyTheClockReadsTheWallClock(t *testing.T) {
	root := repoRoot(t)
	var offenders []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || rel == "deploy" {
				return filepath.SkipDir
			}
			for _, h := range append(clockHome, harness...) {
				if rel == h {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || slices.Contains(harness, rel) {
			return nil
		}
		offenders = append(offenders, wallReads(t, path, rel)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range offenders {
		t.Errorf("%s reads the wall clock: take an injected clock (internal/clock; workflow.Now in workflows), or mark an honest use with // %s <why>", o, wallMark)
	}
}

// wallReads lists the unmarked wall-clock reads in one file as file:line.
func wallReads(t *testing.T, path, rel string) []string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	timeName := ""
	for _, imp := range f.Imports {
		if imp.Path.Value == `"time"` {
			timeName = "time"
			if imp.Name != nil {
				timeName = imp.Name.Name
			}
		}
	}
	if timeName == "" {
		return nil
	}
	lines := strings.Split(string(src), "\n")
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok || id.Name != timeName || id.Obj != nil {
			return true
		}
		switch sel.Sel.Name {
		case "Now", "Since", "Until":
			line := fset.Position(sel.Pos()).Line
			if !strings.Contains(lines[line-1], wallMark) {
				out = append(out, rel+":"+itoa(line))
			}
		}
		return true
	})
	return out
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// repoRoot is the module's root: two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(wd))
}

// TestClock_GuardFindsAnUnmarkedRead: the guard sees a decision by the
// wall clock, through an aliased import and as a value, and lets a marked
// measurement pass.
func TestClock_GuardFindsAnUnmarkedRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.go")
	src := `package x

import t "time"

func due(d t.Time) bool { return t.Now().After(d) }

var now = t.Now

func took(start t.Time) t.Duration { return t.Since(start) } //` + wallMark + ` a duration
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := wallReads(t, path, "x.go")
	if want := []string{"x.go:5", "x.go:7"}; !slices.Equal(got, want) {
		t.Fatalf("guard found %v, want %v", got, want)
	}
}
