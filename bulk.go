package crm

import (
	"context"
	"slices"
)

// Bulk actions on leads.
const (
	BulkReassign = "reassign"
	BulkAdvance  = "advance"
)

// MaxBulk bounds the leads of one bulk action.
const MaxBulk = 500

// BulkResult is the outcome for one lead of a bulk action: the lead as it is
// after it, or the error that refused it.
type BulkResult struct {
	ID   string
	Lead *Lead
	Err  error
}

// Bulk applies one action to many leads, each on its own: in its own
// transaction, under its own rules, audited (and, for a reassignment,
// notified) on its own. "reassign" gives the leads to ownerID; "advance"
// moves each one stage forward (lost and transferred are never an advance).
// Errors: EFORBIDDEN for managers, EINVALID for the request itself; a lead's
// own failure is in its result.
func (s *LeadService) Bulk(ctx context.Context, ids []string, action, ownerID string) ([]BulkResult, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.Role.SeesAll() {
		return nil, Errorf(EFORBIDDEN, CodeForbidden, "only senior managers and admins act on many leads at once")
	}
	var fe []FieldError
	if len(ids) == 0 || len(ids) > MaxBulk {
		fe = append(fe, FieldError{Field: "ids", Message: "must list 1 to 500 lead ids"})
	}
	switch action {
	case BulkReassign:
		if ownerID == "" {
			fe = append(fe, FieldError{Field: "owner_id", Message: "is required to reassign"})
		}
	case BulkAdvance:
		if ownerID != "" {
			fe = append(fe, FieldError{Field: "owner_id", Message: "is given only to reassign"})
		}
	default:
		fe = append(fe, FieldError{Field: "action", Message: "must be reassign or advance"})
	}
	if fe != nil {
		return nil, Invalid(fe...)
	}
	ownerID = NormalizeID(ownerID)
	seen := map[string]bool{}
	out := make([]BulkResult, 0, len(ids))
	for _, id := range ids {
		id = NormalizeID(id)
		if seen[id] {
			continue
		}
		seen[id] = true
		r := BulkResult{ID: id}
		switch action {
		case BulkReassign:
			r.Lead, r.Err = s.UpdateLead(ctx, id, LeadUpdate{OwnerID: &ownerID})
		case BulkAdvance:
			r.Lead, r.Err = s.advance(ctx, id)
		}
		out = append(out, r)
	}
	return out, nil
}

// advance moves a lead to the next stage of the pipeline.
func (s *LeadService) advance(ctx context.Context, id string) (*Lead, error) {
	l, err := s.Lead(ctx, id)
	if err != nil {
		return nil, err
	}
	next := slices.DeleteFunc(l.Stage.NextStages(), func(st LeadStage) bool { return st == LeadLost })
	if len(next) == 0 {
		if l.Stage.Final() {
			return nil, Errorf(ECONFLICT, CodeLeadClosed, "the lead is %s; it cannot change any more", l.Stage)
		}
		return nil, Errorf(ECONFLICT, CodeInvalidTransition, "a %s lead moves on only by the transfer", l.Stage)
	}
	// MoveLead checks the move again on the locked row: a concurrent move
	// makes this one fail, not skip a stage.
	return s.MoveLead(ctx, id, next[0])
}
