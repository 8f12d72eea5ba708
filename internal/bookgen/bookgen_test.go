package bookgen

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"licensedesk/licensing"
)

func TestWrite_MakesARealisticBook(t *testing.T) {
	const n = 20000
	opt := Options{Licenses: n, Seed: 7, Start: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	st, err := Write(&buf, opt)
	if err != nil {
		t.Fatal(err)
	}
	share := func(part, whole int) float64 { return float64(part) / float64(whole) }
	if s := share(st.Cloud, n); s < 0.68 || s > 0.72 {
		t.Errorf("cloud share %.3f; want 70 %%", s)
	}
	if s := share(st.Monthly, st.Cloud); s < 0.77 || s > 0.83 {
		t.Errorf("monthly share of cloud %.3f; want 80 %%", s)
	}
	if s := share(st.OnTheFirst, st.Cloud); s < 0.35 || s > 0.45 {
		t.Errorf("share of cloud licences billed on the 1st %.3f; want a spike (~40 %%)", s)
	}
	if s := share(st.Contacts, n); s < 2.8 || s > 3.8 {
		t.Errorf("%.2f contacts per licence; want about 3", s)
	}
	if st.HeavyLicences != HeavyLicences {
		t.Errorf("%s holds %d licences; want %d", HeavyEmail, st.HeavyLicences, HeavyLicences)
	}
	if st.LargestDomainLicences < 100 || st.Accounts >= n {
		t.Errorf("largest customer %d licences, %d people: want some people holding many", st.LargestDomainLicences, st.Accounts)
	}
	if len(st.SENs) < 100 || len(st.Emails) == 0 || len(st.Domains) == 0 || len(st.Sites) == 0 {
		t.Errorf("samples: %d SENs, %d emails, %d domains, %d sites", len(st.SENs), len(st.Emails), len(st.Domains), len(st.Sites))
	}

	// Every line is a valid licence, every SEN once, every date in the
	// month (monthly) or year (annual) from Start.
	seen := map[licensing.SEN]bool{}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	lines := 0
	for sc.Scan() {
		lines++
		l, _, err := DecodeLine(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v\n%s", lines, err, sc.Text())
		}
		if seen[l.License.SEN] {
			t.Fatalf("line %d: %s twice", lines, l.License.SEN)
		}
		seen[l.License.SEN] = true
		if d := l.License.NextBillingDate; !d.IsZero() && (d.Before(opt.Start) || !d.Before(opt.Start.AddDate(1, 0, 0))) {
			t.Fatalf("line %d: billing date %s", lines, d.Format(licensing.DateLayout))
		}
	}
	if lines != n {
		t.Errorf("%d lines; want %d", lines, n)
	}

	var again bytes.Buffer
	if _, err := Write(&again, opt); err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	_, _ = Write(&first, opt)
	if !bytes.Equal(first.Bytes(), again.Bytes()) {
		t.Error("the same seed made a different book")
	}
}

// DecodeLine is what the import does with a line.
func DecodeLine(b []byte) (licensing.NewLicense, string, error) { return licensing.DecodeLicense(b) }
