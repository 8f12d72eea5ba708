package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"
	"time"

	"licensedesk/licensing"
)

// The Standard Webhooks test vector (the specification's libraries sign
// it in their tests): any receiver library verifies what we send.
func TestSignature_StandardWebhooksTestVector(t *testing.T) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SecretPrefix))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Secrets{Current: key}.Signature("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; err != nil || got != want {
		t.Errorf("signature = %q, %v; want %q", got, err, want)
	}
}

// During a rotation both keys sign, the new one first; after the overlap
// only the new one.
func TestSignature_RotationSignsWithBothKeysForADay(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := Secrets{Current: []byte("new-key-new-key-new-key-new-key!"), Previous: []byte("old-key-old-key-old-key-old-key!"), PreviousUntil: now.Add(24 * time.Hour)}
	body := []byte(`{"id":"evt_1"}`)
	sig := func(key []byte, at time.Time) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("evt_1." + "1800000000" + "." + string(body)))
		if !at.Equal(now) {
			t.Fatal("test helper misuse")
		}
		return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	got, _ := s.Signature("evt_1", now, body)
	if want := sig(s.Current, now) + " " + sig(s.Previous, now); got != want {
		t.Errorf("during the overlap: %q; want %q", got, want)
	}
	got, _ = s.Signature("evt_1", now.Add(25*time.Hour), body)
	if strings.Contains(got, " ") {
		t.Errorf("after the overlap the old key still signs: %q", got)
	}
}

func TestPolicy_RefusesBadEndpoints(t *testing.T) {
	strict := Policy{}
	for name, n := range map[string]NewEndpoint{
		"url":         {URL: "http://hooks.example.com/x", Events: []EventType{InvoicePaid}},
		"private":     {URL: "https://10.1.2.3/x", Events: []EventType{InvoicePaid}},
		"loopback":    {URL: "https://127.0.0.1:8443/x", Events: []EventType{InvoicePaid}},
		"v6loopback":  {URL: "https://[::1]/x", Events: []EventType{InvoicePaid}},
		"linklocal":   {URL: "https://169.254.169.254/latest/meta-data", Events: []EventType{InvoicePaid}},
		"credentials": {URL: "https://user:pw@hooks.example.com/x", Events: []EventType{InvoicePaid}},
		"long":        {URL: "https://hooks.example.com/" + strings.Repeat("a", MaxURLLength), Events: []EventType{InvoicePaid}},
		"relative":    {URL: "/hooks", Events: []EventType{InvoicePaid}},
		"events":      {URL: "https://hooks.example.com/x"},
		"unknown":     {URL: "https://hooks.example.com/x", Events: []EventType{"invoice.exploded"}},
	} {
		_, err := strict.Check(n)
		field := "url"
		if name == "events" || name == "unknown" {
			field = "events"
		}
		if licensing.ErrorCode(err) != licensing.Invalid || licensing.ErrorField(err) != field {
			t.Errorf("%s: %v (field %q); want Invalid naming %s", name, err, licensing.ErrorField(err), field)
		}
	}
	n, err := strict.Check(NewEndpoint{URL: "https://hooks.example.com/x", Events: []EventType{InvoicePaid, LicenseCreated, InvoicePaid}})
	if err != nil || len(n.Events) != 2 || n.Events[0] != LicenseCreated {
		t.Errorf("good endpoint = %+v, %v; want its two types in list order", n, err)
	}
	if _, err := (Policy{AllowPrivate: true}).Check(NewEndpoint{URL: "http://127.0.0.1:9000/x", Events: []EventType{InvoicePaid}}); err != nil {
		t.Errorf("with private destinations allowed: %v", err)
	}
}

func TestPolicy_CheckAddr(t *testing.T) {
	for addr, ok := range map[string]bool{
		"93.184.216.34": true, "2606:4700::1111": true,
		"127.0.0.1": false, "10.0.0.1": false, "172.16.5.4": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "::1": false, "fe80::1": false, "fc00::1": false, "::ffff:127.0.0.1": false,
		"224.0.0.1": false,
	} {
		err := Policy{}.CheckAddr(netip.MustParseAddr(addr))
		if (err == nil) != ok {
			t.Errorf("CheckAddr(%s) = %v; want allowed %v", addr, err, ok)
		}
	}
}

func TestBackoff_GrowsWithJitterAndStaysBounded(t *testing.T) {
	prev := time.Duration(0)
	var total time.Duration
	for n := 1; n <= 30; n++ {
		lo, hi := Backoff(n, 0), Backoff(n, 1)
		if lo >= hi || lo < prev*3/4 || hi > 6*time.Hour*5/4 {
			t.Errorf("Backoff(%d) spans %v to %v", n, lo, hi)
		}
		prev = lo
		total += Backoff(n, 0.5)
	}
	if total < RetryFor {
		t.Errorf("30 attempts span %v; want past %v", total, RetryFor)
	}
}
