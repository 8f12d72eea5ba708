package webhooks

import (
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The Standard Webhooks headers every delivery carries.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Signature is the webhook-signature header of one delivery of body as
// event id at ts: "v1,<base64 HMAC-SHA256 of id.ts.body>" with the current
// key, followed (space separated) by the same with the previous key while
// it is still honoured at now, so receivers that have not switched yet
// keep verifying during a rotation.
func (s Secrets) Signature(id string, ts time.Time, body []byte) (string, error) {
	keys := [][]byte{s.Current}
	if len(s.Previous) > 0 && ts.Before(s.PreviousUntil) {
		keys = append(keys, s.Previous)
	}
	sigs := make([]string, 0, len(keys))
	for _, key := range keys {
		wh, err := standardwebhooks.NewWebhookRaw(key)
		if err != nil {
			return "", err
		}
		sig, err := wh.Sign(id, ts, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// Headers are the three headers of a delivery at ts.
func (s Secrets) Headers(id string, ts time.Time, body []byte) (map[string]string, error) {
	sig, err := s.Signature(id, ts, body)
	if err != nil {
		return nil, err
	}
	return map[string]string{HeaderID: id, HeaderTimestamp: strconv.FormatInt(ts.Unix(), 10), HeaderSignature: sig}, nil
}

// EventID is the webhook-id (and the event's "id") of the event recorded
// from history record n.
func EventID(n int64) string { return "evt_" + strconv.FormatInt(n, 10) }

// ParseEventID reads an EventID back; ok is false for anything else.
func ParseEventID(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "evt_"), 10, 64)
	return n, err == nil && n > 0 && strings.HasPrefix(s, "evt_")
}
