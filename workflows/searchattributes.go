// Package workflows holds licensedesk's Temporal workflows. Workflows are
// deterministic: every side effect is an activity (package activities).
package workflows

import "go.temporal.io/sdk/temporal"

// Custom search attributes (SPEC §8). Every workflow sets them so the
// Temporal UI can list "everything for SEN-1000001".
var (
	AttrLicenseSEN     = temporal.NewSearchAttributeKeyKeyword("LicenseSEN")
	AttrCustomerEmails = temporal.NewSearchAttributeKeyKeywordList("CustomerEmails")
	AttrOperation      = temporal.NewSearchAttributeKeyKeyword("Operation") // the operation's kind
	AttrOperationStep  = temporal.NewSearchAttributeKeyKeyword("OperationStep")
)

// SearchAttributeDefinitions lists them as "Name=Type", the form the Temporal
// CLI and operator API take when registering them.
var SearchAttributeDefinitions = []string{
	"LicenseSEN=Keyword",
	"CustomerEmails=KeywordList",
	"Operation=Keyword",
	"OperationStep=Keyword",
}
