package postgres

import (
	"context"
	"encoding/json"
)

// Sent mail (sent_mail): one row per business event's email, by message
// key. mail.Outbox records every mail here after sending it (or instead of
// sending it, in dev); KeptMail lists them for /dev/mail.

// RecordMail stores a mail under key, unless one with that key is already
// stored; inserted says whether this call stored it. links nil is stored
// as an empty list.
func (db *DB) RecordMail(ctx context.Context, key, to, subject, text, html string, links []string) (inserted bool, err error) {
	if links == nil {
		links = []string{}
	}
	js, err := json.Marshal(links)
	if err != nil {
		return false, err
	}
	tag, err := db.pool.Exec(ctx, `
		INSERT INTO sent_mail (message_key, to_addr, subject, text_body, html_body, links)
		VALUES ($1, $2, $3, $4, $5, $6::jsonb)
		ON CONFLICT (message_key) DO NOTHING`, key, to, subject, text, html, string(js))
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// MailSent says whether a mail with key is stored.
func (db *DB) MailSent(ctx context.Context, key string) (bool, error) {
	var sent bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sent_mail WHERE message_key = $1)`, key).Scan(&sent)
	return sent, err
}
