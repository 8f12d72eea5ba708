package passwords

import (
	"errors"
	"strings"
	"testing"

	"licensedesk/licensing"
)

func TestCheckNew(t *testing.T) {
	const email = "alice.smith+work@acme.test"
	tests := []struct {
		name     string
		password string
		confirm  string // "" means same as password
		email    string
		want     string // "" means accepted; else the message
	}{
		// Accepted: passphrases and long random strings, whatever their mix.
		{name: "passphrase", password: "purple tractor sings at dawn"},
		{name: "passphrase no spaces", password: "PurpleTractorSingsAtDawn"},
		{name: "exactly 15", password: "kettle-moss-arc"},
		{name: "all lower, no digits", password: "mountainriverfog"},
		{name: "random ascii", password: "t7#Vq!2mZ@9pLw4&"},
		{name: "random digits", password: "830291746538201"},
		{name: "unicode counts runes", password: "日本語のパスフレーズです本当に長い"},
		{name: "64 characters", password: longUnique(64)},
		{name: "128 characters", password: longUnique(128)},
		{name: "short local part ignored", password: "bobcat sleeps all day", email: "bob@acme.test"},
		{name: "word with a few pattern letters", password: "fresh asdf bread loaf"},

		// Length.
		{name: "empty", password: "", want: msgTooShort},
		{name: "14 characters", password: "kettle-moss-ar", want: msgTooShort},
		{name: "14 runes in more bytes", password: "日本語のパスフレーズです本当", want: msgTooShort},
		{name: "129 characters", password: longUnique(129), want: msgTooLong},

		// Confirmation.
		{name: "mismatch", password: "purple tractor sings at dawn", confirm: "purple tractor sings at dusk", want: msgMismatch},
		{name: "mismatch by case", password: "purple tractor sings at dawn", confirm: "Purple tractor sings at dawn", want: msgMismatch},
		{name: "short beats mismatch", password: "short", confirm: "other", want: msgTooShort},

		// Blocklist, ignoring case and separators, and padding.
		{name: "famous passphrase", password: "correct horse battery staple", want: msgCommon},
		{name: "famous passphrase, case", password: "Correct-Horse-Battery-Staple", want: msgCommon},
		{name: "listed phrase", password: "ThisIsMyPassword", want: msgCommon},
		{name: "listed phrase with spaces", password: "may the force be with you", want: msgCommon},
		{name: "common word padded", password: "Password2024!!!!", want: msgCommon},
		{name: "common word padded both ends", password: "!!1234sunshine5678", want: msgCommon},
		{name: "leet", password: "P@ssw0rdP@ssw0rd", want: msgCommon},
		{name: "product name", password: "LicenseDesk123456", want: msgCommon},

		// Repeats (not on the list, caught by code).
		{name: "one character", password: strings.Repeat("x", 20), want: msgRepeated},
		{name: "spaces only", password: strings.Repeat(" ", 16), want: msgRepeated},
		{name: "short unit", password: "abcabcabcabcabc", want: msgRepeated},
		{name: "unit cut short", password: "xyzzyxyzzyxyzzyx", want: msgRepeated},
		{name: "word twice", password: "zebrafishzebrafish", want: msgRepeated},
		{name: "word twice spaced", password: "Zebrafish zebrafish", want: msgRepeated},
		{name: "repeat padded", password: "GnuGnuGnuGnu2024!", want: msgRepeated},
		{name: "repeat of long unit allowed", password: "mauve lantern okay mauve lantern okay", want: ""},

		// Sequences and keyboard walks.
		{name: "listed digit run", password: "123456789012345", want: msgCommon},
		{name: "digit run", password: "234567890123456", want: msgPattern},
		{name: "digit run backwards", password: "876543210987654", want: msgPattern},
		{name: "odd digits", password: "357913579135791", want: msgRepeated},
		{name: "alphabet", password: "abcdefghijklmnop", want: msgCommon},
		{name: "alphabet tail", password: "klmnopqrstuvwxyz", want: msgPattern},
		{name: "alphabet backwards", password: "zyxwvutsrqponmlk", want: msgPattern},
		{name: "keyboard row", password: "qwertyuiopasdfgh", want: msgCommon},
		{name: "keyboard row unlisted", password: "wertyuiopasdfghj", want: msgPattern},
		{name: "keyboard backwards", password: "lkjhgfdsapoiuytre", want: msgPattern},
		{name: "keyboard columns", password: "2wsx3edc4rfv5tgb", want: msgPattern},
		{name: "mixed pieces", password: "abcd1234qwer5678", want: msgPattern},
		{name: "walk padded", password: "wertyuiopasd2024!", want: msgPattern},
		{name: "keypad", password: "7894561237894561", want: msgPattern},

		// Email.
		{name: "contains local part", password: "my name is Alice.Smith ok", email: email, want: msgEmail},
		{name: "contains local part without tag", password: "purple alice.smith tractor", email: email, want: msgEmail},
		{name: "contains local part without dots", password: "AliceSmith rides a tractor", email: email, want: msgEmail},
		{name: "no email given", password: "AliceSmith rides a tractor", email: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			confirm := tt.confirm
			if confirm == "" {
				confirm = tt.password
			}
			em := tt.email
			if em == "" && !strings.HasPrefix(tt.name, "no email") {
				em = email
			}
			err := CheckNew(tt.password, confirm, em)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckNew(%q) = %v; want accepted", tt.password, err)
				}
				return
			}
			var e *licensing.Error
			if !errors.As(err, &e) {
				t.Fatalf("CheckNew(%q) = %v (%T); want *licensing.Error", tt.password, err, err)
			}
			if e.Code != licensing.Invalid || e.Message != tt.want {
				t.Fatalf("CheckNew(%q) = %s %q; want invalid %q", tt.password, e.Code, e.Message, tt.want)
			}
		})
	}
}

// longUnique returns n runes that repeat nothing and follow no pattern.
func longUnique(n int) string {
	words := []string{"amber", "quiet", "harbor", "violin", "mosaic", "tundra", "pepper", "glacier", "orchid", "lantern", "cobalt", "meadow", "saffron", "thimble", "walrus", "juniper", "nectar", "basalt", "falcon", "willow", "ember", "quartz"}
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(words[i%len(words)])
		b.WriteString(string(rune('a' + i%26)))
	}
	return b.String()[:n]
}

func TestCheckNew_ErrorIsNotEchoingThePassword(t *testing.T) {
	pw := "Password2024!!!!"
	err := CheckNew(pw, pw, "")
	if err == nil || strings.Contains(err.Error(), pw) {
		t.Fatalf("error %v must exist and not contain the password", err)
	}
}

func TestBlocklist_IsLoadedAndNormalised(t *testing.T) {
	if len(blocklist) < 300 {
		t.Fatalf("blocklist has %d entries; want a few hundred", len(blocklist))
	}
	for entry := range blocklist {
		if entry != strings.ToLower(entry) || strings.ContainsAny(entry, " \t") {
			t.Fatalf("entry %q is not normalised", entry)
		}
	}
}

func TestPatterns_LeaveOrdinaryWordsAlone(t *testing.T) {
	// Real words must not count as keyboard or alphabet patterns, or
	// passphrases made of them would be refused.
	for _, w := range []string{"were", "type", "quiet", "power", "tree", "ruin", "poor", "deft", "first", "stop", "hijack", "nope", "oppo"} {
		if patterned([]rune(w + w + w + w)) {
			t.Errorf("%q read as a pattern", w)
		}
	}
}

func TestSuggest_AcceptedAndDifferentEachTime(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		s, err := Suggest()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 23 || strings.Count(s, "-") != 3 || strings.ContainsAny(s, "lo01ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Fatalf("suggestion %q is not four groups of five easy-to-read characters", s)
		}
		if err := CheckNew(s, s, "alice@acme.test"); err != nil {
			t.Fatalf("CheckNew refuses suggestion %q: %v", s, err)
		}
		if seen[s] {
			t.Fatalf("suggestion %q came twice", s)
		}
		seen[s] = true
	}
}
