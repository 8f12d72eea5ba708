package postgres

import (
	"context"

	"licensedesk/licensing"
)

// Dev mode's Slack (SPEC §5): slackout.DevSink keeps the messages it would
// have sent in dev_slack_messages, shown by KeptSlackMessages.

// KeepSlackMessage stores a message and returns its ts, shaped like Slack's
// ("1700000000.000100"): the current second, then the row id as six digits,
// so ts values stay unique. blocks is a JSON array (nil for none).
func (db *DB) KeepSlackMessage(ctx context.Context, channel, threadTS, text string, blocks []byte) (string, error) {
	var ts string
	err := db.pool.QueryRow(ctx, `
		WITH next AS (SELECT nextval(pg_get_serial_sequence('dev_slack_messages', 'id')) AS id)
		INSERT INTO dev_slack_messages (id, channel, ts, thread_ts, text, blocks)
		OVERRIDING SYSTEM VALUE
		SELECT next.id, $1,
			floor(extract(epoch FROM now()))::bigint || '.' || lpad((next.id % 1000000)::text, 6, '0'),
			nullif($2, ''), $3, coalesce($4::jsonb, '[]')
		FROM next
		RETURNING ts`, channel, threadTS, text, jsonArg(blocks)).Scan(&ts)
	return ts, err
}

// UpdateSlackMessage replaces the text and blocks of the kept message
// channel/ts and stamps updated_at; an unknown message is NotFound.
func (db *DB) UpdateSlackMessage(ctx context.Context, channel, ts, text string, blocks []byte) error {
	tag, err := db.pool.Exec(ctx, `
		UPDATE dev_slack_messages
		SET text = $3, blocks = coalesce($4::jsonb, '[]'), updated_at = now()
		WHERE channel = $1 AND ts = $2`, channel, ts, text, jsonArg(blocks))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return licensing.Errorf(licensing.NotFound, "No Slack message %s in %s.", ts, channel)
	}
	return nil
}

// jsonArg passes raw JSON as text, so pgx does not take []byte for bytea;
// nil stays NULL.
func jsonArg(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}
