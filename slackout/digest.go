package slackout

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
)

// A billing run's digest: one message in the billing channel, updated in
// place as the run's collections finish, and the lines that need a person
// in its thread, many to a reply. Rendered here from plain data
// (licensing.BillingDigest); the worker decides when to post and update.

// DigestLinesPerReply is how many lines one thread reply carries: a run of
// N invoices needs at most N/DigestLinesPerReply replies however many fail.
const DigestLinesPerReply = 100

// linesPerSection keeps each section under Slack's 3,000 characters.
const linesPerSection = 8

// maxDigestCurrencies bounds the money lines of one digest.
const maxDigestCurrencies = 20

// DigestTime is how a digest names its run: "1 Dec 2026 00:05 UTC".
func DigestTime(d licensing.BillingDigest) string {
	return d.StartedAt.UTC().Format("2 Jan 2006 15:04 MST")
}

// DigestText is the digest's one-line fallback (notifications, search).
func DigestText(d licensing.BillingDigest) string {
	s := fmt.Sprintf("Billing run of %s: %s invoiced, %s paid, %s declined (%s retrying, %s waiting for a new card), %s suspended, %s reactivated",
		DigestTime(d), thousands(d.Invoiced), thousands(d.Paid), thousands(d.Declined()), thousands(d.DeclinedSoft),
		thousands(d.DeclinedHard), thousands(d.Suspended), thousands(d.Reactivated))
	if d.Charging > 0 {
		s += fmt.Sprintf(", %s still to charge", thousands(d.Charging))
	}
	return s + "."
}

// DigestMessage renders a run's digest for channel.
func DigestMessage(channel string, d licensing.BillingDigest) Message {
	status := "first attempts all made"
	if !d.ChargingDone {
		status = fmt.Sprintf("charging… %s to go", thousands(d.Charging))
	}
	counts := []string{
		fmt.Sprintf("*%s invoices* — %s", thousands(d.Invoiced), status),
		fmt.Sprintf(":white_check_mark: *%s paid*", thousands(d.Paid)),
		fmt.Sprintf(":repeat: *%s declined, retrying* on schedule", thousands(d.DeclinedSoft)),
		fmt.Sprintf(":no_entry_sign: *%s declined, waiting for a new card*", thousands(d.DeclinedHard)),
		fmt.Sprintf(":no_entry: *%s suspended*", thousands(d.Suspended)),
		fmt.Sprintf(":leftwards_arrow_with_hook: *%s reactivated* (paid after falling behind)", thousands(d.Reactivated)),
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Billing run · "+DigestTime(d), false, false)),
		MrkdwnSection(strings.Join(counts, "\n")),
	}
	if money := digestMoney(d.Currencies); money != "" {
		blocks = append(blocks, MrkdwnSection(money))
	}
	note := "Nothing needs a person."
	if d.Exceptions > 0 {
		note = fmt.Sprintf("%s for a person in the thread: hard declines, suspensions and large invoices that failed.", plural(d.Exceptions, "line", "lines"))
	}
	blocks = append(blocks, slack.NewContextBlock("", MrkdwnText(fmt.Sprintf("%s Every licence's history has each event: `/license history %s`. Run %d.", note, Escape("<SEN>"), d.Run))))
	return Message{Channel: channel, Text: DigestText(d), Blocks: blocks}
}

// digestMoney is one line per currency: invoiced, paid, outstanding.
func digestMoney(totals []licensing.CurrencyTotal) string {
	var lines []string
	for i, c := range totals {
		if i == maxDigestCurrencies {
			lines = append(lines, fmt.Sprintf("_…and %d more currencies._", len(totals)-i))
			break
		}
		lines = append(lines, fmt.Sprintf("*%s* · %s invoiced (%s) · %s paid · %s outstanding", Escape(c.Currency),
			groupedMoney(c.Invoiced), plural(c.Invoices, "invoice", "invoices"), groupedMoney(c.Paid), groupedMoney(c.Outstanding())))
	}
	return strings.Join(lines, "\n")
}

// DigestReply renders up to DigestLinesPerReply lines for the digest's
// thread, each saying what to do.
func DigestReply(channel, threadTS string, lines []licensing.BillingException) Message {
	if len(lines) > DigestLinesPerReply {
		lines = lines[:DigestLinesPerReply]
	}
	rendered := make([]string, len(lines))
	for i, l := range lines {
		rendered[i] = DigestLine(l)
	}
	blocks := []slack.Block{MrkdwnSection(fmt.Sprintf("*Needs a person* — %s:", plural(len(lines), "invoice", "invoices")))}
	for i := 0; i < len(rendered); i += linesPerSection {
		blocks = append(blocks, MrkdwnSection(strings.Join(rendered[i:min(i+linesPerSection, len(rendered))], "\n")))
	}
	return Message{Channel: channel, ThreadTS: threadTS, Text: strings.Join(rendered, "\n"), Blocks: blocks}
}

// DigestLine is one thread line: what happened and the commands that help.
func DigestLine(l licensing.BillingException) string {
	sen := Escape(string(l.SEN))
	show := "`/license show " + sen + "`"
	reason := Escape(Truncate(l.Reason, 120))
	if reason == "" {
		reason = "declined"
	}
	switch l.Kind {
	case licensing.ExceptionSuspended:
		return fmt.Sprintf(":no_entry: *%s* suspended: invoice %s (%s) is unpaid. `/license card %s` emails update-card links · %s",
			sen, Escape(l.Invoice), l.Amount(), sen, show)
	case licensing.ExceptionHardDecline:
		return fmt.Sprintf(":no_entry_sign: *%s* %s declined for good: %s No retry until a new card: `/license card %s` · %s",
			sen, l.Amount(), withStop(reason), sen, show)
	}
	next := ""
	if !l.NextRetry.IsZero() {
		next = " Next retry " + l.NextRetry.UTC().Format("2 Jan") + "."
	}
	return fmt.Sprintf(":warning: *%s* %s (a large invoice) declined: %s%s `/license charge %s` retries now · `/license card %s` · %s",
		sen, l.Amount(), withStop(reason), next, sen, sen, show)
}

// groupedMoney writes minor units with groups of thousands: 12,345.67.
func groupedMoney(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%s.%02d", sign, thousands(int(cents/100)), cents%100)
}

func withStop(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// thousands writes n with thin groups: 12,345.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}
