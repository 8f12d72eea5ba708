package accounts

import (
	"context"
	"fmt"
	"time"

	"licensedesk/licensing"
	"licensedesk/postgres"
)

// LicencesPerPage is how many licences one account page lists. Someone may
// hold hundreds (a reseller, an IT team); the page shows a slice of them
// and links to the next.
const LicencesPerPage = 20

// LicencePage says which licences of the account page: those after After
// in SEN order, or starting with From (the licence an action was about),
// Size of them (0: LicencesPerPage).
type LicencePage struct {
	After, From licensing.SEN
	Size        int
}

// MyLicences is one page of an account's licences.
type MyLicences struct {
	Licences []MyLicense
	Total    int           // all the account's licences
	Next     licensing.SEN // the next page starts after it; "" on the last
	// Unpaid are the account's licences that are past due or suspended
	// (up to LicencesPerPage), on this page or not: each gets a banner at
	// the top of every page.
	Unpaid []MyLicense
	// Expiring are the account's other licences whose card expires within
	// 30 days or has expired (up to LicencesPerPage): a banner each, too.
	Expiring []MyLicense
}

// MyLicenses returns a page of the licences the account is a contact or
// site admin of, with its relation to each. The billing address is only
// filled in for site admins (SPEC §2, Payment).
func (s *Service) MyLicenses(ctx context.Context, accountID int64, page LicencePage) (MyLicences, error) {
	acc, err := s.db.AccountByID(ctx, accountID)
	if err != nil {
		return MyLicences{}, err
	}
	if page.Size <= 0 {
		page.Size = LicencesPerPage
	}
	p, err := s.db.AccountLicensesPage(ctx, accountID, postgres.PageRequest{After: page.After, From: page.From, Size: page.Size})
	if err != nil {
		return MyLicences{}, err
	}
	out := MyLicences{Licences: make([]MyLicense, 0, len(p.Licenses)), Total: p.Total, Next: p.Next}
	for _, al := range p.Licenses {
		m := s.myLicenseOf(al.License, al.BillingAddress, acc.Email)
		if err := s.addOverdue(ctx, &m); err != nil {
			return MyLicences{}, err
		}
		m.CardExpiry = licensing.CardExpiry(m.License, s.opt.Now())
		out.Licences = append(out.Licences, m)
	}
	if err := s.addInvoices(ctx, out.Licences); err != nil {
		return MyLicences{}, err
	}
	unpaid, err := s.db.AccountUnpaidLicenses(ctx, accountID, LicencesPerPage)
	if err != nil {
		return MyLicences{}, err
	}
	for _, al := range unpaid {
		m := s.myLicenseOf(al.License, al.BillingAddress, acc.Email)
		if err := s.addOverdue(ctx, &m); err != nil {
			return MyLicences{}, err
		}
		out.Unpaid = append(out.Unpaid, m)
	}
	if err := s.addRecentlyAdded(ctx, out.Licences, out.Unpaid); err != nil {
		return MyLicences{}, err
	}
	if out.Expiring, err = s.expiringCards(ctx, accountID, acc.Email, out.Unpaid); err != nil {
		return MyLicences{}, err
	}
	return out, nil
}

// RecentlyAddedFor is how long a contact shows as newly added on the
// account page: as long as an invitation lives.
const RecentlyAddedFor = 14 * 24 * time.Hour

// addRecentlyAdded tells each licence which of its contacts were added in
// the last RecentlyAddedFor (one read for the page). The page tags them all
// alike, whether or not they have an account yet: a tag that appeared only
// for accounts not yet set up would let a contact test whether any email
// has an account, by adding it (L-3).
func (s *Service) addRecentlyAdded(ctx context.Context, lists ...[]MyLicense) error {
	var sens []licensing.SEN
	for _, list := range lists {
		for _, m := range list {
			sens = append(sens, m.License.SEN)
		}
	}
	added, err := s.db.ContactsAddedSince(ctx, sens, s.opt.Now().Add(-RecentlyAddedFor))
	if err != nil {
		return err
	}
	for _, list := range lists {
		for i := range list {
			list[i].RecentlyAdded = added[list[i].License.SEN]
		}
	}
	return nil
}

// MyLicence returns one of actor's licences as the account page shows it,
// or licensing.ErrNotYourLicence (see myLicence).
func (s *Service) MyLicence(ctx context.Context, actor licensing.Email, sen string) (MyLicense, error) {
	l, err := s.myLicence(ctx, actor, sen)
	if err != nil {
		return MyLicense{}, err
	}
	m := s.myLicenseOf(l, licensing.BillingAddress{}, actor)
	if err := s.addOverdue(ctx, &m); err != nil {
		return MyLicense{}, err
	}
	m.CardExpiry = licensing.CardExpiry(m.License, s.opt.Now())
	one := []MyLicense{m}
	if err := s.addRecentlyAdded(ctx, one); err != nil {
		return MyLicense{}, err
	}
	return one[0], nil
}

// addInvoices gives each licence of a page its newest invoices, in one
// query for the page.
func (s *Service) addInvoices(ctx context.Context, page []MyLicense) error {
	sens := make([]licensing.SEN, 0, len(page))
	for _, m := range page {
		if m.License.Deployment == licensing.Cloud {
			sens = append(sens, m.License.SEN)
		}
	}
	recent, more, err := s.db.RecentInvoices(ctx, sens, RecentInvoices)
	if err != nil {
		return err
	}
	for i := range page {
		page[i].Invoices, page[i].MoreInvoices = recent[page[i].License.SEN], more[page[i].License.SEN]
	}
	return nil
}

// addOverdue tells a past-due or suspended licence what is overdue and
// until when it keeps running (one read, only for those licences: a page
// of 20 reads at most 20).
func (s *Service) addOverdue(ctx context.Context, m *MyLicense) error {
	if st := m.License.Status; st != licensing.PastDue && st != licensing.Suspended {
		return nil
	}
	o, err := s.db.Overdue(ctx, m.License.SEN)
	if err != nil || o == nil {
		return err
	}
	with := o.WithSuspension(s.opt.SuspendAfter)
	m.Overdue = &with
	return nil
}

func (s *Service) myLicenseOf(l licensing.License, addr licensing.BillingAddress, me licensing.Email) MyLicense {
	m := MyLicense{License: l, Me: licensing.RelationOf(l, me)}
	if m.Me.SiteAdmin {
		m.BillingAddress = addr
	}
	m.CanUpdateCard = licensing.CanUpdateCard(l, me) == nil
	m.NextBill = licensing.NextBillOf(l, addr, s.opt.Taxes)
	return m
}

// myLicence parses sen and reads the licence for actor, who must be one of
// its contacts or site admins. That is checked first, in a query that
// costs the same whether or not the SEN exists; an unknown SEN and a
// stranger's licence get the same licensing.ErrNotYourLicence, before any
// rule that would say more (its deployment, cycle or status, who its
// contacts are).
func (s *Service) myLicence(ctx context.Context, actor licensing.Email, sen string) (licensing.License, error) {
	parsed, err := licensing.ParseSEN(sen)
	if err != nil {
		return licensing.License{}, err
	}
	related, err := s.db.RelatedToLicense(ctx, parsed, actor)
	if err != nil {
		return licensing.License{}, err
	}
	if !related {
		return licensing.License{}, licensing.ErrNotYourLicence
	}
	l, err := s.db.License(ctx, parsed)
	if licensing.ErrorCode(err) == licensing.NotFound {
		return licensing.License{}, licensing.ErrNotYourLicence
	}
	return l, err
}

// AddContact adds email as a role contact of the licence on behalf of
// actor, after the licensing rules allow it (actor is a contact; email is
// not already one in that role). offerPrimary also emails them an offer to
// make themselves primary. Each account adds at most InvitesPerDay
// contacts a day (every add mails someone).
func (s *Service) AddContact(ctx context.Context, actor licensing.Email, sen, role, email string, offerPrimary bool) (string, error) {
	l, r, e, err := s.contactChange(ctx, actor, sen, role, email)
	if err != nil {
		return "", err
	}
	if err := licensing.CanAddContact(l, actor, r, e); err != nil {
		return "", err
	}
	if err := s.countInvitation(ctx, actor); err != nil {
		return "", err
	}
	return s.ops.AddContact(ctx, actor, l.SEN, r, e, offerPrimary)
}

// countInvitation counts one contact added by actor against a fixed
// window of a day, refusing once InvitesPerDay were added in it.
func (s *Service) countInvitation(ctx context.Context, actor licensing.Email) error {
	_, err := s.attempt(ctx, rule{key: "invite:" + string(actor), next: func(prev postgres.Throttle, now time.Time) postgres.Throttle {
		start, n := prev.LastFailureAt, prev.Failures
		if prev.LastFailureAt.IsZero() || now.Sub(start) >= 24*time.Hour || n == 0 {
			start, n = now, 0
		}
		n++
		next := postgres.Throttle{Key: prev.Key, Failures: n, LastFailureAt: start}
		if n >= s.opt.InvitesPerDay {
			next.LockedUntil = start.Add(24 * time.Hour)
		}
		return next
	}})
	return err
}

// RemoveContact removes a secondary role contact on behalf of actor.
func (s *Service) RemoveContact(ctx context.Context, actor licensing.Email, sen, role, email string) (string, error) {
	l, r, e, err := s.contactChange(ctx, actor, sen, role, email)
	if err != nil {
		return "", err
	}
	if err := licensing.CanRemoveContact(l, actor, r, e); err != nil {
		return "", err
	}
	return s.ops.RemoveContact(ctx, actor, l.SEN, r, e)
}

// contactChange reads the licence of a contact change for actor (see
// myLicence), then parses the change's fields.
func (s *Service) contactChange(ctx context.Context, actor licensing.Email, sen, role, email string) (licensing.License, licensing.Role, licensing.Email, error) {
	l, err := s.myLicence(ctx, actor, sen)
	if err != nil {
		return licensing.License{}, "", "", err
	}
	r, err := licensing.ParseRole(role)
	if err != nil {
		return licensing.License{}, "", "", licensing.WithField(err, "role")
	}
	e, err := licensing.ParseEmail(email)
	if err != nil {
		return licensing.License{}, "", "", licensing.WithField(err, "email")
	}
	return l, r, e, nil
}

// PromoteSelf makes actor the primary role contact; actor must be a
// secondary contact in that role.
func (s *Service) PromoteSelf(ctx context.Context, actor licensing.Email, sen, role string) (string, error) {
	l, err := s.myLicence(ctx, actor, sen)
	if err != nil {
		return "", err
	}
	r, err := licensing.ParseRole(role)
	if err != nil {
		return "", err
	}
	if _, err := licensing.CanPromoteSelf(l, actor, r); err != nil {
		return "", err
	}
	return s.ops.PromoteSelf(ctx, actor, l.SEN, r)
}

// UpdateCardURL returns where actor updates the licence's card, when the
// payment rules allow actor to.
func (s *Service) UpdateCardURL(ctx context.Context, actor licensing.Email, sen string) (string, error) {
	l, err := s.myLicence(ctx, actor, sen)
	if err != nil {
		return "", err
	}
	if err := licensing.CanUpdateCard(l, actor); err != nil {
		return "", err
	}
	return s.ops.UpdateCardURL(ctx, actor, l.SEN)
}

// UpdateBillingAddress sets the billing address of a licence actor is a
// site admin of, after checking it field by field
// (licensing.ParseBillingAddress: each error names its field).
func (s *Service) UpdateBillingAddress(ctx context.Context, actor licensing.Email, sen string, in licensing.BillingAddressInput) (string, error) {
	l, err := s.myLicence(ctx, actor, sen)
	if err != nil {
		return "", err
	}
	if err := licensing.CanEditBillingAddress(l, actor); err != nil {
		return "", err
	}
	addr, err := licensing.ParseBillingAddress(in)
	if err != nil {
		return "", err
	}
	if err := s.db.UpdateBillingAddress(ctx, l.SEN, addr, actor); err != nil {
		return "", err
	}
	return fmt.Sprintf("The billing address of %s is saved; new invoices are made out to it.", l.SEN), nil
}

// LicenceInvoices returns a page of the invoices of one of actor's
// licences (see myLicence: anyone else gets ErrNotYourLicence).
func (s *Service) LicenceInvoices(ctx context.Context, actor licensing.Email, sen, cursor string) (LicenceInvoices, error) {
	l, err := s.myLicence(ctx, actor, sen)
	if err != nil {
		return LicenceInvoices{}, err
	}
	p, err := s.db.LicenseInvoices(ctx, l.SEN, cursor, InvoicesPerPage)
	if err != nil {
		return LicenceInvoices{}, err
	}
	return LicenceInvoices{License: l, Invoices: p.Invoices, NextCursor: p.NextCursor}, nil
}

// Invoice returns an invoice of one of actor's licences. Any other
// number, existing or not, is licensing.ErrNoSuchInvoice.
func (s *Service) Invoice(ctx context.Context, actor licensing.Email, number string) (licensing.Invoice, error) {
	if number == "" || len(number) > 100 {
		return licensing.Invoice{}, licensing.ErrNoSuchInvoice
	}
	return s.db.InvoiceFor(ctx, number, actor)
}
