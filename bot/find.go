package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
	"licensedesk/slackout"
)

// FindPageSize is how many licences one /license find reply lists.
const FindPageSize = 10

// FoundPage is one page of the licences a search matches.
type FoundPage struct {
	Licenses []licensing.License
	Total    int           // on every page
	Next     licensing.SEN // the page after starts after it; "" on the last
}

// LicenseFinder finds licences by person, domain or site, a page at a
// time in SEN order, starting after after ("" for the first page).
type LicenseFinder interface {
	FindLicences(ctx context.Context, q licensing.FindQuery, after licensing.SEN, size int) (FoundPage, error)
}

// FindCommand is /license find <email|@domain|site> [--after <SEN>]. Its
// reply is ephemeral, like show's: it lists customers' emails.
func FindCommand(f LicenseFinder) Command {
	return Command{
		Name:    "find",
		Args:    "<email|@domain|site> [--after <SEN>]",
		Summary: fmt.Sprintf("List the licences of a person, of everyone at a domain, or of a site, with their roles, %d at a time.", FindPageSize),
		Class:   Read,
		MinArgs: 1,
		MaxArgs: 3,
		Run: func(ctx context.Context, req Request) (Reply, error) {
			q, err := licensing.ParseFindQuery(req.Args[0])
			if err != nil {
				return Reply{}, err
			}
			var after licensing.SEN
			switch rest := req.Args[1:]; {
			case len(rest) == 0:
			case len(rest) == 2 && rest[0] == "--after":
				if after, err = licensing.ParseSEN(rest[1]); err != nil {
					return Reply{}, err
				}
			default:
				return Reply{}, licensing.Errorf(licensing.Invalid, "after the search, only --after <SEN> (from a \"more\" hint)")
			}
			page, err := f.FindLicences(ctx, q, after, FindPageSize)
			if err != nil {
				return Reply{}, err
			}
			return Reply{ResponseType: slack.ResponseTypeEphemeral, Text: findSummary(q, page, after), Blocks: FindBlocks(q, page, after)}, nil
		},
	}
}

// FindBlocks renders a page of /license find: a header with the count,
// one section per licence (its facts and who of the search holds which
// role), and a context line with the "more" hint.
func FindBlocks(q licensing.FindQuery, page FoundPage, after licensing.SEN) []slack.Block {
	blocks := []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType,
		truncate(fmt.Sprintf("%s (%d)", findTitle(q), page.Total), maxHeaderRunes), false, false))}
	for _, l := range page.Licenses {
		s := mrkdwnSection(fmt.Sprintf("*%s* · %s — %s\n%s", escape(string(l.SEN)), escape(l.Product), licenceFacts(l), rolesLine(q, l)))
		s.Accessory = slack.NewAccessory(slackout.Run("Show", "show", string(l.SEN)).Element())
		blocks = append(blocks, s)
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwnText(findHint(q, page, after))))
	if page.Next != "" {
		blocks = append(blocks, slackout.Actions("find_more", slackout.Run(fmt.Sprintf("Show %d more", FindPageSize), "find", findArg(q), "--after", string(page.Next))))
	}
	return blocks
}

// findSummary is the notification fallback for FindBlocks.
func findSummary(q licensing.FindQuery, page FoundPage, after licensing.SEN) string {
	if len(page.Licenses) == 0 {
		return findHint(q, page, after)
	}
	return escape(fmt.Sprintf("%s: %d", findTitle(q), page.Total))
}

func findTitle(q licensing.FindQuery) string {
	switch q.By {
	case licensing.FindByDomain:
		return "Licences at @" + q.Value
	case licensing.FindBySite:
		return "Licences of the site " + q.Value
	}
	return "Licences of " + q.Value
}

func findHint(q licensing.FindQuery, page FoundPage, after licensing.SEN) string {
	shown := len(page.Licenses)
	var b strings.Builder
	switch {
	case shown == 0 && after == "":
		fmt.Fprintf(&b, "No licences found for %s.", escape(findArg(q)))
		return b.String()
	case shown == 0:
		return fmt.Sprintf("No more licences after %s.", escape(string(after)))
	case after == "" && page.Next == "" && shown == 1:
		b.WriteString("1 found.")
	case after == "" && page.Next == "":
		fmt.Fprintf(&b, "All %d shown.", page.Total)
	case after == "":
		fmt.Fprintf(&b, "%d of %d shown.", shown, page.Total)
	default:
		fmt.Fprintf(&b, "%d more of %d, after %s.", shown, page.Total, escape(string(after)))
	}
	if page.Next != "" {
		fmt.Fprintf(&b, " Typed: `%s find %s --after %s`", slashCommand, escape(findArg(q)), escape(string(page.Next)))
	}
	return b.String()
}

// findArg is the search as typed.
func findArg(q licensing.FindQuery) string {
	if q.By == licensing.FindByDomain {
		return "@" + q.Value
	}
	return q.Value
}

func licenceFacts(l licensing.License) string {
	facts := []string{string(l.Deployment)}
	if l.Cycle != "" {
		facts = append(facts, string(l.Cycle))
	}
	facts = append(facts, strings.ToLower(statusWord(l.Status)))
	if q := l.Site; q != "" && l.Deployment == licensing.Cloud {
		facts = append(facts, escape(q))
	}
	return strings.Join(facts, ", ")
}

// rolesLine says who of the search holds which role: the person's own
// roles, everyone at the domain with theirs, or, for a site, the primary
// contacts.
func rolesLine(q licensing.FindQuery, l licensing.License) string {
	switch q.By {
	case licensing.FindByEmail:
		return personRoles(l, licensing.Email(q.Value))
	case licensing.FindByDomain:
		var people []string
		for _, e := range peopleOf(l) {
			if e.Domain() == q.Value {
				people = append(people, escape(string(e))+": "+personRoles(l, e))
			}
		}
		return strings.Join(people, "\n")
	}
	var primaries []string
	for _, r := range licensing.Roles {
		for _, c := range l.Contacts {
			if c.Role == r && c.Primary {
				primaries = append(primaries, fmt.Sprintf("primary %s: %s", r, escape(string(c.Email))))
			}
		}
	}
	return strings.Join(primaries, " · ")
}

// personRoles lists a person's roles on l: "primary billing, secondary
// technical, site admin".
func personRoles(l licensing.License, who licensing.Email) string {
	var words []string
	for _, c := range l.Contacts {
		if c.Email != who {
			continue
		}
		kind := "secondary"
		if c.Primary {
			kind = "primary"
		}
		words = append(words, kind+" "+string(c.Role))
	}
	for _, a := range l.SiteAdmins {
		if a == who {
			words = append(words, "site admin")
		}
	}
	return strings.Join(words, ", ")
}

// peopleOf lists everyone on l once: contacts in contact order, then
// site admins.
func peopleOf(l licensing.License) []licensing.Email {
	var out []licensing.Email
	seen := map[licensing.Email]bool{}
	for _, c := range l.Contacts {
		if !seen[c.Email] {
			seen[c.Email] = true
			out = append(out, c.Email)
		}
	}
	for _, a := range l.SiteAdmins {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
