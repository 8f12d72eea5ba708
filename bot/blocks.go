package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
	"licensedesk/slackout"
)

// Slack rejects header text over 150 characters.
const maxHeaderRunes = 150

// LicenseBlocks renders a licence for /license show: a header, what a
// past-due licence owes (o, nil when nothing), the billing facts, then the
// people attached to it and the card.
func LicenseBlocks(l licensing.License, o *licensing.Overdue, now time.Time) []slack.Block {
	facts := []*slack.TextBlockObject{field("Deployment", capitalise(string(l.Deployment)))}
	if l.Cycle != "" {
		facts = append(facts, field("Cycle", capitalise(string(l.Cycle))))
	}
	facts = append(facts, field("Status", statusWord(l.Status)))
	if !l.NextBillingDate.IsZero() {
		facts = append(facts, field("Next billing date", l.NextBillingDate.Format("2006-01-02")))
	}
	if l.Site != "" {
		facts = append(facts, field("Site", escape(l.Site)))
	}
	// A server licence is not billed here: no price (not "USD 0.00").
	if l.Deployment == licensing.Cloud && l.Currency != "" {
		facts = append(facts, field("Price", priceText(l)))
	}
	if o != nil {
		facts = append(facts, field("Outstanding", escape(o.Amount()+", invoice "+o.Invoice)))
		if !o.FailedAt.IsZero() {
			facts = append(facts, field("Last charge", escape("failed "+licensing.ShortDate(o.FailedAt)+": "+o.DeclineWords())))
		}
		if !o.SuspendOn.IsZero() && o.Status != licensing.Suspended {
			facts = append(facts, field("Suspends on", licensing.ShortDate(o.SuspendOn)))
		}
	}

	var people []*slack.TextBlockObject
	for _, role := range licensing.Roles {
		people = append(people, field(capitalise(string(role))+" contacts", contactLines(l.Contacts, role)))
	}
	if l.Deployment == licensing.Cloud || len(l.SiteAdmins) > 0 {
		people = append(people, field("Site admins", emailLines(l.SiteAdmins)))
	}
	// Server licences are not billed by card; "no card on file" would read
	// as a problem there.
	if l.Deployment == licensing.Cloud || l.PaymentMethod != nil {
		people = append(people, field("Card", cardText(l.PaymentMethod)))
	}

	blocks := []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType,
		truncate(string(l.SEN)+" · "+l.Product, maxHeaderRunes), false, false))}
	if o != nil {
		blocks = append(blocks, mrkdwnSection(":warning: "+escape(overdueLine(*o, now))))
	}
	return append(blocks, slack.NewSectionBlock(nil, facts, nil), slack.NewSectionBlock(nil, people, nil))
}

// overdueLine is what sales read about a past-due licence: what failed,
// when it is suspended, and the two commands that help.
func overdueLine(o licensing.Overdue, now time.Time) string {
	s := o.Headline()
	switch {
	case o.Status == licensing.Suspended:
	case o.SuspendOn.IsZero() || !now.Before(o.SuspendOn):
		s += " It is suspended at the next check unless paid."
	default:
		s += " It is suspended on " + licensing.ShortDate(o.SuspendOn) + " unless paid."
	}
	return s + " `/license card " + string(o.SEN) + "` mails update-card links; `/license charge " + string(o.SEN) + "` retries now."
}

// licenseSummary is the notification fallback for LicenseBlocks.
func licenseSummary(l licensing.License) string {
	return escape(fmt.Sprintf("%s · %s (%s, %s)", l.SEN, l.Product, l.Deployment, strings.ToLower(statusWord(l.Status))))
}

func statusWord(s licensing.Status) string {
	switch s {
	case licensing.Active:
		return "Active"
	case licensing.PastDue:
		return "Past due"
	case licensing.Suspended:
		return "Suspended"
	case licensing.Cancelled:
		return "Cancelled"
	}
	return capitalise(strings.ReplaceAll(string(s), "_", " "))
}

func priceText(l licensing.License) string {
	price := licensing.FormatMoney(l.PriceCents, l.Currency)
	switch l.Cycle {
	case licensing.Monthly:
		return price + " per month"
	case licensing.Annual:
		return price + " per year"
	}
	return price
}

func contactLines(contacts []licensing.Contact, role licensing.Role) string {
	var lines []string
	for _, c := range contacts {
		if c.Role != role {
			continue
		}
		var notes []string
		if c.Primary {
			notes = append(notes, "primary")
		} else {
			notes = append(notes, "secondary")
		}
		if c.AccountStatus != "" && c.AccountStatus != licensing.AccountActive {
			notes = append(notes, "account "+string(c.AccountStatus))
		}
		line := escape(string(c.Email))
		if len(notes) > 0 {
			line += " (" + strings.Join(notes, ", ") + ")"
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return "none"
	}
	return strings.Join(lines, "\n")
}

func emailLines(emails []licensing.Email) string {
	if len(emails) == 0 {
		return "none"
	}
	lines := make([]string, len(emails))
	for i, e := range emails {
		lines[i] = escape(string(e))
	}
	return strings.Join(lines, "\n")
}

func cardText(pm *licensing.PaymentMethod) string {
	if pm == nil {
		return "no card on file"
	}
	s := fmt.Sprintf("%s •••• %s, exp %02d/%d", strings.ToLower(pm.Brand), pm.Last4, pm.ExpMonth, pm.ExpYear)
	if pm.AddedBy != "" {
		s += ", added by " + string(pm.AddedBy)
	}
	return escape(s)
}

// field is a section field in the "*Label*\nvalue" shape PlainText reads
// back as "Label: value". value must already be mrkdwn-safe.
func field(label, value string) *slack.TextBlockObject {
	return mrkdwnText("*" + label + "*\n" + value)
}

// The mrkdwn helpers are slackout's, shared with outgoing messages.
var (
	escape        = slackout.Escape
	truncate      = slackout.Truncate
	mrkdwnText    = slackout.MrkdwnText
	mrkdwnSection = slackout.MrkdwnSection
)

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
