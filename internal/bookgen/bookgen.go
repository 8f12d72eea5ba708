// Package bookgen makes a vendor's book of licences for scale tests and
// benchmarks: NDJSON lines of the provisioning API (SPEC §9), the same
// for the same seed.
//
// The book is shaped like a real one: 70 % cloud (of which 80 % monthly),
// customers of very different sizes (most hold one or two licences, a few
// thousands), each licence with 1–6 people of its customer drawn so that
// some people (a customer's IT team) hold many licences, and one reseller
// contact, HeavyEmail, on HeavyLicences licences across customers. Billing
// dates spread over the month with a spike on the 1st.
package bookgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"licensedesk/internal/clock"
	"licensedesk/licensing"
)

// HeavyEmail is the person who holds HeavyLicences licences (the account
// page's figure).
const HeavyEmail = "heavy.holder@reseller.test"

// HeavyLicences is how many licences HeavyEmail holds in a book of at
// least twice as many.
const HeavyLicences = 500

// Options describe a book.
type Options struct {
	Licenses int
	Seed     uint64
	// Start is the first day billing dates may fall on (default: the 1st of
	// next month). Monthly licences renew in the month from Start, annual
	// ones in the year from it.
	Start time.Time
}

// Stats describe a book as written, with samples for benchmarks.
type Stats struct {
	Licenses, Cloud, Monthly, OnTheFirst int
	Contacts, SiteAdmins                 int // rows
	Accounts                             int // distinct people
	Customers                            int
	HeavyLicences                        int      // licences of HeavyEmail
	SENs                                 []string // every 1000th SEN (at least 100), for look-ups
	Emails                               []string // a contact of every 500th customer
	Domains                              []string // the domains of those customers
	Sites                                []string // one site of every 500th customer with one
	LargestDomain                        string   // the customer with the most licences
	LargestDomainLicences                int
}

// SEN returns the SEN of the i-th licence (0-based) of a book.
func SEN(i int) string { return fmt.Sprintf("SEN-%d", 50_000_000+i) }

// Write writes the book to w, one licence per line.
func Write(w io.Writer, opt Options) (Stats, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	var werr error
	st := Generate(opt, func(rec licensing.LicenseRecord) bool {
		b, err := json.Marshal(rec)
		if err == nil {
			b = append(b, '\n')
			_, err = bw.Write(b)
		}
		werr = err
		return err == nil
	})
	if werr != nil {
		return st, werr
	}
	return st, bw.Flush()
}

var (
	cloudProducts  = []string{"Jira Software", "Confluence", "Jira Service Management", "Jira Work Management", "Bitbucket", "Trello", "Opsgenie", "Statuspage"}
	serverProducts = []string{"Jira Software Data Center", "Confluence Data Center", "Bitbucket Data Center", "Bamboo", "Crowd", "Fisheye"}
	words          = []string{"acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell", "cyberdyne", "soylent", "aperture", "vandelay", "dunder", "pied", "gringotts", "oscorp", "monarch", "nakatomi", "weyland"}
	firstNames     = []string{"anna", "ben", "chloe", "dev", "emma", "felix", "grace", "hugo", "isla", "jack", "kai", "lena", "milo", "nora", "omar", "priya", "quinn", "ruby", "sam", "tara", "umar", "vera", "will", "xena", "yuki", "zoe"}
	lastNames      = []string{"smith", "jones", "garcia", "chen", "kumar", "novak", "silva", "kim", "muller", "rossi", "tanaka", "dubois", "olsen", "ahmed", "kowalski", "murphy"}
	currencies     = []struct {
		code   string
		weight int
	}{{"USD", 70}, {"EUR", 15}, {"GBP", 8}, {"AUD", 4}, {"JPY", 3}}
)

// customer is a company: its domain, people and sites.
type customer struct {
	id       int
	domain   string
	people   int
	sites    int
	licences int // left to hand out
}

// FirstOfNextMonth is the first billing date of a book made at now.
func FirstOfNextMonth(now time.Time) time.Time {
	now = now.UTC()
	return time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
}

// Generate calls yield with each licence of the book in order, until it
// returns false, and describes what it made.
func Generate(opt Options, yield func(licensing.LicenseRecord) bool) Stats {
	r := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	start := opt.Start
	if start.IsZero() {
		start = FirstOfNextMonth(clock.Real.Now())
	}
	heavyEvery := 0
	if n := min(HeavyLicences, opt.Licenses/2); n > 0 {
		heavyEvery = opt.Licenses / n
	}
	st := Stats{}
	people := map[string]bool{}
	var c customer
	next, sampledSite, sampledEmail := 0, -1, -1
	for i := range opt.Licenses {
		if c.licences == 0 {
			c = newCustomer(r, next)
			next++
			st.Customers++
			if c.id%500 == 0 {
				st.Domains = append(st.Domains, c.domain)
			}
			if size := c.licences; size > st.LargestDomainLicences {
				st.LargestDomain, st.LargestDomainLicences = c.domain, size
			}
		}
		c.licences--
		rec := licence(r, c, i, start, &st)
		if heavyEvery > 0 && i%heavyEvery == heavyEvery/2 && st.HeavyLicences < HeavyLicences {
			rec.Contacts = append(rec.Contacts, licensing.ContactRecord{Email: HeavyEmail, Role: "technical"})
			st.HeavyLicences++
		}
		st.Licenses++
		st.Contacts += len(rec.Contacts)
		st.SiteAdmins += len(rec.SiteAdmins)
		for _, ct := range rec.Contacts {
			people[ct.Email] = true
		}
		for _, a := range rec.SiteAdmins {
			people[a] = true
		}
		if i%1000 == 0 || opt.Licenses < 100_000 && i%(max(opt.Licenses/100, 1)) == 0 {
			st.SENs = append(st.SENs, *rec.SEN)
		}
		if c.id%500 == 0 && sampledEmail != c.id {
			sampledEmail = c.id
			st.Emails = append(st.Emails, rec.Contacts[len(rec.Contacts)-1].Email)
		}
		if rec.Site != nil && c.id%500 == 0 && sampledSite != c.id {
			sampledSite = c.id
			st.Sites = append(st.Sites, *rec.Site)
		}
		if !yield(rec) {
			break
		}
	}
	st.Accounts = len(people)
	return st
}

// newCustomer draws a customer's size: most hold one or two licences, a
// few hundreds or thousands (a Pareto tail).
func newCustomer(r *rand.Rand, id int) customer {
	size := 1
	switch u := r.Float64(); {
	case u < 0.55:
		size = 1
	case u < 0.80:
		size = 2 + r.IntN(2)
	case u < 0.95:
		size = 4 + r.IntN(7)
	default:
		// Pareto with alpha 1.2 from 11, capped.
		size = min(11+int(11*(math.Pow(1-r.Float64(), -1/1.2)-1)), 3000)
	}
	return customer{
		id:       id,
		domain:   fmt.Sprintf("%s-%d.test", words[id%len(words)], id),
		people:   max(2, int(math.Ceil(float64(size)*0.6))+1),
		sites:    max(1, size/3),
		licences: size,
	}
}

// person is the k-th person of a customer.
func person(c customer, k int) string {
	return fmt.Sprintf("%s.%s%d@%s", firstNames[(c.id+k)%len(firstNames)], lastNames[(c.id*7+k)%len(lastNames)], k, c.domain)
}

// pick draws a person of c, skewed towards the first few (the IT team who
// hold most of a big customer's licences).
func pick(r *rand.Rand, c customer) int {
	u := r.Float64()
	return int(float64(c.people) * u * u * u)
}

func licence(r *rand.Rand, c customer, i int, start time.Time, st *Stats) licensing.LicenseRecord {
	str := func(s string) *string { return &s }
	rec := licensing.LicenseRecord{SEN: str(SEN(i)), SiteAdmins: []string{}}
	cloud := r.IntN(10) < 7
	if cloud {
		st.Cloud++
		rec.Deployment = str("cloud")
		rec.Product = str(cloudProducts[r.IntN(len(cloudProducts))])
		site := fmt.Sprintf("%s.example.net", c.domain[:len(c.domain)-len(".test")])
		if k := r.IntN(c.sites); k > 0 {
			site = fmt.Sprintf("%s-%d.example.net", c.domain[:len(c.domain)-len(".test")], k)
		}
		rec.Site = &site
		monthly := r.IntN(10) < 8
		day := 1
		if r.IntN(100) >= 40 {
			day = 2 + r.IntN(27)
		}
		var date time.Time
		price := int64(100 * (10 + r.IntN(2000)))
		if monthly {
			st.Monthly++
			rec.BillingCycle = str("monthly")
			date = time.Date(start.Year(), start.Month(), day, 0, 0, 0, 0, time.UTC)
		} else {
			rec.BillingCycle = str("annual")
			date = time.Date(start.Year(), start.Month()+time.Month(r.IntN(12)), day, 0, 0, 0, 0, time.UTC)
			price *= 10
		}
		if day == 1 {
			st.OnTheFirst++
		}
		rec.NextBillingDate = str(date.Format(licensing.DateLayout))
		rec.PriceMinor = &price
		rec.Currency = str(currency(r))
	} else {
		rec.Deployment = str("server")
		rec.Product = str(serverProducts[r.IntN(len(serverProducts))])
	}
	status := "active"
	if r.IntN(100) < 3 {
		status = "cancelled"
	}
	rec.Status = &status

	// 1–6 people; the first is the primary billing contact, the second (or
	// the first again) the primary technical one, the rest secondary.
	n := []int{1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 6}[r.IntN(20)]
	n = min(n, c.people)
	chosen := make([]int, 0, n)
	for len(chosen) < n {
		k := pick(r, c)
		if !contains(chosen, k) {
			chosen = append(chosen, k)
		}
	}
	add := func(k int, role string, primary bool) {
		rec.Contacts = append(rec.Contacts, licensing.ContactRecord{Email: person(c, k), Role: role, Primary: primary})
	}
	add(chosen[0], "billing", true)
	if n == 1 {
		add(chosen[0], "technical", true)
	} else {
		add(chosen[1], "technical", true)
		if r.IntN(10) < 3 {
			add(chosen[0], "technical", false)
		}
	}
	for _, k := range chosen[min(2, n):] {
		switch u := r.IntN(10); {
		case u < 4:
			add(k, "billing", false)
		case u < 8:
			add(k, "technical", false)
		default:
			add(k, "billing", false)
			add(k, "technical", false)
		}
	}
	if cloud {
		admins := 0
		switch u := r.IntN(20); {
		case u < 4:
		case u < 17:
			admins = 1
		default:
			admins = 2
		}
		var picked []int
		for len(picked) < min(admins, c.people) {
			k := pick(r, c)
			if !contains(picked, k) {
				picked = append(picked, k)
				rec.SiteAdmins = append(rec.SiteAdmins, person(c, k))
			}
		}
	}
	return rec
}

func currency(r *rand.Rand) string {
	u := r.IntN(100)
	for _, c := range currencies {
		if u < c.weight {
			return c.code
		}
		u -= c.weight
	}
	return "USD"
}

func contains(list []int, k int) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}
