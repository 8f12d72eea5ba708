package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// What Slack sends over Socket Mode, and how each envelope is answered.

// maxEnvelopeBytes bounds an envelope's payload: the same bound as the body
// of an HTTP request from Slack. Larger ones are refused with an answer.
const maxEnvelopeBytes = maxBodyBytes

// maxAckBytes is the size from which Slack drops a Socket Mode response
// without a word (20 KiB, as slack-go's socketmode documents and enforces in
// Ack). A reply that does not fit goes to the response_url instead.
const maxAckBytes = 20 << 10

// seenFor is how long an envelope is remembered, so that Slack's retries
// (the same envelope_id, or the same trigger_id in a new envelope) are
// answered again without running anything again.
const seenFor = 10 * time.Minute

// envelope answers a slash command or an interaction: with the reply in its
// acknowledgement, within Slack's deadline, through the same registry as
// HTTP.
func (s *SocketMode) envelope(ctx context.Context, evt socketmode.Event) {
	req := evt.Request
	if req == nil || req.EnvelopeID == "" {
		s.logger.Warn("slack socket mode: envelope without an envelope_id ignored", "type", evt.Type)
		return
	}
	log := s.logger.With("envelope", req.EnvelopeID, "type", req.Type)
	if n := len(req.Payload); n > maxEnvelopeBytes {
		log.Warn("slack socket mode: envelope too large, refused", "bytes", n)
		tooLarge := ephemeral(fmt.Sprintf("That request is too large for me (%d KiB; at most %d KiB), so nothing was done.", n>>10, maxEnvelopeBytes>>10))
		s.ack(ctx, log, req, tooLarge, "")
		return
	}
	h, first := s.seen.claim(time.Now(), envelopeKeys(req, evt.Data)...) //clock:wall Slack redelivers envelopes in real time
	if !first {
		log.Info("slack socket mode: envelope seen before, answered again without running it", "retry_attempt", req.RetryAttempt, "retry_reason", req.RetryReason)
		s.ack(ctx, log, req, h.wait(ctx), "")
		return
	}
	var (
		payload  any    // a Reply, a form's response_action, or nil
		fallback string // where a reply too large for the acknowledgement goes
	)
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		if r := s.reg.answerCommand(ctx, data); !r.Silent {
			payload, fallback = r, data.ResponseURL
		}
	case slack.InteractionCallback:
		// As over HTTP: Slack shows a button's reply only from the
		// response_url; a form's answer is the acknowledgement's payload.
		if ans, ok := s.reg.answerInteraction(ctx, data); ok {
			if ans.respond != nil {
				respondLater(ctx, s.respond, ans.url, *ans.respond, s.logger)
			}
			payload = ans.body
		}
	}
	h.finish(payload)
	s.ack(ctx, log, req, payload, fallback)
}

// badEnvelope answers what slack-go could not read: a malformed payload, or
// a type it does not know. With an envelope_id it is acknowledged (so Slack
// does not send it again) with a reply saying nothing was done.
func (s *SocketMode) badEnvelope(ctx context.Context, bad *socketmode.ErrorBadMessage) {
	var head struct {
		Type                   string `json:"type"`
		EnvelopeID             string `json:"envelope_id"`
		AcceptsResponsePayload bool   `json:"accepts_response_payload"`
	}
	_ = json.Unmarshal(bad.Message, &head)
	log := s.logger.With("envelope", head.EnvelopeID, "type", truncate(head.Type, maxEcho))
	if head.EnvelopeID == "" {
		log.Warn("slack socket mode: unreadable message ignored", "err", bad.Cause)
		return
	}
	text := "I couldn't read that request, so nothing was done."
	switch head.Type {
	case socketmode.RequestTypeSlashCommands, socketmode.RequestTypeInteractive, socketmode.RequestTypeEventsAPI:
		log.Warn("slack socket mode: malformed envelope refused", "err", bad.Cause)
	default:
		log.Warn("slack socket mode: envelope of an unknown type refused", "err", bad.Cause)
		text = fmt.Sprintf("I don't handle Slack requests of type “%s”, so nothing was done.", escape(truncate(head.Type, maxEcho)))
	}
	s.ack(ctx, log, &socketmode.Request{EnvelopeID: head.EnvelopeID, AcceptsResponsePayload: head.AcceptsResponsePayload}, ephemeral(text), "")
}

// ack acknowledges req, with payload (a Reply, or a form's answer) when
// Slack accepts one. A reply too large for an acknowledgement goes to
// fallback (a response_url) when there is one, and a short note in its
// place when not.
func (s *SocketMode) ack(ctx context.Context, log *slog.Logger, req *socketmode.Request, payload any, fallback string) {
	if !req.AcceptsResponsePayload {
		payload = nil
	}
	if r, ok := payload.(Reply); ok {
		if r.ResponseType == "" {
			r.ResponseType = slack.ResponseTypeEphemeral
		}
		payload = r
	}
	if payload != nil {
		if b, err := json.Marshal(socketmode.Response{EnvelopeID: req.EnvelopeID, Payload: payload}); err != nil || len(b) >= maxAckBytes {
			r, isReply := payload.(Reply)
			switch {
			case isReply && fallback != "" && s.respond != nil:
				log.Info("slack socket mode: reply too large for an acknowledgement, sent to response_url", "bytes", len(b))
				respondLater(ctx, s.respond, fallback, r, s.logger)
				payload = nil
			default:
				log.Warn("slack socket mode: answer too large for an acknowledgement and nowhere else to go", "bytes", len(b), "err", err)
				payload = ephemeral("That answer is too long to show here; please narrow the request.")
			}
		}
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.client.AckCtx(actx, req.EnvelopeID, payload); err != nil {
		log.Warn("slack socket mode: acknowledgement failed", "err", err)
	}
}

// envelopeKeys name what makes two envelopes the same request: the
// envelope_id, and the trigger_id Slack gives each command and click.
func envelopeKeys(req *socketmode.Request, data any) []string {
	keys := []string{"envelope " + req.EnvelopeID}
	var trigger string
	switch d := data.(type) {
	case slack.SlashCommand:
		trigger = d.TriggerID
	case slack.InteractionCallback:
		trigger = d.TriggerID
	}
	if trigger != "" {
		keys = append(keys, "trigger "+trigger)
	}
	return keys
}

// envelopeLog remembers the envelopes handled lately and their replies.
type envelopeLog struct {
	ttl time.Duration

	mu    sync.Mutex
	byKey map[string]*handledEnvelope
	order []seenKey // oldest first
}

type seenKey struct {
	key string
	at  time.Time
}

// handledEnvelope is one request, answered or still running.
type handledEnvelope struct {
	done  chan struct{}
	reply any // set before done closes; nil when it needed no reply
}

func newEnvelopeLog(ttl time.Duration) *envelopeLog {
	return &envelopeLog{ttl: ttl, byKey: map[string]*handledEnvelope{}}
}

// claim returns the request any of keys names, and true when it is new (the
// caller then runs it and calls finish).
func (l *envelopeLog) claim(now time.Time, keys ...string) (*handledEnvelope, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := 0
	for i < len(l.order) && now.Sub(l.order[i].at) > l.ttl {
		delete(l.byKey, l.order[i].key)
		i++
	}
	if i > 0 {
		l.order = append(l.order[:0:0], l.order[i:]...)
	}
	for _, k := range keys {
		if h, ok := l.byKey[k]; ok {
			return h, false
		}
	}
	h := &handledEnvelope{done: make(chan struct{})}
	for _, k := range keys {
		l.byKey[k] = h
		l.order = append(l.order, seenKey{k, now})
	}
	return h, true
}

func (h *handledEnvelope) finish(reply any) {
	h.reply = reply
	close(h.done)
}

// wait returns the first delivery's reply, or says it is still coming when
// that takes longer than Slack waits.
func (h *handledEnvelope) wait(ctx context.Context) any {
	t := time.NewTimer(commandDeadline)
	defer t.Stop()
	select {
	case <-h.done:
		return h.reply
	case <-t.C:
	case <-ctx.Done():
	}
	return ephemeral("I'm still working on that request; its answer comes with the first one.")
}
