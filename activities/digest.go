package activities

import (
	"context"
	"slices"

	"licensedesk/licensing"
	"licensedesk/postgres"
	"licensedesk/slackout"
)

// maxDigestRuns is how many out-of-date digests one flush brings up to
// date; the next flush does the rest.
const maxDigestRuns = 10

// maxRepliesPerFlush bounds the thread replies one digest gets per flush,
// so one flush stays within its activity's time at one post a second.
const maxRepliesPerFlush = 5

// FlushDigestsInput names a run whose digest to bring up to date first
// (0: none in particular); every other out-of-date digest follows.
type FlushDigestsInput struct {
	Run int64
}

// FlushDigestsOutput says what the flush sent.
type FlushDigestsOutput struct {
	Posted, Updated, Replies int
}

// FlushDigests brings billing runs' digests in Slack up to date: each is
// posted once and then updated in place, and the lines that need a person
// go to its thread, DigestLinesPerReply to a reply (a partial reply only
// once the run has made its first attempts, or when its oldest line has
// waited two minutes). State lives in PostgreSQL, so a Slack that is down
// loses nothing: the next flush, after the outage, sends what is missing.
// Every call goes through the paced poster, so a slow Slack delays only
// this activity, which no business step waits for.
func (a *Activities) FlushDigests(ctx context.Context, in FlushDigestsInput) (FlushDigestsOutput, error) {
	var out FlushDigestsOutput
	if a.Slack == nil {
		return out, nil
	}
	runs, err := a.DB.DigestRuns(ctx, maxDigestRuns)
	if err != nil {
		return out, err
	}
	if in.Run != 0 && !slices.Contains(runs, in.Run) {
		runs = append([]int64{in.Run}, runs...)
	}
	for _, run := range runs {
		if err := a.flushDigest(ctx, run, &out); err != nil {
			return out, slackError(err)
		}
	}
	return out, nil
}

func (a *Activities) flushDigest(ctx context.Context, run int64, out *FlushDigestsOutput) error {
	st, err := a.DB.BillingDigest(ctx, run)
	if licensing.ErrorCode(err) == licensing.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Channel == "" {
		return a.DB.DigestFlushed(ctx, run, st.Version) // nowhere to post
	}
	msg := slackout.DigestMessage(st.Channel, st.Digest)
	if st.TS != "" {
		err := a.Slack.Update(ctx, st.Channel, st.TS, msg)
		if err == nil {
			out.Updated++
		} else if !slackout.IsPermanent(err) {
			return err
		} else {
			st.TS = "" // deleted or no longer editable: post it anew
		}
	}
	if st.TS == "" {
		ts, err := a.Slack.Post(ctx, msg)
		if err != nil {
			return err
		}
		if err := a.DB.DigestPosted(ctx, run, ts); err != nil {
			return err
		}
		st.TS = ts
		out.Posted++
	}
	more, err := a.flushDigestLines(ctx, st, out)
	if err != nil || more {
		return err // more: still out of date, the next flush goes on
	}
	return a.DB.DigestFlushed(ctx, run, st.Version)
}

// flushDigestLines posts the lines waiting for the digest's thread; more
// says some are left for the next flush.
func (a *Activities) flushDigestLines(ctx context.Context, st postgres.DigestState, out *FlushDigestsOutput) (more bool, err error) {
	whole := st.Digest.ChargingDone || st.LinesWaitedLong
	for replies := 0; replies < maxRepliesPerFlush; replies++ {
		lines, err := a.DB.UnpostedDigestLines(ctx, st.Digest.Run, slackout.DigestLinesPerReply)
		if err != nil || len(lines) == 0 || (len(lines) < slackout.DigestLinesPerReply && !whole) {
			return false, err
		}
		exc := make([]licensing.BillingException, len(lines))
		ids := make([]int64, len(lines))
		for i, l := range lines {
			exc[i], ids[i] = l.BillingException, l.ID
		}
		ts, err := a.Slack.Post(ctx, slackout.DigestReply(st.Channel, st.TS, exc))
		if err != nil {
			return false, err
		}
		// A crash between the post and this leaves the lines to be posted
		// again: chat.postMessage has no idempotency key.
		if err := a.DB.DigestLinesPosted(ctx, ids, ts); err != nil {
			return false, err
		}
		out.Replies++
	}
	return st.Unposted > maxRepliesPerFlush*slackout.DigestLinesPerReply, nil
}
