package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"

	"licensedesk/bot"
	"licensedesk/licensing"
	"licensedesk/mail"
	"licensedesk/operation"
	"licensedesk/passwords"
	"licensedesk/payloadcodec"
	"licensedesk/workflows"
)

// chaosSize is how much traffic and how long the faults last.
type chaosSize struct {
	Invoices, Moves, ContactOps, ContactLicences, Waiting int
	SMTPDown, SlackBad, KillEvery                         time.Duration
	Settle                                                time.Duration // how long everything may take to settle after the last fault
}

var chaosSizes = map[string]chaosSize{
	"small": {Invoices: 90, Moves: 8, ContactOps: 400, ContactLicences: 20, Waiting: 300,
		SMTPDown: 20 * time.Second, SlackBad: 20 * time.Second, KillEvery: 5 * time.Second, Settle: 4 * time.Minute},
	"full": {Invoices: 1000, Moves: 200, ContactOps: 10000, ContactLicences: 100, Waiting: 10000,
		SMTPDown: 2 * time.Minute, SlackBad: time.Minute, KillEvery: 3 * time.Second, Settle: 15 * time.Minute},
}

// chaosReport is what the books say once everything settled.
type chaosReport struct {
	DoubleCharges, Unpaid, LostOps, InvariantBreaks, LostMails, DuplicateMails, LostEvents int
	Settle                                                                                 time.Duration
	ResumeTook                                                                             time.Duration
	WorkerRSSMiB                                                                           float64
}

func (r chaosReport) line() string {
	return fmt.Sprintf("chaos: double_charges=%d unpaid=%d lost_ops=%d invariant_breaks=%d lost_mails=%d duplicate_mails=%d settle_s=%.1f lost_events=%d",
		r.DoubleCharges, r.Unpaid, r.LostOps, r.InvariantBreaks, r.LostMails, r.DuplicateMails, r.Settle.Seconds(), r.LostEvents)
}

// chaos is one run of the harness.
type chaos struct {
	size   chaosSize
	rnd    *rand.Rand
	rndMu  sync.Mutex
	c      *cluster
	smtp   *smtpSink
	slack  *fakeSlack
	db     *pgxpool.Pool
	tc     client.Client
	out    io.Writer
	http   *http.Client
	secret []byte
	hooks  *chaosReceiver // the webhook receiver, down, failing and slow for a while
	hookEP string         // its endpoint

	lastFault atomic.Int64 // unix nanos of the end of the last fault
}

// runChaos is `licensedesk chaos [--size small|full] [--seed N]`: the
// cluster of deploy/ on this machine, real traffic, faults at random
// moments, then the books. Its last line is exactly the chaos: line that
// scripts read; it exits 1 when a promise was broken.
type chaosFlags struct {
	size, dir, binary string
	seed              uint64
	waiting           int
}

func chaosFlagSet(f *chaosFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.StringVar(&f.size, "size", "small", "small (CI, a few minutes) or full")
	fs.Uint64Var(&f.seed, "seed", 1, "seeds every random choice, so a run can be repeated")
	fs.StringVar(&f.dir, "data-dir", "", "where the cluster keeps its state (default: a new temporary directory)")
	fs.StringVar(&f.binary, "binary", "", "the licensedesk binary the cluster runs (default: this one)")
	fs.IntVar(&f.waiting, "waiting", 0, "how many operations wait on people at the end (default: the size's)")
	return fs
}

func runChaos(ctx context.Context, args []string, stdout io.Writer) error {
	var f chaosFlags
	fs := chaosFlagSet(&f)
	fs.SetOutput(stdout)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	sizeName, seed, dir, binary := &f.size, &f.seed, &f.dir, &f.binary
	size, ok := chaosSizes[*sizeName]
	if !ok {
		return usageErrorf("--size %q: want small or full", *sizeName)
	}
	if f.waiting < 0 || f.waiting > 100000 {
		return usageErrorf("--waiting %d: want 0 (the size's) to 100000", f.waiting)
	}
	if f.waiting > 0 {
		size.Waiting = f.waiting
	}
	var err error
	if *binary == "" {
		if *binary, err = os.Executable(); err != nil {
			return err
		}
	}
	keep := *dir != ""
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "licensedesk-chaos-"); err != nil {
			return err
		}
	}
	defer func() {
		if !keep {
			_ = os.RemoveAll(*dir)
		}
	}()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	_ = os.Chmod(*dir, 0o755)
	logFile, err := os.Create(filepath.Join(*dir, "cluster.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()

	h := &chaos{size: size, rnd: rand.New(rand.NewPCG(*seed, *seed+1)), out: stdout}
	jar, _ := cookiejar.New(nil)
	h.http = &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if h.smtp, err = startSMTPSink(); err != nil {
		return err
	}
	defer h.smtp.close()
	if h.slack, err = startFakeSlack(); err != nil {
		return err
	}
	defer h.slack.close()
	h.logf("starting the cluster (2 serves, 3 workers) in %s", *dir)
	h.c, err = startCluster(ctx, clusterOptions{Dir: *dir, Binary: *binary, Serves: 2, Workers: 3, Log: logFile,
		SMTPURL: "smtp://" + h.smtp.addr, SlackAPIURL: h.slack.url, SweepEveryString: "24h",
		PaymentFaults: fmt.Sprintf("drop=0.15,error=0.1,slow=0.05,delay=1s,seed=%d", *seed),
		Extra:         map[string]string{"WEBHOOK_ALLOW_PRIVATE": "true"}})
	if err != nil {
		return err
	}
	defer h.c.stop()
	h.logf("the cluster is up; its Temporal (%s) was serving %.1f s after it started", h.c.temporal.Address(), h.c.temporalStartup.Seconds())
	if h.db, err = pgxpool.New(ctx, h.c.dbURL); err != nil {
		return err
	}
	defer h.db.Close()
	h.secret = []byte(h.c.env["SLACK_SIGNING_SECRET"])
	// The harness reads results and histories as the workers wrote them:
	// through the cluster's payload codec.
	codec, err := payloadcodec.ParseKeys(h.c.env["TEMPORAL_CODEC_KEYS"])
	if err != nil {
		return err
	}
	opts := client.Options{HostPort: h.c.temporal.Address(), Logger: quietSDKLogger{},
		DataConverter: payloadcodec.DataConverter(codec), FailureConverter: payloadcodec.FailureConverter(codec)}
	if h.tc, err = client.Dial(opts); err != nil {
		return err
	}
	defer h.tc.Close()

	rep, err := h.run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "chaos: %d waiting operations resumed by a restarted worker in %.1f s, its RSS %.0f MiB\n",
		size.Waiting, rep.ResumeTook.Seconds(), rep.WorkerRSSMiB)
	fmt.Fprintf(stdout, "chaos: Temporal services resident after the run: %s\n", h.c.temporalRSS())
	fmt.Fprintln(stdout, rep.line())
	if rep.DoubleCharges+rep.Unpaid+rep.LostOps+rep.InvariantBreaks+rep.LostMails+rep.LostEvents > 0 {
		keep = true
		return fmt.Errorf("a promise was broken (see the chaos: line); the processes' logs are in %s", logFile.Name())
	}
	return nil
}

func (h *chaos) logf(format string, args ...any) {
	fmt.Fprintf(h.out, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (h *chaos) intn(n int) int {
	h.rndMu.Lock()
	defer h.rndMu.Unlock()
	return h.rnd.IntN(n)
}

func (h *chaos) faultEnded() { h.lastFault.Store(time.Now().UnixNano()) }

func (h *chaos) run(ctx context.Context) (chaosReport, error) {
	h.hooks = startChaosReceiver()
	defer h.hooks.srv.Close()
	var err error
	if h.hookEP, err = h.hooks.register(ctx, h); err != nil {
		return chaosReport{}, err
	}
	if err := h.addLicences(ctx); err != nil {
		return chaosReport{}, err
	}

	// 1. Collections: a third of the due invoices while workers are killed,
	// a third while PostgreSQL restarts twice, a third while Temporal restarts.
	third := h.size.Invoices / 3
	h.logf("collecting %d due invoices while a random worker is killed every %v", third, h.size.KillEvery)
	stopKills := h.killer(ctx, h.c.workers)
	if err := h.sweep(ctx, 0, third); err != nil {
		return chaosReport{}, err
	}
	h.waitPaid(ctx, 0, third, 3*time.Minute)
	stopKills()
	h.faultEnded()

	h.logf("collecting %d more while PostgreSQL is restarted twice", third)
	if err := h.sweep(ctx, third, 2*third); err != nil {
		return chaosReport{}, err
	}
	for range 2 {
		time.Sleep(time.Duration(1+h.intn(3)) * time.Second)
		if err := h.c.restartPostgres(ctx); err != nil {
			return chaosReport{}, err
		}
		h.faultEnded()
	}
	h.waitPaid(ctx, third, 2*third, 3*time.Minute)

	h.logf("collecting %d more while Temporal's history, matching and frontend services are each killed and restarted", h.size.Invoices-2*third)
	if err := h.sweep(ctx, 2*third, h.size.Invoices); err != nil {
		return chaosReport{}, err
	}
	for _, service := range []string{"history", "matching", "frontend"} {
		time.Sleep(time.Duration(1+h.intn(3)) * time.Second)
		if err := h.c.restartTemporalService(ctx, service); err != nil {
			return chaosReport{}, err
		}
		h.faultEnded()
	}

	// Payments the bank asked the cardholder to confirm, confirmed while
	// workers are killed: some twice, some racing a /license charge retry.
	stopKills = h.killer(ctx, h.c.workers)
	h.confirmPayments(ctx)
	stopKills()
	h.faultEnded()

	// 2. Moves, every click over HTTP, while a random serve and worker are
	// killed, and Temporal's matching and history services once each; SMTP
	// goes down and Slack answers 429 and 5xx for a while.
	h.logf("%d moves through the proxy while serves, workers, Temporal matching and history are killed; SMTP down %v, Slack failing %v", h.size.Moves, h.size.SMTPDown, h.size.SlackBad)
	stopServeKills := h.killer(ctx, h.c.serves)
	stopKills = h.killer(ctx, h.c.workers)
	faults := make(chan struct{})
	go func() {
		defer close(faults)
		time.Sleep(3 * time.Second)
		h.smtp.down()
		h.slack.failing.Store(true)
		go h.hooks.faults(h.size.SMTPDown)
		time.Sleep(min(h.size.SMTPDown, h.size.SlackBad))
		if h.size.SlackBad <= h.size.SMTPDown {
			h.slack.failing.Store(false)
			time.Sleep(h.size.SMTPDown - h.size.SlackBad)
			_ = h.smtp.up()
		} else {
			_ = h.smtp.up()
			time.Sleep(h.size.SlackBad - h.size.SMTPDown)
			h.slack.failing.Store(false)
		}
		h.faultEnded()
	}()
	temporalKills := h.killTemporalDuring(ctx, "matching", "history")
	moves := h.moves(ctx)
	<-faults
	if err := <-temporalKills; err != nil {
		return chaosReport{}, err
	}

	// 3. Concurrent contact changes on a few licences while workers die.
	h.logf("%d concurrent contact changes on %d licences", h.size.ContactOps, h.size.ContactLicences)
	h.contactChanges(ctx)
	stopKills()
	stopServeKills()
	h.faultEnded()

	// 4. Everything settles.
	rep := chaosReport{}
	settled := h.settle(ctx, moves)
	rep.Settle = time.Since(time.Unix(0, h.lastFault.Load()))
	if !settled {
		h.logf("not settled %v after the last fault", h.size.Settle)
	} else {
		h.logf("settled %.1f s after the last fault", rep.Settle.Seconds())
	}
	if err := h.books(ctx, moves, &rep); err != nil {
		return rep, err
	}
	if err := h.checkMetrics(ctx); err != nil {
		h.logf("metrics disagree with the database: %v", err)
		rep.LostOps++ // a lie on the dashboard is a broken promise too
	}

	// 5. Many operations waiting on people, resumed by a restarted worker.
	if err := h.waiting(ctx, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// addLicences adds the licences the traffic uses: due ones with a working
// card for collection, one per move, and a few for contact changes.
func (h *chaos) addLicences(ctx context.Context) error {
	hash, err := passwords.Hash("correct horse battery staple")
	if err != nil {
		return err
	}
	add := func(from, n int, prefix string, due, card string) error {
		_, err := h.db.Exec(ctx, `
			WITH a AS (
				INSERT INTO accounts (email, status, password_hash)
				SELECT $3 || i || '@chaos.test', 'active', $4 FROM generate_series($1::int, $1::int + $2::int - 1) i
				RETURNING id, email),
			l AS (
				INSERT INTO licenses (sen, product, deployment, billing_cycle, status, site, price_cents, next_billing_date)
				SELECT 'SEN-' || (4000000 + i), 'Jira Software', 'cloud', 'monthly', 'active', 'chaos' || i || '.example.net', 1000, `+due+`
				FROM generate_series($1::int, $1::int + $2::int - 1) i
				RETURNING id, sen),
			c AS (
				INSERT INTO license_contacts (license_id, account_id, role, is_primary)
				SELECT l.id, a.id, r, true FROM l
				JOIN a ON a.email = $3 || (substr(l.sen, 5)::int - 4000000) || '@chaos.test'
				CROSS JOIN unnest(ARRAY['billing', 'technical']) r
				RETURNING license_id)
			INSERT INTO payment_methods (license_id, provider_ref, brand, last4, exp_month, exp_year, is_default)
			SELECT DISTINCT c.license_id, `+card+`, 'visa', '4242', 12, extract(year FROM now())::int + 4, true
			FROM c JOIN l ON l.id = c.license_id CROSS JOIN LATERAL (SELECT substr(l.sen, 5)::int - 4000000 - $1::int AS i) n`, from, n, prefix, hash)
		return err
	}
	// Collection licences stay off the due list until their batch is swept.
	// One in ten pays with a card whose bank asks the cardholder to confirm
	// (chaos_sca.go).
	if err := add(0, h.size.Invoices, "payer", "current_date + 400", chaosCard); err != nil {
		return fmt.Errorf("collection licences: %w", err)
	}
	if err := add(100000, h.size.Moves, "owner", "current_date + 30", "'pm_card_visa'"); err != nil {
		return fmt.Errorf("move licences: %w", err)
	}
	if err := add(200000, h.size.ContactLicences, "team", "current_date + 30", "'pm_card_visa'"); err != nil {
		return fmt.Errorf("contact licences: %w", err)
	}
	return nil
}

// sweep makes licences [from, to) due and runs the billing sweep.
func (h *chaos) sweep(ctx context.Context, from, to int) error {
	if _, err := h.db.Exec(ctx, `UPDATE licenses SET next_billing_date = current_date WHERE sen IN (
		SELECT 'SEN-' || (4000000 + i) FROM generate_series($1::int, $2::int - 1) i)`, from, to); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		run, err := h.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("billing/sweep-chaos-%d-%d", from, attempt), TaskQueue: "licensedesk"},
			workflows.BillingSweep, workflows.BillingSweepInput{})
		if err == nil {
			wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			err = run.Get(wctx, nil)
			cancel()
		}
		if err == nil {
			return nil
		}
		if attempt > 20 {
			return fmt.Errorf("billing sweep: %w", err)
		}
		time.Sleep(2 * time.Second) // Temporal or PostgreSQL restarting
	}
}

// waitPaid waits, up to limit, for the invoices of licences [from, to),
// but for those waiting for the cardholder's bank (confirmPayments).
func (h *chaos) waitPaid(ctx context.Context, from, to int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var open int
		err := h.db.QueryRow(ctx, `SELECT count(*) FROM invoices i JOIN licenses l ON l.id = i.license_id
			WHERE i.status = 'open' AND l.sen IN (SELECT 'SEN-' || (4000000 + g) FROM generate_series($1::int, $2::int - 1) g WHERE g % $3 <> $4)`,
			from, to, chaosAuthEvery, chaosAuthSlot).Scan(&open)
		if err == nil && open == 0 {
			return
		}
		time.Sleep(time.Second)
	}
}

// killer kills a random one of procs every KillEvery (kill -9) and starts
// it again a moment later, until stopped.
func (h *chaos) killer(ctx context.Context, procs []*proc) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(h.size.KillEvery):
			}
			p := procs[h.intn(len(procs))]
			p.kill()
			time.Sleep(time.Duration(300+h.intn(1500)) * time.Millisecond)
			if err := h.c.run(ctx, p); err != nil {
				h.logf("restart %s: %v", p.name, err)
			}
			_ = waitReady(ctx, p.addr, 30*time.Second)
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		for _, p := range procs {
			_ = waitReady(ctx, p.addr, time.Minute)
		}
	}
}

// killTemporalDuring kill -9s each of services in turn, at moments the
// seed picks a few seconds apart, and restarts it; the channel gets nil
// once all are serving again, or the first error.
func (h *chaos) killTemporalDuring(ctx context.Context, services ...string) <-chan error {
	errc := make(chan error, 1)
	go func() {
		for _, s := range services {
			time.Sleep(time.Duration(2+h.intn(6)) * time.Second)
			h.logf("killing Temporal %s", s)
			if err := h.c.restartTemporalService(ctx, s); err != nil {
				errc <- err
				return
			}
			h.faultEnded()
		}
		errc <- nil
	}()
	return errc
}

// slackCommand sends a signed slash command through the proxy.
func (h *chaos) slackCommand(text, user string) (bot.Reply, error) {
	body := []byte(url.Values{"command": {"/license"}, "text": {text}, "user_id": {user}, "channel_id": {"C0CHAOS"},
		"response_url": {h.c.baseURL + "/dev/slack/response"}}.Encode())
	return h.slackPost("/slack/commands", body)
}

// press presses the Confirm button of a reply, as Slack sends it.
func (h *chaos) press(r bot.Reply, user string) (bot.Reply, error) {
	value, ok := bot.ConfirmValue(r)
	if !ok {
		return bot.Reply{}, fmt.Errorf("no Confirm button in %q", bot.PlainText(r))
	}
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]string{"id": user}, "channel": map[string]string{"id": "C0CHAOS"},
		"actions": []map[string]string{{"type": "button", "block_id": "confirm", "action_id": "confirm", "value": value}},
	})
	return h.slackPost("/slack/interactions", []byte(url.Values{"payload": {string(payload)}}.Encode()))
}

func (h *chaos) slackPost(path string, body []byte) (bot.Reply, error) {
	req, _ := http.NewRequest(http.MethodPost, h.c.baseURL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ts, sig := bot.Sign(h.secret, time.Now(), body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := h.http.Do(req)
	if err != nil {
		return bot.Reply{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return bot.Reply{}, fmt.Errorf("%s: %d", path, resp.StatusCode)
	}
	var r bot.Reply
	return r, json.Unmarshal(b, &r)
}

var csrfInPage = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// follow opens an emailed link (GET) and submits its form (POST), as a
// person does; it returns the POST's status.
func (h *chaos) follow(link string, fields url.Values) (int, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(link)
	if err != nil {
		return 0, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	m := csrfInPage.FindSubmatch(page)
	if m == nil {
		return 0, fmt.Errorf("no form on %s", link)
	}
	form := url.Values{"csrf": {string(m[1])}}
	for k, v := range fields {
		form[k] = v
	}
	resp, err = c.PostForm(link, form)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// mailTo waits for the newest mail to someone whose subject has want.
func (h *chaos) mailTo(ctx context.Context, to, want string, limit time.Duration) (sinkMail, bool) {
	deadline := time.Now().Add(limit)
	for {
		changed := h.smtp.changed()
		msgs := h.smtp.received()
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].To == to && strings.Contains(msgs[i].Subject, want) {
				return msgs[i], true
			}
		}
		if !time.Now().Before(deadline) {
			return sinkMail{}, false
		}
		select {
		case <-changed:
		case <-time.After(time.Second):
		case <-ctx.Done():
			return sinkMail{}, false
		}
	}
}

// moves runs every move like people do, 8 at a time, and returns their
// workflow IDs.
func (h *chaos) moves(ctx context.Context) []string {
	ids := make([]string, h.size.Moves)
	g := new(errgroup.Group)
	g.SetLimit(8)
	for i := range h.size.Moves {
		g.Go(func() error {
			ids[i] = h.move(ctx, 100000+i)
			return nil
		})
	}
	_ = g.Wait()
	return ids
}

func (h *chaos) move(ctx context.Context, i int) string {
	sen := fmt.Sprintf("SEN-%d", 4000000+i)
	owner, newEmail := fmt.Sprintf("owner%d@chaos.test", i), fmt.Sprintf("new%d@chaos.test", i)
	id := operation.MoveID(licensing.SEN(sen), licensing.Email(newEmail))
	step := func(what string, do func() bool) {
		for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
			if do() {
				return
			}
		}
		h.logf("%s: %s did not happen", id, what)
	}
	step("start", func() bool {
		r, err := h.slackCommand("move "+sen+" "+newEmail, "U0CHAOS")
		if err != nil {
			return false
		}
		if strings.Contains(bot.PlainText(r), "already running") {
			return true
		}
		r, err = h.press(r, "U0CHAOS")
		return err == nil && (strings.Contains(bot.PlainText(r), "started") || strings.Contains(bot.PlainText(r), "already running"))
	})
	step("approval", func() bool {
		m, ok := h.mailTo(ctx, owner, "Please confirm moving "+sen, 10*time.Second)
		if !ok || len(linksIn(m.Body)) == 0 {
			return false
		}
		code, err := h.follow(linksIn(m.Body)[0], url.Values{"decision": {"approve"}})
		return err == nil && (code == http.StatusOK || code == http.StatusGone) && h.pastStep(ctx, id, "confirm")
	})
	step("promotion", func() bool {
		m, ok := h.mailTo(ctx, newEmail, "take over "+sen, 10*time.Second) // "Set up your account and take over <SEN>"
		if !ok || len(linksIn(m.Body)) == 0 {
			return false
		}
		code, err := h.follow(linksIn(m.Body)[0], url.Values{"display_name": {"New Owner"},
			"password": {"granite meadow whistles softly"}, "password_confirm": {"granite meadow whistles softly"}})
		return err == nil && (code == http.StatusOK || code == http.StatusGone) && h.pastStep(ctx, id, "promote")
	})
	return id
}

// pastStep says whether operation id is past step (or done).
func (h *chaos) pastStep(ctx context.Context, id, step string) bool {
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := h.tc.QueryWorkflow(qctx, id, "", workflows.StatusQuery)
	if err != nil {
		return false
	}
	var st operation.Status
	if v.Get(&st) != nil {
		return false
	}
	return st.Done || slices.Index(moveSteps, st.Step) > slices.Index(moveSteps, step)
}

// moveSteps are the move's steps in order (workflows/move.go).
var moveSteps = []string{"check", "confirm", "add", "promote", "remove", "notify"}

// contactChanges sends ContactOps adds and removes at once (32 at a
// time) on ContactLicences licences, pressing Confirm for removals.
func (h *chaos) contactChanges(ctx context.Context) {
	g := new(errgroup.Group)
	g.SetLimit(32)
	for range h.size.ContactOps {
		lic := 4000000 + 200000 + h.intn(h.size.ContactLicences)
		role := []string{"billing", "technical"}[h.intn(2)]
		who := fmt.Sprintf("p%d@chaos.test", h.intn(12))
		remove := h.intn(3) == 0
		g.Go(func() error {
			text := fmt.Sprintf("contact add SEN-%d %s %s", lic, role, who)
			if remove {
				text = fmt.Sprintf("contact remove SEN-%d %s %s", lic, role, who)
			}
			for try := 0; try < 5; try++ {
				r, err := h.slackCommand(text, "U0CHAOS")
				if err != nil {
					time.Sleep(500 * time.Millisecond)
					continue
				}
				if remove {
					if _, ok := bot.ConfirmValue(r); ok {
						_, _ = h.press(r, "U0CHAOS")
					}
				}
				return nil
			}
			return nil
		})
	}
	_ = g.Wait()
}

// settle waits until every operation of the run has ended and every mail
// recorded has arrived, or Settle passes.
func (h *chaos) settle(ctx context.Context, moves []string) bool {
	deadline := time.Now().Add(h.size.Settle)
	for time.Now().Before(deadline) {
		running := h.count(ctx, `ExecutionStatus = "Running" AND Operation IN ("move", "contact-add", "contact-remove", "invoice", "promote")`)
		var open, recorded int
		_ = h.db.QueryRow(ctx, `SELECT count(*) FROM invoices i JOIN licenses l ON l.id = i.license_id WHERE i.status = 'open' AND l.sen LIKE 'SEN-40%'`).Scan(&open)
		_ = h.db.QueryRow(ctx, `SELECT count(*) FROM sent_mail`).Scan(&recorded)
		lost, _, _ := h.hooks.lost(ctx, h, h.hookEP)
		if running == 0 && open == 0 && h.uniqueReceived() >= recorded && lost == 0 {
			return true
		}
		time.Sleep(2 * time.Second)
	}
	return false
}

func (h *chaos) count(ctx context.Context, query string) int {
	for range 10 {
		resp, err := h.tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: "default", Query: query})
		if err == nil {
			return int(resp.Count)
		}
		time.Sleep(time.Second)
	}
	return -1
}

func (h *chaos) uniqueReceived() int {
	seen := map[string]bool{}
	for _, m := range h.smtp.received() {
		seen[m.MessageID] = true
	}
	return len(seen)
}

// books counts what the promises are about, from the database, the
// provider's own records (the sandbox's charges), Temporal and the SMTP
// server.
func (h *chaos) books(ctx context.Context, moves []string, rep *chaosReport) error {
	q := func(dst *int, sql string) error { return h.db.QueryRow(ctx, sql).Scan(dst) }
	if err := q(&rep.DoubleCharges, `SELECT count(*) FROM (SELECT metadata->>'invoice' FROM sandbox_charges
		WHERE status = 'succeeded' GROUP BY 1 HAVING count(*) > 1) x`); err != nil {
		return err
	}
	if err := q(&rep.Unpaid, `SELECT count(*) FROM invoices i JOIN licenses l ON l.id = i.license_id
		WHERE i.status = 'open' AND l.sen LIKE 'SEN-40%'`); err != nil {
		return err
	}
	var unpaidAtProvider int // paid in the books but not at the provider, or the other way
	if err := q(&unpaidAtProvider, `SELECT count(*) FROM invoices i WHERE i.number LIKE 'SEN-40%' AND
		(i.status = 'paid') <> EXISTS (SELECT 1 FROM sandbox_charges c WHERE c.metadata->>'invoice' = i.number AND c.status = 'succeeded')`); err != nil {
		return err
	}
	rep.Unpaid += unpaidAtProvider
	if err := q(&rep.InvariantBreaks, `SELECT count(*) FROM licenses l WHERE
		(SELECT count(*) FROM license_contacts c WHERE c.license_id = l.id AND c.role = 'billing' AND c.is_primary) <> 1 OR
		(SELECT count(*) FROM license_contacts c WHERE c.license_id = l.id AND c.role = 'technical' AND c.is_primary) <> 1`); err != nil {
		return err
	}
	rep.LostOps = h.count(ctx, `ExecutionStatus = "Running" AND Operation IN ("move", "contact-add", "contact-remove", "invoice", "promote")`) +
		h.count(ctx, `ExecutionStatus IN ("Failed", "TimedOut", "Terminated")`)
	for _, id := range moves {
		if id == "" || !h.completed(ctx, id) {
			rep.LostOps++
		}
	}

	// Mail: every mail the outbox recorded as sent reached the server;
	// every move's four mails are there; a mail resent (at least once
	// delivery) carries the same Message-ID.
	rows, err := h.db.Query(ctx, `SELECT message_key FROM sent_mail`)
	if err != nil {
		return err
	}
	var keys []string
	for rows.Next() {
		var k string
		_ = rows.Scan(&k)
		keys = append(keys, k)
	}
	got := map[string]int{}
	for _, m := range h.smtp.received() {
		got[m.MessageID]++
	}
	for _, k := range keys {
		if got[mail.MessageID(k, "chaos.test")] == 0 {
			rep.LostMails++
		}
	}
	for _, n := range got {
		rep.DuplicateMails += n - 1
	}
	lost, total, err := h.hooks.lost(ctx, h, h.hookEP)
	if err != nil {
		return err
	}
	rep.LostEvents = lost
	h.logf("webhooks: %d of %d events recorded reached the receiver", total-lost, total)
	for i := range h.size.Moves {
		sen, owner, newEmail := fmt.Sprintf("SEN-%d", 4100000+i), fmt.Sprintf("owner%d@chaos.test", 100000+i), fmt.Sprintf("new%d@chaos.test", 100000+i)
		for _, want := range [][2]string{{owner, "Please confirm moving " + sen}, {newEmail, "take over " + sen},
			{owner, sen + " has moved to"}, {newEmail, sen + " has moved to"}} {
			if _, ok := h.mailTo(ctx, want[0], want[1], 0); !ok {
				rep.LostMails++
			}
		}
	}
	return nil
}

func (h *chaos) completed(ctx context.Context, id string) bool {
	d, err := h.tc.DescribeWorkflowExecution(ctx, id, "")
	return err == nil && d.WorkflowExecutionInfo.Status == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
}

// checkMetrics compares what a worker's /metrics says with the database.
func (h *chaos) checkMetrics(ctx context.Context) error {
	time.Sleep(16 * time.Second) // the gauges are read at most every 15 s
	resp, err := http.Get("http://" + h.c.workers[0].addr + "/metrics")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	gauge := func(name string) int {
		m := regexp.MustCompile(`(?m)^` + name + ` (\d+)`).FindSubmatch(b)
		if m == nil {
			return -1
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	var pastDue, suspended int
	_ = h.db.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE status = 'open' AND due_date < current_date`).Scan(&pastDue)
	_ = h.db.QueryRow(ctx, `SELECT count(*) FROM licenses WHERE status = 'suspended'`).Scan(&suspended)
	if g := gauge("licensedesk_invoices_past_due"); g != pastDue {
		return fmt.Errorf("licensedesk_invoices_past_due %d, database %d", g, pastDue)
	}
	if g := gauge("licensedesk_licences_suspended"); g != suspended {
		return fmt.Errorf("licensedesk_licences_suspended %d, database %d", g, suspended)
	}
	if bytes.Contains(b, []byte("licensedesk_operations_overdue{")) {
		return fmt.Errorf("operations overdue: %s", regexp.MustCompile(`licensedesk_operations_overdue\{[^\n]*`).Find(b))
	}
	return nil
}

// waiting starts Waiting verifications, each waiting on a person by
// email, kills every worker, starts one, and measures how long it takes to
// have them all answering again (a status query each) and its memory.
func (h *chaos) waiting(ctx context.Context, rep *chaosReport) error {
	h.logf("%d operations waiting on people; then every worker is killed and one restarted", h.size.Waiting)
	g := new(errgroup.Group)
	g.SetLimit(16)
	ids := make([]string, h.size.Waiting)
	for i := range h.size.Waiting {
		ids[i] = fmt.Sprintf("verify/SEN-%d/waiter%d@chaos.test", 4200000+i%h.size.ContactLicences, i)
		g.Go(func() error {
			_, err := h.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: ids[i], TaskQueue: "licensedesk"}, workflows.Verify,
				workflows.VerifyInput{SEN: licensing.SEN(fmt.Sprintf("SEN-%d", 4200000+i%h.size.ContactLicences)), Requester: licensing.Email(fmt.Sprintf("waiter%d@chaos.test", i))})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Second) {
		var n int
		_ = h.db.QueryRow(ctx, `SELECT count(DISTINCT workflow_id) FROM link_tokens WHERE workflow_id LIKE 'verify/%/waiter%'`).Scan(&n)
		if n >= h.size.Waiting {
			break
		}
	}
	for _, p := range h.c.workers {
		p.kill()
	}
	start := time.Now()
	if err := h.c.run(ctx, h.c.workers[0]); err != nil {
		return err
	}
	if err := waitReady(ctx, h.c.workers[0].addr, time.Minute); err != nil {
		return fmt.Errorf("the restarted worker: %w", err)
	}
	q := new(errgroup.Group)
	q.SetLimit(32)
	var failed atomic.Int64
	for _, id := range ids {
		q.Go(func() error {
			for try := 0; try < 30; try++ {
				qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				_, err := h.tc.QueryWorkflow(qctx, id, "", workflows.StatusQuery)
				cancel()
				if err == nil {
					return nil
				}
				time.Sleep(time.Second)
			}
			failed.Add(1)
			return nil
		})
	}
	_ = q.Wait()
	rep.ResumeTook = time.Since(start)
	rep.WorkerRSSMiB = rssMiB(h.c.workers[0].pid())
	if n := failed.Load(); n > 0 {
		h.logf("%d waiting operations did not answer after the worker restarted", n)
		rep.LostOps += int(n)
	}
	for _, p := range h.c.workers[1:] {
		_ = h.c.run(ctx, p)
	}
	// They would wait 14 days: end them, as ops would.
	for _, id := range ids {
		_ = h.tc.TerminateWorkflow(ctx, id, "", "chaos run over")
	}
	return nil
}

// rssMiB reads a process's resident memory (Linux /proc).
func rssMiB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return -1
}

// quietSDKLogger keeps the harness's own Temporal client quiet.
type quietSDKLogger struct{}

func (quietSDKLogger) Debug(string, ...any) {}
func (quietSDKLogger) Info(string, ...any)  {}
func (quietSDKLogger) Warn(string, ...any)  {}
func (quietSDKLogger) Error(string, ...any) {}
