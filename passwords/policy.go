package passwords

import (
	"bufio"
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"licensedesk/licensing"
)

// Length limits for a password used alone (NIST SP 800-63B): at least 15
// characters, and at least 64 accepted; we accept up to 128. Both count
// runes as typed, so a passphrase in any script is measured fairly.
const (
	MinLength = 15
	MaxLength = 128
)

// Messages shown to the person choosing a password. They say what to do,
// never which rule a list contains.
const (
	msgTooShort = "Use at least 15 characters; a passphrase of several words works well."
	msgTooLong  = "Use at most 128 characters."
	msgMismatch = "The two passwords don't match; type the same password in both fields."
	msgEmail    = "Don't put your email address in your password."
	msgCommon   = "That password is too common and easy to guess; choose something else, such as a few unrelated words."
	msgRepeated = "That password repeats the same characters or word; choose a few unrelated words instead."
	msgPattern  = "That password is a keyboard pattern or sequence (like qwerty or 12345); choose a few unrelated words instead."
)

// CheckNew checks a password someone is choosing against the policy (SPEC
// §2): length, a blocklist of common and pattern passwords, the person's
// email, and that the confirmation matches. There are no composition rules.
// It returns nil or a *licensing.Error with Code Invalid whose message says
// what to change. Problems with the password itself are reported before a
// mismatched confirmation, since fixing them means typing both again anyway.
func CheckNew(password, confirm, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinLength:
		return invalid(msgTooShort)
	case n > MaxLength:
		return invalid(msgTooLong)
	case containsEmail(password, email):
		return invalid(msgEmail)
	}
	if msg := weakness(password); msg != "" {
		return invalid(msg)
	}
	if password != confirm {
		return &licensing.Error{Code: licensing.Invalid, Message: msgMismatch, Field: "password_confirm"}
	}
	return nil
}

// invalid is an error about the new password (Field "password": forms
// show it beside that field; a mismatch is about the second one).
func invalid(msg string) error {
	return &licensing.Error{Code: licensing.Invalid, Message: msg, Field: "password"}
}

// containsEmail reports whether the password contains the local part of
// email (or its part before a "+tag"), when that is at least 4 characters,
// ignoring case and separators.
func containsEmail(password, email string) bool {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return false
	}
	local := strings.ToLower(email[:at])
	candidates := []string{local}
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		candidates = append(candidates, local[:plus])
	}
	lower := strings.ToLower(password)
	compact := stripSeparators(lower)
	for _, c := range candidates {
		if utf8.RuneCountInString(c) >= 4 && strings.Contains(lower, c) {
			return true
		}
		if c = stripSeparators(c); utf8.RuneCountInString(c) >= 4 && strings.Contains(compact, c) {
			return true
		}
	}
	return false
}

// weakness returns why password is easy to guess, or "" when it is not.
func weakness(password string) string {
	lower := strings.ToLower(password)
	compact := stripSeparators(lower)
	deleet := unleet(compact)

	for _, s := range []string{lower, compact, deleet, stem(compact), stem(deleet)} {
		if s != "" && blocked(s) {
			return msgCommon
		}
	}
	// Patterns are judged on the whole password and, when padding with
	// digits or symbols was added around it, on what is inside.
	forms := []string{lower, compact}
	if s := stem(compact); utf8.RuneCountInString(s) >= 8 && s != compact {
		forms = append(forms, s)
	}
	for _, s := range forms {
		if repeated([]rune(s)) {
			return msgRepeated
		}
	}
	for _, s := range forms {
		if patterned([]rune(s)) {
			return msgPattern
		}
	}
	return ""
}

//go:embed blocklist.txt
var blocklistText string

// blocklist holds the lower-cased entries of blocklist.txt, without spaces.
var blocklist = parseBlocklist(blocklistText)

func parseBlocklist(text string) map[string]struct{} {
	set := make(map[string]struct{}, 1024)
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[stripSeparators(strings.ToLower(line))] = struct{}{}
	}
	return set
}

func blocked(s string) bool {
	_, ok := blocklist[s]
	return ok
}

// stripSeparators removes white space and the characters people put between
// words ("-", "_", "."), so "iloveyou iloveyou" compares as "iloveyouiloveyou".
func stripSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, s)
}

// stem trims digits and symbols from both ends ("password2024!" → "password"),
// the padding people add to a common word to pass a length rule. It returns
// "" when fewer than 4 characters remain.
func stem(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if utf8.RuneCountInString(s) < 4 {
		return ""
	}
	return s
}

// unleet undoes the usual look-alike substitutions (p@ssw0rd → password).
func unleet(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '@', '4':
			return 'a'
		case '0':
			return 'o'
		case '1', '!':
			return 'i'
		case '3':
			return 'e'
		case '$', '5':
			return 's'
		case '7', '+':
			return 't'
		}
		return r
	}, s)
}

// repeated reports whether s is one short unit written at least twice,
// possibly cut short at the end ("aaaa...", "abcabcabc...", "passwordpassword"):
// such a password is no stronger than its unit, which is shorter than
// MinLength.
func repeated(s []rune) bool {
	n := len(s)
	for p := 1; p <= n/2 && p < MinLength; p++ {
		periodic := true
		for i := p; i < n; i++ {
			if s[i] != s[i-p] {
				periodic = false
				break
			}
		}
		if periodic {
			return true
		}
	}
	return false
}

// walks are keyboard rows, columns and diagonals that people trace, on the
// common layouts and the numeric keypad.
var walks = []string{
	"`1234567890-=",
	"qwertyuiop[]\\",
	"asdfghjkl;'",
	"zxcvbnm,./",
	"qwertyuiopasdfghjklzxcvbnm",
	"1234567890qwertyuiopasdfghjklzxcvbnm",
	"qwertzuiopasdfghjklyxcvbnm",
	"azertyuiopqsdfghjklmwxcvbn",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
	"zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
	"qazwsxedcrfvtgbyhnujmikolp",
	"1q2w3e4r5t6y7u8i9o0p",
	"q1w2e3r4t5y6u7i8o9p0",
	"1a2s3d4f5g6h7j8k9l",
	"qawsedrftgyhujikolp",
	"1qazxsw23edcvfr45tgbnhy67ujm,ki89ol./;p0",
	"!qaz@wsx#edc$rfv%tgb^yhn&ujm*ik<(ol>)p:?",
	"!@#$%^&*()_+",
	"789456123",
	"147258369",
	"159357",
	"7894561230",
	"1472583690",
	"123654789",
}

// walkText joins the walks, forwards and backwards, so one search finds a
// fragment on any of them. NUL cannot be typed, so it never matches.
var walkText = func() string {
	var b strings.Builder
	for _, w := range walks {
		b.WriteString(w)
		b.WriteByte(0)
		r := []rune(w)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		b.WriteString(string(r))
		b.WriteByte(0)
	}
	return b.String()
}()

// minFragment is the shortest piece counted as a pattern inside a password.
const minFragment = 4

// patterned reports whether s is made entirely of pieces of at least
// minFragment characters that are keyboard walks, alphabet or digit runs
// (abcd, 1234, 9753) or one character repeated: "qwertyuiopasdfgh",
// "123456789012345", "1qaz2wsx3edc4rfv", "abcd1234qwer5678".
func patterned(s []rune) bool {
	n := len(s)
	if n < minFragment {
		return false
	}
	// ok[i]: s[:i] splits into pattern pieces.
	ok := make([]bool, n+1)
	ok[0] = true
	for i := minFragment; i <= n; i++ {
		for j := i - minFragment; j >= 0 && !ok[i]; j-- {
			if ok[j] && fragment(s[j:i]) {
				ok[i] = true
			}
		}
	}
	return ok[n]
}

func fragment(f []rune) bool {
	return sequence(f) || sameRune(f) || strings.Contains(walkText, string(f))
}

func sameRune(f []rune) bool {
	for _, r := range f[1:] {
		if r != f[0] {
			return false
		}
	}
	return true
}

// sequence reports whether f steps through digits or letters by the same
// small amount each time, wrapping around (12345678901, zyxw, 13579135, aceg).
func sequence(f []rune) bool {
	step := -1
	for i := 1; i < len(f); i++ {
		d, ok := cyclicStep(f[i-1], f[i])
		if !ok || (step >= 0 && d != step) {
			return false
		}
		step = d
	}
	// Forward or backward by one or two: 1, 2, size-1, size-2.
	size := 26
	if '0' <= f[0] && f[0] <= '9' {
		size = 10
	}
	return step == 1 || step == 2 || step == size-1 || step == size-2
}

// cyclicStep returns how far b is after a, modulo the size of their class
// (10 digits or 26 letters); ok is false when they are not of one class.
func cyclicStep(a, b rune) (int, bool) {
	switch {
	case '0' <= a && a <= '9' && '0' <= b && b <= '9':
		return int((b - a + 10) % 10), true
	case 'a' <= a && a <= 'z' && 'a' <= b && b <= 'z':
		return int((b - a + 26) % 26), true
	}
	return 0, false
}
