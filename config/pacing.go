package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Pacing is how fast licensedesk calls the peers that limit it (the
// payment provider, the SMTP relay), how the payments sandbox behaves, and
// what the billing digest counts as a large invoice: checked values.
type Pacing struct {
	PaymentsRate      float64       // PAYMENTS_RATE, requests a second; 0: unpaced
	SMTPRate          float64       // SMTP_RATE, mails a second; 0: unpaced
	SandboxLatency    time.Duration // PAYMENTS_SANDBOX_LATENCY
	SandboxRate       float64       // PAYMENTS_SANDBOX_RATE; 0: no limit
	SandboxKeyWindow  time.Duration // PAYMENTS_SANDBOX_KEY_WINDOW
	LargeInvoiceCents int64         // BILLING_LARGE_INVOICE in minor units; 0: none
}

// Pacing reads and checks the pacing settings; an error names the setting.
func (c *Config) Pacing() (Pacing, error) {
	var p Pacing
	var err error
	if p.PaymentsRate, err = rate("PAYMENTS_RATE", c.PaymentsRate); err != nil {
		return p, err
	}
	if p.SMTPRate, err = rate("SMTP_RATE", c.SMTPRate); err != nil {
		return p, err
	}
	if p.SandboxRate, err = rate("PAYMENTS_SANDBOX_RATE", c.SandboxRate); err != nil {
		return p, err
	}
	if p.SandboxLatency, err = duration("PAYMENTS_SANDBOX_LATENCY", c.SandboxLatency, 0, time.Minute); err != nil {
		return p, err
	}
	if p.SandboxKeyWindow, err = duration("PAYMENTS_SANDBOX_KEY_WINDOW", c.SandboxKeyWindow, time.Second, 30*24*time.Hour); err != nil {
		return p, err
	}
	amount, err := strconv.ParseFloat(strings.TrimSpace(c.BillingLarge), 64)
	if err != nil || amount < 0 || amount > 1e12 || math.IsNaN(amount) {
		return p, fmt.Errorf("BILLING_LARGE_INVOICE: %q is not an amount (like 1000 or 1000.50; 0 for none)", c.BillingLarge)
	}
	p.LargeInvoiceCents = int64(math.Round(amount * 100))
	return p, nil
}

func rate(name, s string) (float64, error) {
	r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || r < 0 || r > 100000 || math.IsNaN(r) {
		return 0, fmt.Errorf("%s: %q is not a number a second from 0 (unpaced) to 100000", name, s)
	}
	return r, nil
}

func duration(name, s string, least, most time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < least || d > most {
		return 0, fmt.Errorf("%s: %q is not a duration from %s to %s (like 300ms or 24h)", name, s, least, most)
	}
	return d, nil
}
