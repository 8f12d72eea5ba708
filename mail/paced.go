package mail

import (
	"context"
	"errors"
	"net/textproto"
	"time"

	gomail "github.com/wneessen/go-mail"

	"licensedesk/pacing"
)

// throttleBackoff is how long a send waits before each try again after
// the relay answered "slow down" (421, 451, 454).
var throttleBackoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}

// Paced returns s with each send paced by pacer (SMTP_RATE, shared by
// every worker) and the relay's throttling answers — 421 (service not
// available, closing), 451 (local error, try later: greylisting and
// per-second caps), 454 (temporary failure) — tried again with backoff,
// each pause holding every worker back. Those answers mean the relay did
// not take the message, so trying again sends it once. After the last try,
// or when the context's time runs out, the error is returned as it is,
// temporary (IsPermanent false): the activity's retry policy carries on,
// and the outbox's key keeps it from being sent twice.
func Paced(s Sender, pacer *pacing.Pacer) Sender {
	return &pacedSender{s: s, pacer: pacer, backoff: throttleBackoff}
}

type pacedSender struct {
	s       Sender
	pacer   *pacing.Pacer
	backoff []time.Duration
}

func (p *pacedSender) Send(ctx context.Context, m Message) error {
	for try := 0; ; try++ {
		if err := p.pacer.Wait(ctx); err != nil {
			return err
		}
		err := p.s.Send(ctx, m)
		if !Throttled(err) || try == len(p.backoff) {
			return err
		}
		wait := p.backoff[try]
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait { //clock:wall the context deadline is wall time
			return err
		}
		_ = p.pacer.Hold(ctx, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// Throttled reports whether err is the SMTP relay asking us to slow down
// or come back later: a 421, 451 or 454 reply.
func Throttled(err error) bool {
	switch SMTPCode(err) {
	case 421, 451, 454:
		return true
	}
	return false
}

// SMTPCode is the SMTP reply code in err, or 0 when it carries none.
func SMTPCode(err error) int {
	if err == nil {
		return 0
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return se.ErrorCode()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}
