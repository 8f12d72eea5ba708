package devstack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// L-7: a tools.mod planted above the working directory (a shared temporary
// directory) is never built or run; the CLI comes from the repository this
// binary was built from.
func TestFindTemporal_IgnoresAToolsModAboveTheWorkingDirectory(t *testing.T) {
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if got := RepositoryRoot(); got != repo {
		t.Fatalf("RepositoryRoot() = %q, want %q", got, repo)
	}
	planted := t.TempDir()
	// A tools.mod naming a tool that, if ever built from here, fails loudly.
	if err := os.WriteFile(filepath.Join(planted, "tools.mod"), []byte("module evil\n\ngo 1.26\n\ntool evil.example/temporal\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(planted, "somewhere", "deeper")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)
	if RepositoryRoot() != repo {
		t.Fatal("RepositoryRoot depends on the working directory")
	}
	if testing.Short() {
		return // below builds (or finds cached) the pinned CLI
	}
	t.Setenv("TEMPORAL_CLI", "")
	bin, err := FindTemporal(context.Background())
	if err != nil {
		t.Fatalf("FindTemporal from under a planted tools.mod: %v", err)
	}
	if strings.HasPrefix(bin, planted) {
		t.Errorf("FindTemporal chose %s, under the planted tools.mod", bin)
	}
}
