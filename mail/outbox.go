package mail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"regexp"
	"strings"
)

// Store records sent mail by key (postgres.DB implements it, in the
// sent_mail table that /dev/mail shows).
type Store interface {
	// RecordMail stores the mail under key unless a mail with that key is
	// already stored; inserted says whether it was.
	RecordMail(ctx context.Context, key, to, subject, text, html string, links []string) (inserted bool, err error)
	// MailSent says whether a mail with key is stored.
	MailSent(ctx context.Context, key string) (bool, error)
}

// Outbox delivers each business event's mail once, by Message.Key.
type Outbox struct {
	DB Store
	// SMTP sends the mail. With it, the record keeps the key, recipient,
	// subject and time, and a text body with every link removed: links
	// carry live tokens (a password reset, an account setup), which must
	// not sit in the database and its backups. Nil (dev without SMTP_URL):
	// mail is only recorded, in full, for /dev/mail.
	SMTP Sender
	// OnSend, if set, is told of every hand-over to SMTP: nil when the
	// server took the mail, its error when not (licensedesk_mails).
	OnSend func(err error)
}

// Deliver sends m unless a mail with its Key was already recorded, then
// records it: production keeps a log of what was sent (without links),
// dev's /dev/mail shows every mail. Delivering the same Key again does
// nothing.
//
// Delivery is at least once, not exactly once: if the process dies (or
// recording fails) after the SMTP server accepted the mail but before it
// is recorded, the next Deliver of that Key sends it again. The resent
// copy has the same Message-ID, so it is recognisably the same message.
// Two Delivers of one Key racing each other can likewise both send; the
// workflow activities that call Deliver do not do that.
//
// Errors from the Sender are returned as they are, so IsPermanent tells
// whether a retry can help; a message without a Key or with a malformed To is permanent.
func (o *Outbox) Deliver(ctx context.Context, m Message) error {
	if m.Key == "" {
		return permanent(errors.New("mail: message without a Key"))
	}
	if _, err := netmail.ParseAddress(m.To); err != nil {
		return permanent(fmt.Errorf("mail: message %s: bad recipient %q: %w", m.Key, m.To, err))
	}
	sent, err := o.DB.MailSent(ctx, m.Key)
	if err != nil {
		return fmt.Errorf("mail: look up %s: %w", m.Key, err)
	}
	if sent {
		return nil
	}
	text, html, links := m.Text, m.HTML, m.Links
	if o.SMTP != nil {
		err := o.SMTP.Send(ctx, m)
		if o.OnSend != nil {
			o.OnSend(err)
		}
		if err != nil {
			return err
		}
		text, html, links = withoutLinks(m.Text, m.Links), "", nil
	}
	if links == nil {
		links = []string{}
	}
	if _, err := o.DB.RecordMail(ctx, m.Key, m.To, m.Subject, text, html, links); err != nil {
		if o.SMTP != nil {
			return fmt.Errorf("mail: %s was sent but not recorded (a retry sends it again): %w", m.Key, err)
		}
		return fmt.Errorf("mail: record %s: %w", m.Key, err)
	}
	return nil
}

// LinkRemoved stands in for each link in a recorded mail sent over SMTP.
const LinkRemoved = "[link removed]"

// anyURL matches a URL in a plain-text body, up to white space or a
// delimiter that cannot end one.
var anyURL = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s<>"']+`)

// withoutLinks is text with every URL removed: the message's own links
// first (whatever they look like), then anything else that looks like a
// URL, so a template that forgets to declare a link cannot leak its token.
func withoutLinks(text string, links []string) string {
	for _, l := range links {
		if l != "" {
			text = strings.ReplaceAll(text, l, LinkRemoved)
		}
	}
	return anyURL.ReplaceAllString(text, LinkRemoved)
}
