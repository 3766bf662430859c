package crm

import (
	"context"
	"strings"
	"unicode"
)

// CodePossibleDuplicate is the code of a create refused because the lead looks
// like an open one.
const CodePossibleDuplicate = "possible_duplicate"

// MaxDuplicates bounds the matches a possible_duplicate lists.
const MaxDuplicates = 10

// DuplicateKeys are the normalised forms two leads are compared by; "" keys
// match nothing. The stores keep them in indexed columns, computed by this
// function on every write, so the rule lives here only.
type DuplicateKeys struct {
	Email string // trimmed, lower-case
	Phone string // the digits, when there are at least minPhoneDigits
	Name  string // company and name, trimmed and case-folded, when both are given
}

// minPhoneDigits: shorter numbers (extensions, typos) would match by chance.
const minPhoneDigits = 6

// Keys returns the lead's duplicate keys.
func (l *Lead) Keys() DuplicateKeys { return duplicateKeys(l.Name, l.Email, l.Phone, l.Company) }

// Empty reports whether no key is set (a lead from source alone).
func (k DuplicateKeys) Empty() bool { return k.Email == "" && k.Phone == "" && k.Name == "" }

func duplicateKeys(name, email, phone, company string) DuplicateKeys {
	k := DuplicateKeys{Email: strings.ToLower(strings.TrimSpace(email))}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
	if len(digits) >= minPhoneDigits {
		k.Phone = digits
	}
	name, company = fold(name), fold(company)
	if name != "" && company != "" {
		k.Name = company + "\x1f" + name
	}
	return k
}

// fold trims, lower-cases and collapses inner runs of spaces.
func fold(s string) string {
	return strings.ToLower(strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " "))
}

// DuplicateLead is an open lead a new one looks like, as the actor may see it.
type DuplicateLead struct {
	ID, Name, Company string
	OwnerID, Owner    string // the owner's id and name
}

// checkDuplicates returns ECONFLICT (CodePossibleDuplicate, with the matches)
// when l matches open leads the actor may see. Leads the actor may not see are
// not compared, so a manager never learns that another's lead exists.
func (s *LeadService) checkDuplicates(ctx context.Context, a Actor, l *Lead) error {
	keys := l.Keys()
	if keys.Empty() {
		return nil
	}
	owner := ""
	if !a.Role.SeesAll() {
		owner = a.UserID
	}
	found, err := s.store.Duplicates(ctx, keys, owner, MaxDuplicates)
	if err != nil || len(found) == 0 {
		return err
	}
	names := map[string]string{}
	dups := make([]DuplicateLead, len(found))
	for i, d := range found {
		if _, ok := names[d.OwnerID]; !ok && d.OwnerID != "" {
			if u, err := s.store.User(ctx, d.OwnerID); err == nil {
				names[d.OwnerID] = u.Name
			}
		}
		dups[i] = DuplicateLead{ID: d.ID, Name: d.Name, Company: d.Company, OwnerID: d.OwnerID, Owner: names[d.OwnerID]}
	}
	return &Error{Kind: ECONFLICT, Code: CodePossibleDuplicate, Duplicates: dups,
		Message: "an open lead with the same email, phone or company and name exists; send allow_duplicate=true to create it anyway"}
}
