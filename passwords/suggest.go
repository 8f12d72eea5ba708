package passwords

import (
	"strings"

	"github.com/sethvargo/go-password/password"
)

// suggestions generates lowercase letters and digits without the ones that
// are easy to misread (l, o, 0, 1), so a suggestion can be typed on a phone.
var suggestions = func() *password.Generator {
	g, err := password.NewGenerator(&password.GeneratorInput{
		LowerLetters: "abcdefghijkmnpqrstuvwxyz",
		Digits:       "23456789",
		Symbols:      "-", // unused: no symbols are asked for
	})
	if err != nil {
		panic(err)
	}
	return g
}()

// Suggest returns a random password a person may choose on a password
// form: 20 characters (about 95 bits) in four groups of five, such as
// "k7qp2-xm9wd-r4tzv-8bn3c", which CheckNew accepts. It is shown, never
// stored; the person types or pastes it (SPEC §2: go-password makes what a
// person must type, never link tokens).
func Suggest() (string, error) {
	for {
		s, err := suggestions.Generate(20, 5, 0, true, true)
		if err != nil {
			return "", err
		}
		grouped := strings.Join([]string{s[0:5], s[5:10], s[10:15], s[15:20]}, "-")
		if CheckNew(grouped, grouped, "") == nil {
			return grouped, nil
		}
	}
}
