package licensing

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRequestScopes(t *testing.T) {
	got, err := ParseRequestScopes(" Card, move,card ")
	if err != nil || !slices.Equal(got, []RequestScope{ScopeMove, ScopeCard}) {
		t.Fatalf("got %v, %v", got, err)
	}
	if w := ScopeWords(got); !slices.Equal(w, []string{"move the licence to their account", "send them a link to update its card"}) {
		t.Errorf("words %q", w)
	}
	for _, bad := range []string{"", " , ", "refund", "move,everything"} {
		if _, err := ParseRequestScopes(bad); ErrorCode(err) != Invalid || !strings.Contains(ErrorMessage(err), "move, contacts, card, billing, details") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
