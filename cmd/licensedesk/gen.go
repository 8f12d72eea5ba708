package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"time"

	"licensedesk/internal/bookgen"
	"licensedesk/internal/clock"
	"licensedesk/licensing"
	"licensedesk/postgres"
)

type genOptions struct {
	licenses int
	seed     uint64
	start    string
}

func genFlagSet(o *genOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.IntVar(&o.licenses, "licenses", 0, "how many licences (`N`)")
	fs.Uint64Var(&o.seed, "seed", 1, "the same `SEED` makes the same book")
	fs.StringVar(&o.start, "start", "", "first billing `DATE` (YYYY-MM-DD; default the 1st of next month)")
	return fs
}

// runGen writes a realistic book of licences as NDJSON (internal/bookgen)
// to stdout, for `licensedesk import`, and describes it on stderr.
func runGen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var o genOptions
	fs := genFlagSet(&o)
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 || o.licenses <= 0 {
		return usageErrorf("give --licenses N (and nothing else), e.g. licensedesk gen --licenses 1000000 > book.ndjson")
	}
	opt := bookgen.Options{Licenses: o.licenses, Seed: o.seed, Start: bookgen.FirstOfNextMonth(clock.Real.Now())}
	if o.start != "" {
		d, err := licensing.ParseDate(o.start)
		if err != nil {
			return usageError{"--start: " + licensing.ErrorMessage(err)}
		}
		opt.Start = d
	}
	began := time.Now()
	st, err := bookgen.Write(stdout, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s licences (%s cloud, %s of them monthly; %s billed on the 1st), %s contacts, %s site admins, %s people in %s customers; %s holds %d; in %s\n",
		thousands(int64(st.Licenses)), thousands(int64(st.Cloud)), thousands(int64(st.Monthly)), thousands(int64(st.OnTheFirst)),
		thousands(int64(st.Contacts)), thousands(int64(st.SiteAdmins)), thousands(int64(st.Accounts)), thousands(int64(st.Customers)),
		bookgen.HeavyEmail, st.HeavyLicences, time.Since(began).Round(100*time.Millisecond))
	return nil
}

// importBook generates a book and imports it straight into db, through
// the same Import the API's import route runs (the records skip only the
// JSON in between).
func importBook(ctx context.Context, db *postgres.DB, opt bookgen.Options, logger *slog.Logger) error {
	began := time.Now()
	next, stop := iter.Pull(func(yield func(licensing.LicenseRecord) bool) { bookgen.Generate(opt, yield) })
	defer stop()
	line := 0
	logged := time.Now()
	sum, err := db.Import(ctx, func() (postgres.ImportLine, error) {
		rec, ok := next()
		if !ok {
			return postgres.ImportLine{}, io.EOF
		}
		line++
		n, err := licensing.ParseLicenseRecord(rec)
		return postgres.ImportLine{Line: line, SEN: *rec.SEN, License: n, Err: err}, nil
	}, licensing.Actor{Kind: "api", ID: "api"}, postgres.ImportOptions{Progress: func(done int) {
		if time.Since(logged) > 5*time.Second {
			logged = time.Now()
			logger.Info("loading the demo book", "licences", done, "of", opt.Licenses)
		}
	}})
	if err != nil {
		return err
	}
	logger.Info("demo book loaded", "created", sum.Created, "unchanged", sum.Unchanged, "rejected", len(sum.Rejected),
		"took", time.Since(began).Round(time.Second))
	return nil
}
