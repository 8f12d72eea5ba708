package payloadcodec_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"licensedesk/payloadcodec"
)

// Fixed test keys (never used outside tests).
const (
	keyA = "2026-a:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	keyB = "2026-b:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
)

func mustParse(t *testing.T, s string) *payloadcodec.Codec {
	t.Helper()
	c, err := payloadcodec.ParseKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type moveInput struct {
	SEN      string
	NewEmail string
	Name     string
}

func TestCodec_RoundTripHidesTheEmail(t *testing.T) {
	dc := payloadcodec.DataConverter(mustParse(t, keyA))
	in := moveInput{SEN: "SEN-1000001", NewEmail: "new.owner@acme.test", Name: "Alice Example"}
	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.Metadata["encoding"]); got != payloadcodec.Encoding {
		t.Errorf("encoding %q, want %q", got, payloadcodec.Encoding)
	}
	if got := string(p.Metadata[payloadcodec.MetadataKeyID]); got != "2026-a" {
		t.Errorf("key id %q", got)
	}
	for _, secret := range []string{"new.owner@acme.test", "Alice Example", "SEN-1000001", "json/plain"} {
		if bytes.Contains(p.Data, []byte(secret)) {
			t.Errorf("the encrypted payload holds %q in clear", secret)
		}
	}
	var out moveInput
	if err := dc.FromPayload(p, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip: got %+v, want %+v", out, in)
	}
}

func TestCodec_PlainPayloadsFromBeforeStillDecode(t *testing.T) {
	plain, err := converter.GetDefaultDataConverter().ToPayload(moveInput{SEN: "SEN-1000001"})
	if err != nil {
		t.Fatal(err)
	}
	var out moveInput
	if err := payloadcodec.DataConverter(mustParse(t, keyA)).FromPayload(plain, &out); err != nil || out.SEN != "SEN-1000001" {
		t.Fatalf("plain payload: %+v, %v", out, err)
	}
}

func TestCodec_RotationKeepsOldPayloadsReadable(t *testing.T) {
	old := payloadcodec.DataConverter(mustParse(t, keyA))
	p, err := old.ToPayload("written under key a")
	if err != nil {
		t.Fatal(err)
	}
	// Rotated: b encrypts, a still decrypts.
	rotated := payloadcodec.DataConverter(mustParse(t, keyB+","+keyA))
	var s string
	if err := rotated.FromPayload(p, &s); err != nil || s != "written under key a" {
		t.Fatalf("old payload after rotation: %q, %v", s, err)
	}
	p2, err := rotated.ToPayload("written under key b")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p2.Metadata[payloadcodec.MetadataKeyID]); got != "2026-b" {
		t.Errorf("new payloads use key %q, want the first listed, 2026-b", got)
	}
	// Once a is dropped, its payloads are refused with a message naming it.
	err = payloadcodec.DataConverter(mustParse(t, keyB)).FromPayload(p, &s)
	if err == nil || !strings.Contains(err.Error(), `"2026-a"`) {
		t.Errorf("payload under a dropped key: %v; want an error naming the key id", err)
	}
}

func TestCodec_RefusesAlteredPayloads(t *testing.T) {
	c := mustParse(t, keyA)
	enc, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}})
	if err != nil {
		t.Fatal(err)
	}
	flipped := &commonpb.Payload{Metadata: enc[0].Metadata, Data: bytes.Clone(enc[0].Data)}
	flipped.Data[len(flipped.Data)-1] ^= 1
	if _, err := c.Decode([]*commonpb.Payload{flipped}); err == nil {
		t.Error("a payload with a flipped bit decoded")
	}
	// The same key material under another id does not open it either: the
	// id is bound into the ciphertext.
	relabelled := mustParse(t, strings.Replace(keyA, "2026-a", "other", 1))
	moved := &commonpb.Payload{Metadata: map[string][]byte{"encoding": enc[0].Metadata["encoding"], payloadcodec.MetadataKeyID: []byte("other")}, Data: enc[0].Data}
	if _, err := relabelled.Decode([]*commonpb.Payload{moved}); err == nil {
		t.Error("a payload relabelled with another key id decoded")
	}
}

func TestCodec_CompressesWhereItPays(t *testing.T) {
	c := mustParse(t, keyA)
	big := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")},
		Data: []byte(`{"contacts":[` + strings.Repeat(`{"email":"someone@acme.test","role":"technical","primary":false},`, 40) + `{}]}`)}
	small := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"SEN-1000001"`)}
	enc, err := c.Encode([]*commonpb.Payload{big, small})
	if err != nil {
		t.Fatal(err)
	}
	if len(enc[0].Data) >= len(big.Data)/4 {
		t.Errorf("a repetitive %d-byte payload encrypted to %d bytes: not compressed", len(big.Data), len(enc[0].Data))
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dec[0].Data, big.Data) || !bytes.Equal(dec[1].Data, small.Data) {
		t.Error("decoded payloads differ from the originals")
	}
}

func TestParseKeys_RefusesBadKeysWithoutEchoingThem(t *testing.T) {
	for _, s := range []string{
		"",
		"nokey",
		"a:bm90IDMyIGJ5dGVz",      // "not 32 bytes"
		"a:!!!notbase64secret!!!", // not base64
		"bad id:" + keyA[7:],      // space in the id
		keyA + "," + keyA,         // the same id twice
	} {
		_, err := payloadcodec.ParseKeys(s)
		if err == nil {
			t.Errorf("ParseKeys(%q) accepted", s)
			continue
		}
		if strings.Contains(err.Error(), "notbase64secret") || strings.Contains(err.Error(), keyA[7:]) {
			t.Errorf("the error repeats the key: %v", err)
		}
	}
}

func TestNewKey_ParsesAndDiffers(t *testing.T) {
	k1, err := payloadcodec.NewKey("dev")
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := payloadcodec.NewKey("dev")
	if k1 == k2 {
		t.Error("two new keys are equal")
	}
	if c := mustParse(t, k1); c.ActiveKeyID() != "dev" {
		t.Errorf("active key %q", c.ActiveKeyID())
	}
}

func TestFailureConverter_EncryptsMessages(t *testing.T) {
	c := mustParse(t, keyA)
	fc := payloadcodec.FailureConverter(c)
	f := fc.ErrorToFailure(temporal.NewApplicationError("alice@acme.test is not a contact of SEN-1000001", "NotContact"))
	if strings.Contains(f.String(), "alice@acme.test") {
		t.Fatalf("the failure holds the email in clear: %s", f.String())
	}
	back := fc.FailureToError(f)
	var app *temporal.ApplicationError
	if !errors.As(back, &app) || !strings.Contains(app.Error(), "alice@acme.test") || app.Type() != "NotContact" {
		t.Errorf("decoded failure: %v", back)
	}
}
