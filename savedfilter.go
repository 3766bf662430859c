package crm

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// SavedFilter is a named lead-list query of one user ("my qualified leads in
// the partner source"), kept as the list's own query string.
type SavedFilter struct {
	ID        string
	UserID    string
	Name      string
	Query     string // e.g. "stage=qualified&source=partner"
	CreatedAt time.Time
}

// MaxSavedFilters bounds the filters one user keeps.
const MaxSavedFilters = 50

// savedFilterKeys are the lead-list parameters a filter may hold.
var savedFilterKeys = map[string]bool{"stage": true, "source": true, "owner_id": true, "q": true, "sort": true, "no_next_step": true}

// SavedFilters returns the actor's filters, by name.
func (s *LeadService) SavedFilters(ctx context.Context) ([]*SavedFilter, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.SavedFilters(ctx, a.UserID)
}

// SaveFilter keeps a filter for the actor. Errors: EINVALID, ECONFLICT (too many).
func (s *LeadService) SaveFilter(ctx context.Context, name, query string) (*SavedFilter, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	var fe []FieldError
	fe = checkText(fe, "query", &query)
	if !ValidText(name) {
		fe = checkText(fe, "name", &name)
	} else if n := utf8.RuneCountInString(name); n == 0 || n > 100 {
		fe = append(fe, FieldError{Field: "name", Message: "must be 1 to 100 characters"})
	}
	vals, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	if err != nil || len(query) > 1000 {
		fe = append(fe, FieldError{Field: "query", Message: "must be a lead-list query string of at most 1000 characters"})
	} else {
		for k := range vals {
			if !savedFilterKeys[k] {
				fe = append(fe, FieldError{Field: "query", Message: "may hold stage, source, owner_id, q, sort and no_next_step only"})
				break
			}
		}
		if srt := vals.Get("sort"); srt != "" {
			if _, err := ParseSort(srt, LeadSortKeys); err != nil {
				fe = append(fe, FieldError{Field: "query", Message: "sort: must be one of " + strings.Join(LeadSortKeys, ", ")})
			}
		}
	}
	if fe != nil {
		return nil, Invalid(fe...)
	}
	if a.UserID == "" {
		return nil, Errorf(EFORBIDDEN, CodeForbidden, "filters are kept for users")
	}
	have, err := s.store.SavedFilters(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if len(have) >= MaxSavedFilters {
		return nil, Errorf(ECONFLICT, CodeConflict, "a user keeps at most %d filters; delete one first", MaxSavedFilters)
	}
	f := &SavedFilter{ID: NewID(), UserID: a.UserID, Name: name, Query: vals.Encode(), CreatedAt: s.timestamp()}
	if err := s.store.InTx(ctx, func(tx Tx) error { return tx.InsertSavedFilter(ctx, f) }); err != nil {
		return nil, err
	}
	return f, nil
}

// DeleteFilter removes one of the actor's filters. Errors: ENOTFOUND.
func (s *LeadService) DeleteFilter(ctx context.Context, id string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	id = NormalizeID(id)
	if !ValidID(id) {
		return NotFound("filter")
	}
	return s.store.InTx(ctx, func(tx Tx) error { return tx.DeleteSavedFilter(ctx, a.UserID, id) })
}
