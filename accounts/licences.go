package accounts

import (
	"context"
	"fmt"

	"licensedesk/licensing"
	"licensedesk/web"
)

// MyLicenses returns the licences the account is a contact or site admin
// of, with its relation to each. The billing address is only filled in for
// site admins (SPEC §2, Payment).
func (s *Service) MyLicenses(ctx context.Context, accountID int64) ([]web.MyLicense, error) {
	acc, err := s.db.AccountByID(ctx, accountID)
	if err != nil {
		return nil, err
	}
	list, err := s.db.AccountLicenses(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]web.MyLicense, 0, len(list))
	for _, al := range list {
		m := web.MyLicense{License: al.License, Me: licensing.RelationOf(al.License, acc.Email)}
		if m.Me.SiteAdmin {
			m.BillingAddress = al.BillingAddress
		}
		m.CanUpdateCard = licensing.CanUpdateCard(al.License, acc.Email) == nil
		out = append(out, m)
	}
	return out, nil
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
// not already one in that role).
func (s *Service) AddContact(ctx context.Context, actor licensing.Email, sen, role, email string) (string, error) {
	l, r, e, err := s.contactChange(ctx, actor, sen, role, email)
	if err != nil {
		return "", err
	}
	if err := licensing.CanAddContact(l, actor, r, e); err != nil {
		return "", err
	}
	return s.ops.AddContact(ctx, actor, l.SEN, r, e)
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
		return licensing.License{}, "", "", err
	}
	e, err := licensing.ParseEmail(email)
	if err != nil {
		return licensing.License{}, "", "", err
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
	if _, err := licensing.Promote(l.Contacts, actor, r); err != nil {
		if licensing.ErrorCode(err) == licensing.NotFound {
			return "", licensing.Errorf(licensing.Forbidden, "You are not a %s contact of %s, so you can't become its primary %s contact.", r, l.SEN, r)
		}
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
// site admin of.
func (s *Service) UpdateBillingAddress(ctx context.Context, actor licensing.Email, sen, address string) (string, error) {
	l, err := s.myLicence(ctx, actor, sen)
	if err != nil {
		return "", err
	}
	addr, err := CheckBillingAddress(address)
	if err != nil {
		return "", err
	}
	if err := s.db.UpdateBillingAddress(ctx, l.SEN, addr, actor); err != nil {
		return "", err
	}
	return fmt.Sprintf("The billing address of %s is saved.", l.SEN), nil
}
