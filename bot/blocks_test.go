package bot

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.* from the current output")

func cloudMonthly() licensing.License {
	return licensing.License{
		SEN:             "SEN-1000001",
		Product:         "Jira Software",
		Deployment:      licensing.Cloud,
		Cycle:           licensing.Monthly,
		Status:          licensing.Active,
		Site:            "acme.example.net",
		PriceCents:      1000,
		Currency:        "usd",
		NextBillingDate: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		SiteAdmins:      []licensing.Email{"carol@acme.test"},
		Contacts: []licensing.Contact{
			{Email: "alice@acme.test", Role: licensing.Billing, Primary: true, AccountStatus: licensing.AccountActive},
			{Email: "alice@acme.test", Role: licensing.Technical, Primary: true, AccountStatus: licensing.AccountActive},
			{Email: "bob@acme.test", Role: licensing.Technical, AccountStatus: licensing.AccountActive},
			{Email: "new.person@acme.test", Role: licensing.Technical, AccountStatus: licensing.AccountPending},
		},
		PaymentMethod: &licensing.PaymentMethod{Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2030},
	}
}

func server() licensing.License {
	return licensing.License{
		SEN:        "SEN-2000001",
		Product:    "Bitbucket Data Center",
		Deployment: licensing.Server,
		Status:     licensing.Active,
		Contacts: []licensing.Contact{
			{Email: "hank@umbrella.test", Role: licensing.Billing, Primary: true, AccountStatus: licensing.AccountActive},
			{Email: "ivan@umbrella.test", Role: licensing.Technical, Primary: true, AccountStatus: licensing.AccountActive},
		},
	}
}

func TestLicenseBlocks_Golden(t *testing.T) {
	tests := []struct {
		name string
		l    licensing.License
	}{
		{"license_cloud_monthly", cloudMonthly()},
		{"license_server", server()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blocks := LicenseBlocks(tt.l)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(blocks); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".golden.json", buf.Bytes())

			// The CLI's view of the same message.
			text := PlainText(Reply{Text: licenseSummary(tt.l), Blocks: blocks})
			golden(t, tt.name+".golden.txt", []byte(text))

			// What we send must read back as the same blocks.
			var back slack.Blocks
			if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
				t.Fatalf("blocks do not unmarshal: %v", err)
			}
			if len(back.BlockSet) != len(blocks) {
				t.Fatalf("round trip: %d blocks, want %d", len(back.BlockSet), len(blocks))
			}
		})
	}
}

func TestLicenseBlocks_CardAndStatusWords(t *testing.T) {
	l := cloudMonthly()
	l.Status = licensing.PastDue
	l.PaymentMethod = nil
	text := PlainText(Reply{Blocks: LicenseBlocks(l)})
	for _, want := range []string{"Status: Past due", "Card: no card on file"} {
		if !bytes.Contains([]byte(text), []byte(want)) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./bot -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
