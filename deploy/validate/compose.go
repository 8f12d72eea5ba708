package validate

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// LoadCompose loads a compose file the way `docker compose` does:
// interpolation of ${VAR} from env, the compose specification's JSON schema
// (embedded in compose-go), normalisation, then the consistency checks
// (services, volumes and networks that are referred to exist, no
// dependency cycles). Relative paths in it are taken from dir, where
// compose would take them from the file's own folder.
func LoadCompose(ctx context.Context, file, dir string, env map[string]string) (*types.Project, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	details := types.ConfigDetails{
		WorkingDir:  absDir,
		ConfigFiles: []types.ConfigFile{{Filename: abs, Content: data}},
		Environment: env,
	}
	p, err := loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.SetProjectName("licensedesk", true)
		o.ResolvePaths = true
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// CheckComposeFiles reports what the loader takes on trust but a `docker
// compose up` needs on this disk: every build's context and Dockerfile,
// and every bind-mounted file.
func CheckComposeFiles(p *types.Project) []error {
	var errs []error
	exists := func(svc, what, path string) {
		if _, err := os.Stat(path); err != nil {
			errs = append(errs, fmt.Errorf("service %s: %s %s does not exist", svc, what, path))
		}
	}
	for _, s := range p.Services {
		if b := s.Build; b != nil {
			exists(s.Name, "build context", b.Context)
			if b.Dockerfile != "" {
				df := b.Dockerfile
				if !filepath.IsAbs(df) {
					df = filepath.Join(b.Context, df)
				}
				exists(s.Name, "Dockerfile", df)
			}
		}
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind {
				exists(s.Name, "bind mount source", v.Source)
			}
		}
	}
	return errs
}

// ReadEnvFile reads KEY=VALUE lines (comments and blank lines skipped), the
// format of deploy/env.example.
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: not KEY=VALUE: %q", path, n, line)
		}
		env[k] = v
	}
	return env, sc.Err()
}
