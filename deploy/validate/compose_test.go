package validate

import (
	"context"
	"errors"
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
