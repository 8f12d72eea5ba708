package licensing

// What an import and a provisioning request take and answer (SPEC §9), in
// the domain's words so the front ends need not know the store; the store
// (postgres.DB.Import, ProvisionLicense) does the work.

// ImportLine is one line of an import: a licence, or why it did not parse.
type ImportLine struct {
	Line    int    // 1-based line number in the input
	SEN     string // as sent, for the report ("" when unreadable)
	License NewLicense
	Err     error // the line did not parse: it is rejected with this
	// Detail is recorded in the history with the change (nil: the line
	// number).
	Detail map[string]any
}

// Rejection is a rejected line, as the import's answer lists it.
type Rejection struct {
	Line  int    `json:"line"`
	SEN   string `json:"sen"`
	Error string `json:"error"`
}

// Invitation is one pending account to mail an account-setup invitation.
type Invitation struct {
	SEN   SEN
	Email Email
	Roles []Role // their contact roles (none: a site admin only)
}

// ImportSummary is an import's answer (SPEC §9).
type ImportSummary struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	// Rejected lists the first rejected lines found (at most the store's
	// MaxRejections), by line.
	Rejected      []Rejection `json:"rejected"`
	RejectedTotal int         `json:"rejected_total"`
	// Invitations to send once the import is done.
	Invitations []Invitation `json:"-"`
}

// ImportOptions tune an import (postgres.DB.Import).
type ImportOptions struct {
	Update    bool // lines may change existing licences (?update=true)
	BatchSize int  // lines per transaction [10000]
	Workers   int  // batches written at once, each on its own connection [2]
	// Progress, if set, is called after each batch with the lines done so far.
	Progress func(lines int)
}

// Provisioned is what ProvisionLicense did.
type Provisioned struct {
	License License      // as stored now
	Created bool         // false: it existed already, the same
	Invite  []Invitation // pending accounts to invite (n.Invite only)
}
