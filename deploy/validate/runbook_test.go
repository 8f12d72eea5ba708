package validate

import (
	"os"
	"regexp"
	"testing"
)

// The runbook's links to its own sections lead somewhere.
func TestRunbook_SectionLinksResolve(t *testing.T) {
	data, err := os.ReadFile("../../docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := runbookAnchors(t)
	links := regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(string(data), -1)
	if len(links) == 0 {
		t.Fatal("no section links found; has the link syntax changed?")
	}
	for _, m := range links {
		if !anchors["docs/runbook.md#"+m[1]] {
			t.Errorf("link to #%s: no such section", m[1])
		}
	}
}
