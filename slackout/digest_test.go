package slackout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"licensedesk/internal/slacktest"
	"licensedesk/licensing"
	"licensedesk/pacing"
	"licensedesk/slackout"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./slackout -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./slackout -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// digestRun is a run with every outcome and two currencies.
var digestRun = licensing.BillingDigest{
	Run: 42, StartedAt: time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC), ChargingDone: true,
	Invoiced: 10000, Paid: 9600, DeclinedSoft: 300, DeclinedHard: 88, Suspended: 12, Reactivated: 3, Exceptions: 104,
	Currencies: []licensing.CurrencyTotal{
		{Currency: "EUR", Invoices: 2000, Invoiced: 2000000, Paid: 1930000},
		{Currency: "USD", Invoices: 8000, Invoiced: 8000000, Paid: 7670000},
	},
}

var digestLines = []licensing.BillingException{
	{Kind: licensing.ExceptionHardDecline, SEN: "SEN-4000007", Invoice: "SEN-4000007-2026-12-01", AmountCents: 1000, Currency: "USD", Reason: "Your card was declined."},
	{Kind: licensing.ExceptionSuspended, SEN: "SEN-4000009", Invoice: "SEN-4000009-2026-11-10", AmountCents: 1000, Currency: "EUR"},
	{Kind: licensing.ExceptionLargeFailure, SEN: "SEN-4000011", Invoice: "SEN-4000011-2026-12-01", AmountCents: 500000, Currency: "USD",
		Reason: "Your card has insufficient funds.", NextRetry: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
}

func TestDigest_Golden(t *testing.T) {
	m := slackout.DigestMessage("C0BILLING", digestRun)
	b, _ := json.MarshalIndent(m.Blocks, "", "  ")
	golden(t, "digest.golden.json", append(b, '\n'))
	golden(t, "digest.golden.txt", []byte(m.Text+"\n"))
	r := slackout.DigestReply("C0BILLING", "1700000000.000001", digestLines)
	b, _ = json.MarshalIndent(r.Blocks, "", "  ")
	golden(t, "digest_reply.golden.json", append(b, '\n'))
	golden(t, "digest_reply.golden.txt", []byte(r.Text+"\n"))
	if r.ThreadTS != "1700000000.000001" {
		t.Errorf("the reply is not in the digest's thread: %q", r.ThreadTS)
	}
}

// A full reply (100 lines of the longest kind) stays within Slack's limits,
// which the fake checks; and a run in progress says how many are left.
func TestDigest_FitsSlacksLimits(t *testing.T) {
	s := slacktest.NewServer(t)
	s.SetLimits(slacktest.Limits{})
	api := slackout.NewWebAPI("xoxb-test", s.URL(), nil)
	ctx := context.Background()
	d := digestRun
	d.ChargingDone, d.Charging = false, 1234
	for i := range 40 {
		d.Currencies = append(d.Currencies, licensing.CurrencyTotal{Currency: fmt.Sprintf("X%02d", i), Invoices: 1, Invoiced: 100})
	}
	ts, err := api.Post(ctx, slackout.DigestMessage("C0BILLING", d))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Messages()[0].Text; !strings.Contains(got, "1,234 still to charge") {
		t.Errorf("text %q", got)
	}
	var lines []licensing.BillingException
	for i := range 150 {
		lines = append(lines, licensing.BillingException{Kind: licensing.ExceptionLargeFailure, SEN: licensing.SEN(fmt.Sprintf("SEN-L%012d", i)),
			Invoice: fmt.Sprintf("SEN-L%012d-2026-12-01", i), AmountCents: 99999999999, Currency: "USD", Reason: strings.Repeat("Declined because of a very long reason. ", 10),
			NextRetry: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)})
	}
	r := slackout.DigestReply("C0BILLING", ts, lines)
	if n := strings.Count(r.Text, "\n") + 1; n != slackout.DigestLinesPerReply {
		t.Errorf("a reply carries %d lines; want %d", n, slackout.DigestLinesPerReply)
	}
	if _, err := api.Post(ctx, r); err != nil {
		t.Fatalf("a full reply: %v", err)
	}
	var blocks []struct {
		Text struct{ Text string } `json:"text"`
	}
	if err := json.Unmarshal(s.Messages()[1].Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		if n := len([]rune(b.Text.Text)); n > 3000 {
			t.Errorf("a section of %d characters; Slack takes 3,000", n)
		}
	}
}

// Posts through PacedPoster keep to one a second per channel: the fake,
// which enforces Slack's limits, never answers 429.
func TestPacedPoster_NeverHitsSlacksLimits(t *testing.T) {
	s := slacktest.NewServer(t)
	api := slackout.NewWebAPI("xoxb-test", s.URL(), nil)
	p := slackout.Paced(api, pacing.NewMemoryStore(), slackout.DocumentedLimits)
	api.OnRateLimited = func(method, channel string, d time.Duration) { p.Hold(context.Background(), method, channel, d) }
	ctx := context.Background()
	start := time.Now()
	var ts string
	for i := range 4 {
		var err error
		if ts, err = p.Post(ctx, slackout.Message{Channel: "C0BILLING", Text: fmt.Sprint("message ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Post(ctx, slackout.Message{Channel: "C0OTHER", Text: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := p.Update(ctx, "C0BILLING", ts, slackout.Message{Text: fmt.Sprint("update ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	if s.RateLimited("chat.postMessage")+s.RateLimited("chat.update") != 0 {
		t.Errorf("429s: %d posts, %d updates", s.RateLimited("chat.postMessage"), s.RateLimited("chat.update"))
	}
	if took < 3*time.Second {
		t.Errorf("four posts in one channel took %v; Slack allows one a second", took)
	}
	// A call whose turn is too far off fails at once, and not for good.
	short, cancel := context.WithTimeout(ctx, 2100*time.Millisecond)
	defer cancel()
	p.Hold(ctx, "chat.postMessage", "C0BILLING", 5*time.Second)
	if _, err := p.Post(short, slackout.Message{Channel: "C0BILLING", Text: "too soon"}); !pacing.IsBusy(err) || slackout.IsPermanent(err) {
		t.Errorf("post after a hold: %v; want a busy, not permanent, error", err)
	}
}
