package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"licensedesk/licensing"
)

// memFinder pages through licences held in memory, as the store does.
type memFinder []licensing.License

func (m memFinder) FindLicences(_ context.Context, q licensing.FindQuery, after licensing.SEN, size int) (FoundPage, error) {
	var match []licensing.License
	for _, l := range m {
		hit := false
		switch q.By {
		case licensing.FindByEmail:
			hit = slices.Contains(peopleOf(l), licensing.Email(q.Value))
		case licensing.FindByDomain:
			for _, e := range peopleOf(l) {
				hit = hit || e.Domain() == q.Value
			}
		case licensing.FindBySite:
			hit = l.Site == q.Value
		}
		if hit {
			match = append(match, l)
		}
	}
	slices.SortFunc(match, func(a, b licensing.License) int { return strings.Compare(string(a.SEN), string(b.SEN)) })
	page := FoundPage{Total: len(match)}
	for _, l := range match {
		if l.SEN > after {
			page.Licenses = append(page.Licenses, l)
		}
	}
	if len(page.Licenses) > size {
		page.Licenses = page.Licenses[:size]
		page.Next = page.Licenses[size-1].SEN
	}
	return page, nil
}

// book is the two demo licences plus 12 more of alice's.
func book() memFinder {
	b := memFinder{cloudMonthly(), server()}
	for i := range 12 {
		l := cloudMonthly()
		l.SEN = licensing.SEN(fmt.Sprintf("SEN-30000%02d", i))
		l.Product = "Confluence"
		l.Contacts = l.Contacts[:2]
		if i%3 == 0 {
			l.Contacts[1] = licensing.Contact{Email: "dana@acme.test", Role: licensing.Technical, Primary: true}
		}
		b = append(b, l)
	}
	return b
}

func TestFindBlocks_Golden(t *testing.T) {
	tests := []struct {
		name, arg string
		after     licensing.SEN
	}{
		{"find_email_first_page", "alice@acme.test", ""},
		{"find_email_last_page", "alice@acme.test", "SEN-3000009"},
		{"find_domain", "@umbrella.test", ""},
		{"find_site", "acme.example.net", "SEN-3000010"},
		{"find_nothing", "nobody@acme.test", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := licensing.ParseFindQuery(tt.arg)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := book().FindLicences(context.Background(), q, tt.after, FindPageSize)
			blocks := FindBlocks(q, page, tt.after)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(blocks); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".golden.json", buf.Bytes())
			golden(t, tt.name+".golden.txt", []byte(PlainText(Reply{Text: findSummary(q, page, tt.after), Blocks: blocks})))
			if len(blocks) > 50 {
				t.Errorf("%d blocks; Slack takes 50", len(blocks))
			}
		})
	}
}

// Ten at a time, and the "more" hint, followed, gives the rest.
func TestFind_PagesThroughWithTheMoreHint(t *testing.T) {
	h := newHarness(t, everyone, FindCommand(book()))
	first := PlainText(h.command(t, "U1", "find alice@acme.test"))
	if !strings.Contains(first, "10 of 13 shown") || strings.Count(first, "SEN-") != 11 { // ten licences and the hint's SEN
		t.Fatalf("first page:\n%s", first)
	}
	i := strings.Index(first, "find alice@acme.test --after ")
	if i < 0 {
		t.Fatalf("no more hint:\n%s", first)
	}
	hint := strings.Fields(first[i:])
	second := PlainText(h.command(t, "U1", strings.Join(hint[:4], " ")))
	if !strings.Contains(second, "3 more of 13") || strings.Contains(second, "More:") {
		t.Fatalf("second page:\n%s", second)
	}
	if !strings.Contains(first, "SEN-1000001") || !strings.Contains(second, "SEN-3000011") || !strings.Contains(second, "primary billing, primary technical") {
		t.Errorf("the roles are missing:\n%s", second)
	}
}

func TestFind_BadInput(t *testing.T) {
	h := newHarness(t, everyone, FindCommand(book()))
	for _, text := range []string{"find", "find alice", "find @acme", "find alice@acme.test --after SEN-1", "find alice@acme.test --before SEN-1000001", "find a@acme.test b@acme.test"} {
		r := h.command(t, "U1", text)
		if !strings.Contains(r.Text, "Usage") || !strings.Contains(r.Text, "find") {
			t.Errorf("%q: %q; want the usage line", text, r.Text)
		}
	}
}

func TestFind_IsAReadCommand(t *testing.T) {
	h := newHarness(t, ParseAllow("UREADER", "UACTOR"), FindCommand(book()))
	if r := h.command(t, "UREADER", "find @acme.test"); !strings.Contains(PlainText(r), "Licences at @acme.test") {
		t.Errorf("a reader: %s", PlainText(r))
	}
	if r := h.command(t, "USTRANGER", "find @acme.test"); !strings.Contains(r.Text, "not allowed") {
		t.Errorf("a stranger: %s", r.Text)
	}
	if help := PlainText(h.command(t, "UREADER", "help")); !strings.Contains(help, "/license find <email|@domain|site>") {
		t.Errorf("help does not list find:\n%s", help)
	}
}
