package licensing

// Pages of licences, as the find commands, the API and the account page
// read them (postgres.DB.FindLicenses, AccountLicensesPage).

// Page is one page of licences.
type Page struct {
	Licenses []AccountLicense
	Total    int // licences that match, on every page
	Next     SEN // where the next page starts (after it); "" on the last page
}

// PageRequest says which page: after After (exclusive), or from From
// (inclusive: the page that shows that licence first), Size at most.
type PageRequest struct {
	After SEN
	From  SEN
	Size  int
}

// AccountLicense is a licence as its account page shows it.
type AccountLicense struct {
	License        License
	BillingAddress BillingAddress
}
