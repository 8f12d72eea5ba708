package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// KeptMail is an email as /dev/mail.json shows it (SPEC §5).
type KeptMail struct {
	ID      int64     `json:"id"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
	HTML    string    `json:"-"`
	Links   []string  `json:"links"`
	SentAt  time.Time `json:"sent_at"`
}

// KeptMail returns the newest limit emails, newest first.
func (db *DB) KeptMail(ctx context.Context, limit int) ([]KeptMail, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT id, to_addr, subject, text_body, html_body, links, sent_at
		FROM sent_mail ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (KeptMail, error) {
		var m KeptMail
		err := row.Scan(&m.ID, &m.To, &m.Subject, &m.Text, &m.HTML, &m.Links, &m.SentAt)
		if m.Links == nil {
			m.Links = []string{}
		}
		return m, err
	})
}

// KeptSlackMessage is a message as /dev/slack.json shows it (SPEC §5).
type KeptSlackMessage struct {
	Channel   string          `json:"channel"`
	TS        string          `json:"ts"`
	ThreadTS  string          `json:"thread_ts"`
	Text      string          `json:"text"`
	Blocks    json.RawMessage `json:"blocks"`
	UpdatedAt *time.Time      `json:"updated_at"`
}

// KeptSlackMessages returns the newest limit messages, newest first.
func (db *DB) KeptSlackMessages(ctx context.Context, limit int) ([]KeptSlackMessage, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT channel, ts, coalesce(thread_ts, ''), text, blocks, updated_at
		FROM dev_slack_messages ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (KeptSlackMessage, error) {
		var m KeptSlackMessage
		err := row.Scan(&m.Channel, &m.TS, &m.ThreadTS, &m.Text, &m.Blocks, &m.UpdatedAt)
		return m, err
	})
}
