package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Bank authentication in the chaos run: one collection licence in
// chaosAuthEvery pays with pm_card_authenticationRequired, so its charge
// waits for the cardholder. The harness plays the cardholder: it opens the
// newest "Confirm your payment" mail, follows its link to the sandbox's
// bank page and completes the challenge, while workers are killed; some it
// completes twice, some while a /license charge retry races it. The books
// then count these invoices like the others: paid once at the provider
// (double_charges) and paid in the books (unpaid).

// chaosAuthEvery: licence i of the collection batch with i%chaosAuthEvery
// == chaosAuthSlot pays with the card that needs bank authentication.
const (
	chaosAuthEvery = 10
	chaosAuthSlot  = 3
)

// chaosCard is the card collection licence i pays with (SQL, over i).
const chaosCard = `CASE WHEN i % 10 = 3 THEN 'pm_card_authenticationRequired' ELSE 'pm_card_visa' END`

var challengeCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// confirmPayments plays the cardholder of every licence whose charge waits
// for the bank, 8 at a time, and says how many invoices ended paid.
func (h *chaos) confirmPayments(ctx context.Context) {
	var paid, twice, raced atomic.Int64
	g := new(errgroup.Group)
	g.SetLimit(8)
	n := 0
	for i := chaosAuthSlot; i < h.size.Invoices; i += chaosAuthEvery {
		n++
		g.Go(func() error {
			how := h.intn(3) // 0: once; 1: twice; 2: while a retry runs
			if h.confirmPayment(ctx, i, how == 1, how == 2) {
				paid.Add(1)
			}
			switch how {
			case 1:
				twice.Add(1)
			case 2:
				raced.Add(1)
			}
			return nil
		})
	}
	_ = g.Wait()
	h.logf("%d of %d payments confirmed with the bank (%d completed twice, %d while a retry ran)", paid.Load(), n, twice.Load(), raced.Load())
}

// confirmPayment completes licence i's bank challenge from the newest mail
// until its invoice is paid, or 5 minutes pass.
func (h *chaos) confirmPayment(ctx context.Context, i int, twice, race bool) bool {
	sen, payer := fmt.Sprintf("SEN-%d", 4000000+i), fmt.Sprintf("payer%d@chaos.test", i)
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Second) { //clock:wall the harness waits in real time
		if h.invoicesPaid(ctx, sen) {
			return true
		}
		m, ok := h.mailTo(ctx, payer, "Confirm your payment", 10*time.Second)
		if !ok {
			continue
		}
		link := ""
		for _, l := range linksIn(m.Body) {
			if strings.Contains(l, "/l/") {
				link = l
				break
			}
		}
		if link == "" {
			continue
		}
		if race {
			go func() { _, _ = h.slackCommand("charge "+sen, "U0CHAOS") }()
			race = false
		}
		_ = h.bankChallenge(link, twice)
	}
	return h.invoicesPaid(ctx, sen)
}

// bankChallenge follows a confirm-payment link as a person does (its page,
// its button, the bank's page, Complete) and says whether the bank's page
// sent them back; twice presses Complete again.
func (h *chaos) bankChallenge(link string, twice bool) error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := func(u string) (string, error) {
		resp, err := c.Get(u)
		if err != nil {
			return "", err
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := challengeCSRF.FindSubmatch(page)
		if resp.StatusCode != http.StatusOK || m == nil {
			return "", fmt.Errorf("GET %s: %d", u, resp.StatusCode)
		}
		return string(m[1]), nil
	}
	csrf, err := form(link)
	if err != nil {
		return err
	}
	resp, err := c.PostForm(link, url.Values{"csrf": {csrf}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	bank := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || bank == "" {
		return fmt.Errorf("POST %s: %d", link, resp.StatusCode)
	}
	if csrf, err = form(bank); err != nil {
		return err
	}
	for range 1 + btoi(twice) {
		resp, err = c.PostForm(bank, url.Values{"csrf": {csrf}, "outcome": {"complete"}})
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("complete %s: %d", bank, resp.StatusCode)
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (h *chaos) invoicesPaid(ctx context.Context, sen string) bool {
	var open int
	err := h.db.QueryRow(ctx, `SELECT count(*) FROM invoices i JOIN licenses l ON l.id = i.license_id WHERE l.sen = $1 AND i.status = 'open'`, sen).Scan(&open)
	return err == nil && open == 0
}
