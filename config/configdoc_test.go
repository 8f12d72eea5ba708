package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from the table in config.go")

// configurationDoc renders the variable table of config.go (the one Help
// prints) as docs/configuration.md.
func configurationDoc() string {
	var b strings.Builder
	b.WriteString("<!-- Generated from the table in config/config.go; do not edit by hand.\n")
	b.WriteString("     Regenerate: go test ./config -run TestConfigurationDoc -update -->\n")
	b.WriteString("# Configuration\n\n")
	b.WriteString("Every setting licensedesk reads, in the order of `config/config.go`, which\n")
	b.WriteString("is also what `licensedesk --help` prints. Every subcommand reads the\n")
	b.WriteString("environment; a missing required setting stops the process with one line\n")
	b.WriteString("naming it (exit 2). `dev` fills in everything it can. Which subcommand\n")
	b.WriteString("needs what, and the settings in practice: [setup.md](setup.md).\n\n")
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	var c Config
	for _, v := range c.vars() {
		def := ""
		if v.def != "" {
			def = "`" + v.def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.name, def, markdownText(v.help))
	}
	return b.String()
}

// markdownText keeps a help line as written when rendered: table pipes,
// angle brackets (Name <address>) and stars (* = all) are escaped.
var markdownText = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "*", `\*`).Replace

func TestConfigurationDoc_AgreesWithTheTable(t *testing.T) {
	path := filepath.Join("..", "docs", "configuration.md")
	want := configurationDoc()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; make it with: go test ./config -run TestConfigurationDoc -update", err)
	}
	if string(got) != want {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(want, "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("docs/configuration.md disagrees with config/config.go at line %d:\n have %q\n want %q\nregenerate it: go test ./config -run TestConfigurationDoc -update", i+1, g, w)
			}
		}
	}
}
