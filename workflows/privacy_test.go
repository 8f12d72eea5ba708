package workflows

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// encryptedHistories is the folder of histories recorded with the payload
// codec on (RECORD_HISTORIES=codec-aes256gcm).
const encryptedHistories = "testdata/histories/codec-aes256gcm"

var (
	emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	// A link token's SHA-256 as the JSON of an input carries it: 32 bytes
	// in standard base64.
	hashPattern = regexp.MustCompile(`[A-Za-z0-9+/]{43}=`)
	// Every display name the recorded runs use: the demo accounts' and
	// those the end-to-end tests type in.
	names = []string{"Alice Anders", "Bob Brown", "Carol Chen", "Dave Diaz", "Erin Evans", "Frank Fischer",
		"Gina Garcia", "Hank Hill", "Ivan Ivanov", "New Owner", "New Tech", "New Hank", "TokenHash"}
)

// personalData reads a recorded history as its raw bytes and returns what
// it finds in clear: emails, display names and token hashes, in the text
// itself and in every payload's data once base64 is taken off. Two places
// are left out, by design (SPEC §8): workflow IDs, which carry an email
// for business meaning, and search attributes, which stay plain so the UI
// can find everything of a customer.
func personalData(t *testing.T, raw []byte) []string {
	t.Helper()
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var found []string
	check := func(where, s string) {
		for _, m := range emailPattern.FindAllString(s, -1) {
			found = append(found, where+": email "+m)
		}
		for _, n := range names {
			if strings.Contains(s, n) {
				found = append(found, where+": "+n)
			}
		}
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if k == "searchAttributes" {
					continue
				}
				walk(path+"."+k, child)
			}
		case []any:
			for _, child := range v {
				walk(path, child)
			}
		case string:
			if strings.HasSuffix(path, ".workflowId") {
				return
			}
			check(path, v)
			if strings.HasSuffix(path, ".data") {
				if b, err := base64.StdEncoding.DecodeString(v); err == nil {
					check(path+" (decoded)", string(b))
					for _, h := range hashPattern.FindAllString(string(b), -1) {
						found = append(found, path+" (decoded): a 32-byte hash "+h)
					}
				}
			}
		}
	}
	walk("", doc)
	return found
}

func TestHistories_EncryptedHoldNoEmailNameOrTokenHash(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(encryptedHistories, "*.json"))
	if len(files) == 0 {
		t.Fatalf("no recorded histories in %s", encryptedHistories)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), base64.StdEncoding.EncodeToString([]byte("binary/encrypted"))) {
			t.Errorf("%s: no encrypted payload at all", f)
		}
		for _, p := range personalData(t, raw) {
			t.Errorf("%s: %s", filepath.Base(f), p)
		}
	}
}

// The same reading of a history recorded before the codec finds what the
// codec hides: the test can fail.
func TestHistories_PlainOnesShowWhatTheCodecHides(t *testing.T) {
	raw, err := os.ReadFile("testdata/histories/move-completed.json")
	if err != nil {
		t.Fatal(err)
	}
	found := strings.Join(personalData(t, raw), "\n")
	for _, want := range []string{"email alice@acme.test", "email new.owner@acme.test", "TokenHash", "a 32-byte hash"} {
		if !strings.Contains(found, want) {
			t.Errorf("the plain move history shows no %q; found:\n%s", want, found)
		}
	}
}
