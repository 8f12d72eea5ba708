package validate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	composeFile = "../compose.yaml"
	envExample  = "../env.example"
)

func exampleEnv(t *testing.T) map[string]string {
	t.Helper()
	env, err := ReadEnvFile(envExample)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestCompose_ValidWithTheExampleEnv(t *testing.T) {
	p, err := LoadCompose(context.Background(), composeFile, "..", exampleEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range CheckComposeFiles(p) {
		t.Error(err)
	}
	want := []string{"migrate", "postgres", "serve", "temporal", "temporal-search-attributes", "temporal-ui", "worker"}
	if got := p.ServiceNames(); !slices.Equal(got, want) {
		t.Errorf("services %v, want %v", got, want)
	}
	w, err := p.GetService("worker")
	if err != nil {
		t.Fatal(err)
	}
	if w.Deploy == nil || w.Deploy.Replicas == nil || *w.Deploy.Replicas != 2 {
		t.Errorf("worker replicas: %+v, want 2", w.Deploy)
	}
}

// A value compose.yaml requires and env.example leaves out stops compose
// with the file's own message; so does a missing .env.
func TestCompose_RequiredSettingMissing(t *testing.T) {
	env := exampleEnv(t)
	delete(env, "SLACK_SIGNING_SECRET")
	_, err := LoadCompose(context.Background(), composeFile, "..", env)
	if err == nil || !strings.Contains(err.Error(), "set SLACK_SIGNING_SECRET in deploy/.env") {
		t.Fatalf("err = %v, want the required-variable message", err)
	}
}

func TestCompose_BrokenFileFails(t *testing.T) {
	cases := []struct{ name, old, new, want string }{
		{"misspelled service key", "    healthcheck:\n      # Over TCP", "    healtcheck:\n      # Over TCP", "services.postgres.healtcheck"},
		{"misspelled top-level key", "\nvolumes:\n  postgres-data:", "\nvolume:\n  postgres-data:", "additional properties 'volume' not allowed"},
		{"value of the wrong type", "      replicas: 2", "      replicas: two", "services.worker.deploy.replicas"},
		{"unknown depends_on condition", "condition: service_completed_successfully", "condition: service_completed", "service_completed"},
		{"depends on a service that is not there", "      migrate:\n        condition: service_completed_successfully\n    environment:\n      <<: *licensedesk-env\n      HTTP_ADDR: \"0.0.0.0:8080\"",
			"      migrations:\n        condition: service_completed_successfully\n    environment:\n      <<: *licensedesk-env\n      HTTP_ADDR: \"0.0.0.0:8080\"", "migrations"},
		{"named volume that is not declared", "      - postgres-data:/var/lib/postgresql/data", "      - pgdata:/var/lib/postgresql/data", "pgdata"},
		{"bad duration", "stop_grace_period: 60s", "stop_grace_period: 60 seconds", "stop_grace_period"},
		{"bind mount of a missing file", "./postgres/10-licensedesk.sh:", "./postgres/10-licencedesk.sh:", "10-licencedesk.sh does not exist"},
		{"Dockerfile that is not there", "dockerfile: deploy/Dockerfile", "dockerfile: deploy/Containerfile", "Containerfile does not exist"},
	}
	orig, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(orig), tc.old) {
				t.Fatalf("compose.yaml no longer contains %q: update this case", tc.old)
			}
			dst := filepath.Join(t.TempDir(), "compose.yaml")
			if err := os.WriteFile(dst, []byte(strings.Replace(string(orig), tc.old, tc.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			// Relative paths still resolve against deploy/.
			p, err := LoadCompose(context.Background(), dst, "..", exampleEnv(t))
			errs := []error{err}
			if err == nil {
				errs = CheckComposeFiles(p)
			}
			all := errors.Join(errs...)
			if all == nil {
				t.Fatalf("the broken copy passed; want an error containing %q", tc.want)
			}
			t.Log(all)
			if !strings.Contains(all.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant one containing %q", all, tc.want)
			}
		})
	}
}

// M-2, L-5: compose publishes only the app to other machines; Temporal (no
// login: whoever reaches it controls every operation), its UI and serve's
// admin port (metrics, readiness, codec) listen on 127.0.0.1 only, and the
// UI's write actions are off.
func TestCompose_OnlyTheAppIsPublishedBeyondThisHost(t *testing.T) {
	p, err := LoadCompose(context.Background(), composeFile, "..", exampleEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	public := map[string]bool{"serve/8080": true}
	seen := map[string]bool{}
	for _, name := range p.ServiceNames() {
		svc, err := p.GetService(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, port := range svc.Ports {
			id := fmt.Sprintf("%s/%d", name, port.Target)
			seen[id] = true
			if public[id] {
				continue
			}
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s is published on %q; want 127.0.0.1 only", id, port.HostIP)
			}
		}
	}
	for _, want := range []string{"serve/8080", "serve/9090", "temporal/7233", "temporal-ui/8080"} {
		if !seen[want] {
			t.Errorf("%s is not published at all", want)
		}
	}
	ui, err := p.GetService("temporal-ui")
	if err != nil {
		t.Fatal(err)
	}
	if v := ui.Environment["TEMPORAL_DISABLE_WRITE_ACTIONS"]; v == nil || *v != "true" {
		t.Error("the Temporal UI allows write actions")
	}
	if v := ui.Environment["TEMPORAL_CODEC_ENDPOINT"]; v == nil || !strings.HasSuffix(*v, "/codec") {
		t.Error("the Temporal UI has no codec endpoint")
	}
	serve, err := p.GetService("serve")
	if err != nil {
		t.Fatal(err)
	}
	if v := serve.Environment["ADMIN_HTTP_ADDR"]; v == nil || *v == "" {
		t.Error("serve has no ADMIN_HTTP_ADDR: /metrics and /readyz are on the public port")
	}
}

// L-11: the build context (the repository root) leaves out compose's
// secrets, dev state and the repository's history.
func TestDockerignore_KeepsSecretsOutOfTheBuild(t *testing.T) {
	b, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatalf("no .dockerignore at the repository root: %v", err)
	}
	lines := strings.Split(string(b), "\n")
	for _, want := range []string{".git", ".licensedesk", "deploy/.env"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore does not leave out %s", want)
		}
	}
}
