// Package repodocs holds tests that the README and docs/ agree with the
// repository: the README's package map names every package, its "where is
// X" table names files that exist, and every relative link in the README
// and docs/*.md leads to a file (and, with a #fragment, to a heading) that
// exists. It has no code of its own.
package repodocs

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// root is the module's directory, two levels up from this package.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", dir, err)
	}
	return dir
}

// section returns the lines of the README section with the given "## "
// heading, up to the next heading of that level.
func section(t *testing.T, readme, heading string) []string {
	t.Helper()
	var lines []string
	in := false
	for _, l := range strings.Split(readme, "\n") {
		if strings.HasPrefix(l, "## ") {
			if in {
				break
			}
			in = strings.TrimSpace(strings.TrimPrefix(l, "## ")) == heading
			continue
		}
		if in {
			lines = append(lines, l)
		}
	}
	if !in && len(lines) == 0 {
		t.Fatalf("README.md has no section %q", heading)
	}
	return lines
}

// cells splits a Markdown table row into its cells ("" for a non-row).
func cells(line string) []string {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
		return nil
	}
	parts := strings.Split(strings.Trim(line, "|"), "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

var code = regexp.MustCompile("`([^`]+)`")

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestREADME_PackageMapNamesEveryPackage(t *testing.T) {
	dir := root(t)
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v\n%s", err, stderr.String())
	}
	var packages []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		p := strings.TrimSpace(sc.Text())
		if p == "" {
			continue
		}
		_, rel, _ := strings.Cut(p, "/")
		if !strings.Contains(p, "/") {
			rel = "." // the module's root package, should there ever be one
		}
		packages = append(packages, rel)
	}

	mapped := map[string]bool{}
	for _, l := range section(t, readFile(t, filepath.Join(dir, "README.md")), "Package map") {
		c := cells(l)
		if len(c) < 2 {
			continue
		}
		if m := code.FindStringSubmatch(c[0]); m != nil {
			mapped[m[1]] = true
		}
	}
	for _, p := range packages {
		if !mapped[p] {
			t.Errorf("package %s is not in the README's package map: add a line `| `%s` | what it is |`", p, p)
		}
	}
	for p := range mapped {
		if !slices.Contains(packages, p) {
			t.Errorf("the README's package map names %s, which go list ./... does not list", p)
		}
	}
}

func TestREADME_WhereIsXNamesFilesThatExist(t *testing.T) {
	dir := root(t)
	rows := 0
	for _, l := range section(t, readFile(t, filepath.Join(dir, "README.md")), "Where is X") {
		c := cells(l)
		if len(c) < 2 || c[0] == "looking for" {
			continue
		}
		rows++
		paths := 0
		for _, m := range code.FindAllStringSubmatch(c[1], -1) {
			p := m[1]
			if !strings.Contains(p, "/") || strings.ContainsAny(p, " ()") {
				continue // a symbol such as `nextRetry`, not a path
			}
			paths++
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
				t.Errorf("where is %q: %s does not exist", c[0], p)
			}
		}
		if paths == 0 && !strings.Contains(c[1], "](") {
			t.Errorf("where is %q names no file", c[0])
		}
	}
	for _, want := range []string{"move workflow", "progress", "signature", "dunning", "import engine", "billing sweep", "payload codec", "link tokens"} {
		if !strings.Contains(strings.ToLower(strings.Join(section(t, readFile(t, filepath.Join(dir, "README.md")), "Where is X"), "\n")), want) {
			t.Errorf("the README's where-is-X table does not say where the %s is", want)
		}
	}
	if rows == 0 {
		t.Fatal("the README's where-is-X table has no rows")
	}
}

var link = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// documents are the Markdown files whose links are checked.
func documents(t *testing.T, dir string) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(dir, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := append([]string{filepath.Join(dir, "README.md")}, docs...)
	for _, extra := range []string{"deploy/README.md", "workflows/testdata/histories/README.md"} {
		if _, err := os.Stat(filepath.Join(dir, extra)); err == nil {
			files = append(files, filepath.Join(dir, extra))
		}
	}
	return files
}

func TestDocs_EveryRelativeLinkResolves(t *testing.T) {
	dir := root(t)
	anchors := map[string]map[string]bool{}
	for _, f := range documents(t, dir) {
		rel, _ := filepath.Rel(dir, f)
		inFence := false
		for i, l := range strings.Split(readFile(t, f), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "```") {
				inFence = !inFence
			}
			if inFence {
				continue
			}
			for _, m := range link.FindAllStringSubmatch(l, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, frag, _ := strings.Cut(target, "#")
				path := f
				if file != "" {
					path = filepath.Join(filepath.Dir(f), filepath.FromSlash(file))
				}
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s:%d: link %s: %s does not exist", rel, i+1, target, file)
					continue
				}
				if frag == "" || !strings.HasSuffix(path, ".md") {
					continue
				}
				if anchors[path] == nil {
					anchors[path] = headings(readFile(t, path))
				}
				if !anchors[path][frag] {
					t.Errorf("%s:%d: link %s: no heading in %s makes the anchor #%s", rel, i+1, target, filepath.Base(path), frag)
				}
			}
		}
	}
}

// headings returns the anchors a Markdown renderer makes of a file's
// headings: lower case, punctuation dropped, spaces as hyphens, a repeated
// one suffixed -1, -2...
func headings(doc string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(l, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(l, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}
