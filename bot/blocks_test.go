package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
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

// showNow is the clock of the golden files.
var showNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func pastDue() licensing.License {
	l := cloudMonthly()
	l.SEN, l.Product, l.Status = "SEN-1000003", "Jira Service Management", licensing.PastDue
	l.PaymentMethod = &licensing.PaymentMethod{Brand: "visa", Last4: "0002", ExpMonth: 12, ExpYear: 2030}
	return l
}

func pastDueInvoice() *licensing.Overdue {
	due := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	o := licensing.Overdue{SEN: "SEN-1000003", Product: "Jira Service Management", Status: licensing.PastDue, Invoice: "SEN-1000003-2026-11-20",
		AmountCents: 1000, Currency: "USD", DueDate: due, FailedAt: due, DeclineCode: "generic_decline", Reason: "Your card was declined."}.WithSuspension(15 * 24 * time.Hour)
	return &o
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
		o    *licensing.Overdue
	}{
		{"license_cloud_monthly", cloudMonthly(), nil},
		{"license_server", server(), nil},
		{"license_cloud_past_due", pastDue(), pastDueInvoice()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blocks := LicenseBlocks(tt.l, tt.o, showNow)
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
	text := PlainText(Reply{Blocks: LicenseBlocks(l, nil, showNow)})
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

type memOverdue map[licensing.SEN]*licensing.Overdue

func (m memOverdue) Overdue(_ context.Context, sen licensing.SEN) (*licensing.Overdue, error) {
	if o := m[sen]; o != nil {
		c := *o
		c.SuspendOn = time.Time{} // as the store reads it: the command sets it
		return &c, nil
	}
	return nil, nil
}

// TestShow_PastDueNamesWhatIsOwedAndWhen (defect 1): /license show of a
// past-due licence says the amount, invoice, failed charge and suspension
// date (BILLING_SUSPEND_DAYS after the due date).
func TestShow_PastDueNamesWhatIsOwedAndWhen(t *testing.T) {
	cmd := ShowCommand(memLicenses{"SEN-1000003": pastDue()}, memOverdue{"SEN-1000003": pastDueInvoice()}, 10*24*time.Hour)
	reply, err := cmd.Run(context.Background(), Request{Args: []string{"SEN-1000003"}, Now: showNow})
	if err != nil {
		t.Fatal(err)
	}
	text := PlainText(reply)
	for _, want := range []string{"Payment of USD 10.00 for SEN-1000003 failed on 20 Nov 2026: card declined.", "Outstanding: USD 10.00, invoice SEN-1000003-2026-11-20",
		"Suspends on: 30 Nov 2026"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
}
