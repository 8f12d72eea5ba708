package main

import (
	"testing"

	"licensedesk/internal/pgtest"
)

// The benchmark gives dev a database of its own to fill with licences;
// the end-to-end tests let dev start its own cluster, as a person would.
func TestMain(m *testing.M) { pgtest.Main(m) }
