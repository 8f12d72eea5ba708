package sandbox_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"licensedesk/payments"
	"licensedesk/payments/sandbox"
)

// The card page in headless Chromium on a 375 px phone screen: it fits,
// its controls are thumb-sized, and picking a card and pressing "Save card"
// works under the page's Content-Security-Policy, redirect included.
// Skipped when Chromium is not installed or under -short.
// LICENSEDESK_SCREENSHOTS=<dir> keeps screenshots.

const phoneW, phoneH = 375, 740

func chromium() string {
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	return ""
}

func phone(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	path := chromium()
	if path == "" {
		t.Skip("chromium not installed: apt-get install chromium")
	}
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(phoneW, phoneH),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		for range 50 { // Chromium's helpers may still be writing the profile
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneW, phoneH, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("LICENSEDESK_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := value(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

type box struct{ Left, Right, Width, Height float64 }

func measure(t *testing.T, ctx context.Context, sel string) box {
	js := `(() => { const r = document.querySelector(` + "`" + sel + "`" + `).getBoundingClientRect(); return {Left: r.left, Right: r.right, Width: r.width, Height: r.height}; })()`
	return value(t, ctx, "measure "+sel, chromedp.Evaluate[box](js))
}

func TestBrowser_CardPageOnAPhone(t *testing.T) {
	ctx := phone(t)
	e := &env{db: newDB(t), clock: &clock{t: time.Now()}, rc: &receiver{}}
	var sb *sandbox.Sandbox
	mux := http.NewServeMux()
	mux.Handle("/webhooks/stripe", e.rc.handler(time.Now))
	mux.HandleFunc("/card/saved", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!doctype html><title>saved</title><h1>Thanks</h1>")
	})
	mux.Handle("/sandbox/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sb.Handler().ServeHTTP(w, r) }))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	var err error
	sb, err = sandbox.New(sandbox.Config{Store: sandbox.NewPGStore(e.db.Pool()), BaseURL: srv.URL, WebhookSecret: secret,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	c := context.Background()
	customer, err := sb.EnsureCustomer(c, payments.Customer{SEN: "SEN-1000003"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sb.CardSession(c, payments.CardSessionInput{CustomerID: customer, SEN: "SEN-1000003", Reference: "wf|1",
		SuccessURL: srv.URL + "/card/saved?session={CHECKOUT_SESSION_ID}", CancelURL: srv.URL + "/l/token"})
	if err != nil {
		t.Fatal(err)
	}

	step(t, ctx, "open the card page", chromedp.Navigate(s.URL), chromedp.WaitVisible(chromedp.CSS(`button[type=submit]`)))
	screenshot(t, ctx, "sandbox_card_page")
	if w := value(t, ctx, "scrollWidth", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > phoneW {
		t.Errorf("page is %d px wide on a %d px screen", w, phoneW)
	}
	if h1 := value(t, ctx, "title", chromedp.Text(chromedp.CSS(`h1`))); h1 != "Add a card" {
		t.Errorf("h1 %q", h1)
	}
	for _, sel := range []string{`button[type=submit]`, `.actions a`, `label.option`} {
		if b := measure(t, ctx, sel); b.Height < 44 || b.Left < 0 || b.Right > phoneW {
			t.Errorf("%s box %+v: want at least 44 px high, within the screen", sel, b)
		}
	}
	if b := measure(t, ctx, `button[type=submit]`); b.Width < 300 {
		t.Errorf("button is %v px wide; want full width on a phone", b.Width)
	}

	// Pick the stolen card by its label text and save.
	step(t, ctx, "pick a card", chromedp.Click(chromedp.CSS(`input[value=pm_card_chargeDeclinedStolenCard]`)))
	ctxT, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(ctxT, chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || !strings.Contains(res.URL, "/card/saved?session="+s.ID) {
		t.Fatalf("after saving: %d %s", res.Status, res.URL)
	}
	evs := e.rc.got()
	if len(evs) != 1 || evs[0].SessionID != s.ID {
		t.Fatalf("events %+v", evs)
	}
	card, err := sb.SetDefault(c, customer, evs[0].PaymentMethodID)
	if err != nil || card.Last4 != "9979" {
		t.Fatalf("saved card %+v, %v", card, err)
	}
}
