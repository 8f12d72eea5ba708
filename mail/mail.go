// Package mail renders licensedesk's emails and delivers them.
//
// Render turns a Kind and its data (ConfirmMove, Invitation, ...) into a
// subject, a plain-text body and an HTML body, from templates embedded in the
// binary. A Message carries them, with an idempotency Key naming the business
// event it is about. An Outbox delivers a Message at most once per Key as
// far as it knows (see Outbox.Deliver for the exact guarantee): it sends it
// through a Sender (SMTP in production, none in dev) and records it in the
// database, where /dev/mail shows it.
package mail

import (
	"context"
	"slices"
)

// What customers know the service as (BRAND_NAME) is a licensing.Brand: the
// From display name when MAIL_FROM has none, the name every mail signs with,
// and the support contact of every mail's footer.

// Message is one email to one person.
type Message struct {
	// Key is the idempotency key: one mail per business event, e.g.
	// "move/SEN-1/x@y/confirm/alice@acme.test". Delivering the same Key
	// twice sends one mail. It also fixes the Message-ID header, so a
	// resent copy is recognisable as the same message.
	Key     string
	To      string // the recipient's address
	Subject string
	Text    string // plain-text body
	HTML    string // HTML body; empty sends a text-only mail
	// Links are the URLs the mail asks its reader to follow, kept with the
	// recorded mail (/dev/mail.json lists them; tests follow them).
	Links []string
}

// WithLinks returns a copy of m with urls added to its Links.
func (m Message) WithLinks(urls ...string) Message {
	m.Links = append(slices.Clone(m.Links), urls...)
	return m
}

// Sender sends one message now. Errors for which retrying cannot help (a
// 5xx reply, a malformed address) satisfy IsPermanent.
type Sender interface {
	Send(ctx context.Context, m Message) error
}
