package passwords

import (
	"strings"
	"testing"
)

func TestHash_RoundTripsAndRejectsOtherPasswords(t *testing.T) {
	h, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected parameters in %q", h)
	}
	for pw, want := range map[string]bool{
		"correct horse battery staple":  true,
		"correct horse battery staple ": false,
		"Correct horse battery staple":  false,
		"":                              false,
	} {
		ok, err := Check(h, pw)
		if err != nil || ok != want {
			t.Errorf("Check(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
}

func TestHash_SaltsEveryHash(t *testing.T) {
	a, _ := Hash("same password here")
	b, _ := Hash("same password here")
	if a == b {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestCheck_RejectsMalformedHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=1,t=0,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=x$c2FsdA$aGFzaA", "$argon2id$v=19$m=8,t=1,p=1$!!$aGFzaA"} {
		if ok, err := Check(h, "pw"); ok || err == nil {
			t.Errorf("Check(%q) = %v, %v; want a malformed error", h, ok, err)
		}
	}
}
