package pgtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestNewDatabase_IsEmptyAndDroppedAfterTheTest(t *testing.T) {
	var name string
	t.Run("user", func(t *testing.T) {
		url := NewDatabase(t)
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var tables int
		err = conn.QueryRow(t.Context(),
			"SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')").Scan(&name, &tables)
		if err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("new database has %d tables", tables)
		}
		if !strings.HasPrefix(name, "pgtest_") {
			t.Errorf("database %q is not named after the package", name)
		}
		// Left open on purpose: the drop must not wait for this session.
		if _, err := conn.Exec(t.Context(), "CREATE TABLE t (id int)"); err != nil {
			t.Fatal(err)
		}
	})

	conn, err := pgx.Connect(t.Context(), server.adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after its test", name)
	}
}

func TestNewDatabase_GivesEachCallItsOwn(t *testing.T) {
	t.Parallel()
	a, b := NewDatabase(t), NewDatabase(t)
	if a == b {
		t.Fatalf("both calls returned %s", a)
	}
}

// fatalRecorder stands in for a test to catch what NewDatabase reports.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper()                           {}
func (r *fatalRecorder) Fatal(args ...any)                 { r.msg = fmt.Sprint(args...) }
func (r *fatalRecorder) Fatalf(format string, args ...any) { r.msg = fmt.Sprintf(format, args...) }

func TestNewDatabase_WithoutMainSaysToAddTestMain(t *testing.T) {
	mainCalled.Store(false)
	defer mainCalled.Store(true)
	r := &fatalRecorder{TB: t}
	if url := NewDatabase(r); url != "" {
		t.Errorf("got a URL %q without Main", url)
	}
	if !strings.Contains(r.msg, "func TestMain(m *testing.M) { pgtest.Main(m) }") {
		t.Errorf("message %q does not say how to fix it", r.msg)
	}
}

func TestDatabaseName(t *testing.T) {
	for _, tc := range []struct{ binary, want string }{
		{"pgtest.test", "pgtest_abc"},
		{"Licensing.test.exe", "licensing_abc"},
		{"my-pkg.test", "my_pkg_abc"},
		{"2fa.test", "test_2fa_abc"},
		{strings.Repeat("x", 80) + ".test", strings.Repeat("x", 59) + "_abc"},
	} {
		if got := databaseName(tc.binary, "abc"); got != tc.want {
			t.Errorf("databaseName(%q) = %q, want %q", tc.binary, got, tc.want)
		}
	}
}

func TestWithDatabase_KeepsEverythingButTheName(t *testing.T) {
	got, err := withDatabase("postgres://u:p%40ss@db.example:5433/app?sslmode=require", "other")
	if want := "postgres://u:p%40ss@db.example:5433/other?sslmode=require"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := withDatabase("host=localhost dbname=app", "other"); err == nil {
		t.Error("accepted a keyword/value string")
	}
}

// TestCrash_LeavesNoServerOrDirectory runs this binary again with a test
// that panics while holding a database, and checks the aftermath.
func TestCrash_LeavesNoServerOrDirectory(t *testing.T) {
	if os.Getenv("PGTEST_CRASH") != "" {
		NewDatabase(t)
		b, _ := os.ReadFile(filepath.Join(server.tmp, "data", "postmaster.pid"))
		first, _, _ := strings.Cut(string(b), "\n")
		println("PID", first) // to stderr, read by the parent below
		panic("deliberate crash")
	}
	if testing.Short() {
		t.Skip("starts a second cluster")
	}
	tmp := t.TempDir()
	if os.Geteuid() == 0 {
		if err := os.Chmod(filepath.Dir(tmp), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash_LeavesNoServerOrDirectory$")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEST_DATABASE_URL=") { // make it start its own
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PGTEST_CRASH=1", "TMPDIR="+tmp)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := 0
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "PID "); ok {
			pid, _ = strconv.Atoi(s)
		}
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the crashing test binary succeeded")
	}
	if pid == 0 {
		t.Fatal("the crashing test binary never reported its server")
	}

	deadline := time.Now().Add(15 * time.Second)
	for {
		entries, _ := os.ReadDir(tmp)
		serverGone := !alive(pid)
		if len(entries) == 0 && serverGone {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the crash: server %d gone: %v; left in TMPDIR: %v", pid, serverGone, entries)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
