package crm

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// ---- leads ----

// CreateLead creates a lead at stage new, owned by in.OwnerID or by the actor.
// Errors: EINVALID, EFORBIDDEN (a manager naming another owner).
func (s *LeadService) CreateLead(ctx context.Context, in LeadInput) (*Lead, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	in.Normalize()
	domains, err := s.domainsFor(ctx, in.BusinessDomain != "")
	if err != nil {
		return nil, err
	}
	l, err := s.newLead(a, &in, domains)
	if err != nil {
		return nil, err
	}
	owner := l.OwnerID
	if !in.AllowDuplicate {
		if err := s.checkDuplicates(ctx, a, l); err != nil {
			return nil, err
		}
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if owner != a.UserID {
			if err := checkOwner(ctx, tx, owner); err != nil {
				return err
			}
		}
		if err := tx.InsertLead(ctx, l); err != nil {
			return err
		}
		e := s.event(a, ActionLeadCreated, l)
		e.To = string(LeadNew)
		if err := tx.InsertEvent(ctx, e); err != nil {
			return err
		}
		return s.notify(ctx, tx, a, owner, NotifyLeadAssigned, l, "", "")
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// newLead is the one rule of a new lead, CreateLead's and the import's:
// in is normalised and validated against the catalog (domains may be nil
// when no business domain is given), and only senior managers and admins
// choose another owner than themselves. The lead is at stage new, owned by
// in.OwnerID or the actor; whether that owner is an active user is checked
// in the writing transaction. Errors: EINVALID, EFORBIDDEN.
func (s *LeadService) newLead(a Actor, in *LeadInput, domains []string) (*Lead, error) {
	in.Normalize()
	if err := in.Validate(domains); err != nil {
		return nil, err
	}
	owner := a.UserID
	if in.OwnerID != "" && in.OwnerID != a.UserID {
		if !a.Role.SeesAll() {
			return nil, Errorf(EFORBIDDEN, CodeForbidden, "only a senior manager or an admin can choose the owner")
		}
		owner = in.OwnerID
	}
	now := s.timestamp()
	return &Lead{ID: NewID(), Source: in.Source, Stage: LeadNew, BusinessDomain: in.BusinessDomain,
		MessagesCount: in.MessagesCount, Name: in.Name, Email: in.Email, Phone: in.Phone, Company: in.Company,
		Note: in.Note, OwnerID: owner, CreatedAt: now, UpdatedAt: now}, nil
}

// catalog returns the business-domain catalog in force.
func (s *LeadService) catalog(ctx context.Context) ([]string, error) { return s.Domains(ctx) }

// checkOwner returns EINVALID unless id is an active user.
func checkOwner(ctx context.Context, tx Tx, id string) error {
	bad := Invalid(FieldError{Field: "owner_id", Message: "must be the id of an active user"})
	if !ValidID(id) {
		return bad
	}
	u, err := tx.LockUser(ctx, id)
	if IsKind(err, ENOTFOUND) || (err == nil && !u.Active) {
		return bad
	}
	return err
}

// Lead returns a lead the actor may see. Errors: ENOTFOUND.
func (s *LeadService) Lead(ctx context.Context, id string) (*Lead, error) {
	return visible(ctx, "lead", id, s.store.Lead, func(l *Lead) string { return l.OwnerID })
}

// visible reads the row of one lead or sale with get and returns it only when
// the actor may see its owner: an unknown id, a malformed one and another
// manager's row all answer the same not-found, so a manager never learns that
// another's row exists. The one rule of reading one row; ownerScope is the one
// rule of lists.
func visible[T any](ctx context.Context, what, id string, get func(context.Context, string) (T, error), owner func(T) string) (T, error) {
	var none T
	a, err := actor(ctx)
	if err != nil {
		return none, err
	}
	id = NormalizeID(id)
	if !ValidID(id) {
		return none, NotFound(what)
	}
	row, err := get(ctx, id)
	if err != nil {
		return none, err
	}
	if !a.CanSeeOwner(owner(row)) {
		return none, NotFound(what)
	}
	return row, nil
}

// Leads returns a page of the leads the actor may see and the cursor of the
// next page ("" on the last page). A manager only ever sees their own.
func (s *LeadService) Leads(ctx context.Context, f LeadFilter) ([]*Lead, string, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	var ok bool
	if f.OwnerID, ok = ownerScope(a, f.OwnerID); !ok {
		return []*Lead{}, "", nil
	}
	if f.After, f.AfterValue, err = readCursor(f.Sort, f.After); err != nil {
		return nil, "", err
	}
	f.Q = strings.TrimSpace(f.Q)
	if utf8.RuneCountInString(f.Q) > MaxShortText {
		return nil, "", Invalid(FieldError{Field: "q", Message: "must be at most 200 characters"})
	}
	if err := CheckText("q", f.Q); err != nil {
		// A NUL would match every lead on SQLite and fail on PostgreSQL:
		// refused alike, not answered with zero or all matches.
		return nil, "", err
	}
	return page(f.Limit, func(n int) ([]*Lead, error) {
		f.Limit = n
		return s.store.Leads(ctx, f)
	}, func(l *Lead) string { return makeCursor(f.Sort, l.sortValue(f.Sort.Key), l.ID) })
}

// changeLead runs change on the lead locked in a transaction, after checking the
// actor may see it. change returns the event to record, or nil when nothing
// changed (then nothing is written).
func (s *LeadService) changeLead(ctx context.Context, id string, change func(tx Tx, a Actor, l *Lead) (*Event, error)) (*Lead, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	id = NormalizeID(id)
	if !ValidID(id) {
		return nil, NotFound("lead")
	}
	var out *Lead
	err = s.store.InTx(ctx, func(tx Tx) error {
		l, err := tx.LockLead(ctx, id)
		if err != nil {
			return err
		}
		if !a.CanSeeOwner(l.OwnerID) {
			return NotFound("lead")
		}
		e, err := change(tx, a, l)
		if err != nil || e == nil {
			out = l
			return err
		}
		l.UpdatedAt = s.timestamp()
		if err := tx.UpdateLead(ctx, l); err != nil {
			return err
		}
		out = l
		return tx.InsertEvent(ctx, e)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateLead edits contact fields, the business domain and (senior managers
// and admins only) the owner. The business domain of a closed lead is frozen.
// Errors: ENOTFOUND, EINVALID, EFORBIDDEN, ECONFLICT (CodeLeadClosed).
func (s *LeadService) UpdateLead(ctx context.Context, id string, u LeadUpdate) (*Lead, error) {
	u.Normalize()
	domains, err := s.domainsFor(ctx, u.BusinessDomain != nil)
	if err != nil {
		return nil, err
	}
	// The domain is checked against the catalog only when it changes, below:
	// a lead keeps a domain an admin has since removed from the catalog, and
	// sending it back unchanged (as a form does) is no error.
	contact := u
	contact.BusinessDomain = nil
	if err := contact.Validate(nil); err != nil {
		return nil, err
	}
	return s.changeLead(ctx, id, func(tx Tx, a Actor, l *Lead) (*Event, error) {
		changed := map[string]any{}
		set := func(field string, dst *string, v *string) {
			if v != nil && *v != *dst {
				changed[field] = map[string]any{"from": *dst, "to": *v}
				*dst = *v
			}
		}
		set("name", &l.Name, u.Name)
		set("email", &l.Email, u.Email)
		set("phone", &l.Phone, u.Phone)
		set("company", &l.Company, u.Company)
		set("note", &l.Note, u.Note)
		domain := u.BusinessDomain
		if u.ClearBusinessDomain {
			domain = new(string)
		}
		if domain != nil && *domain != l.BusinessDomain {
			if *domain != "" {
				if err := (&LeadUpdate{BusinessDomain: domain}).Validate(domains); err != nil {
					return nil, err
				}
			}
			if err := l.Stage.CheckOpen(); err != nil {
				return nil, err
			}
			set("business_domain", &l.BusinessDomain, domain)
		}
		action := ActionLeadUpdated
		if u.OwnerID != nil && *u.OwnerID != l.OwnerID {
			if !a.Role.SeesAll() {
				return nil, Errorf(EFORBIDDEN, CodeForbidden, "only a senior manager or an admin can reassign a lead")
			}
			if err := checkOwner(ctx, tx, *u.OwnerID); err != nil {
				return nil, err
			}
			// The open tasks of the previous owner follow the lead, so that
			// nobody keeps a task on a lead they may no longer see.
			if l.OwnerID != "" {
				if err := tx.ReassignTasks(ctx, l.ID, l.OwnerID, *u.OwnerID, s.timestamp()); err != nil {
					return nil, err
				}
			}
			if err := s.notify(ctx, tx, a, *u.OwnerID, NotifyLeadAssigned, l, "", ""); err != nil {
				return nil, err
			}
			set("owner_id", &l.OwnerID, u.OwnerID)
			if len(changed) == 1 {
				action = ActionLeadOwner
			}
		}
		if len(changed) == 0 {
			return nil, nil
		}
		e := s.event(a, action, l)
		e.Data = map[string]any{"changes": changed}
		return e, nil
	})
}

// SetMessages sets the number of communications with the lead.
// Errors: ENOTFOUND, EINVALID, ECONFLICT (CodeLeadClosed).
func (s *LeadService) SetMessages(ctx context.Context, id string, n int) (*Lead, error) {
	if n < 0 || n > MaxMessagesCount {
		return nil, Invalid(FieldError{Field: "messages_count", Message: "must be between 0 and 1000000"})
	}
	return s.changeLead(ctx, id, func(_ Tx, a Actor, l *Lead) (*Event, error) {
		if err := l.Stage.CheckOpen(); err != nil {
			return nil, err
		}
		if l.MessagesCount == n {
			return nil, nil
		}
		e := s.event(a, ActionLeadMessages, l)
		e.Data = map[string]any{"from": l.MessagesCount, "to": n}
		l.MessagesCount = n
		return e, nil
	})
}

// IncrementMessages adds one communication, atomically (the web page's +1).
// Errors: as SetMessages.
func (s *LeadService) IncrementMessages(ctx context.Context, id string) (*Lead, error) {
	return s.changeLead(ctx, id, func(_ Tx, a Actor, l *Lead) (*Event, error) {
		if err := l.Stage.CheckOpen(); err != nil {
			return nil, err
		}
		if l.MessagesCount >= MaxMessagesCount {
			return nil, Invalid(FieldError{Field: "messages_count", Message: "must be between 0 and 1000000"})
		}
		e := s.event(a, ActionLeadMessages, l)
		e.Data = map[string]any{"from": l.MessagesCount, "to": l.MessagesCount + 1}
		l.MessagesCount++
		return e, nil
	})
}

// MoveLead changes the stage of a lead by one legal step.
// Errors: ENOTFOUND, EINVALID (unknown stage), ECONFLICT (CodeInvalidTransition, CodeLeadClosed).
func (s *LeadService) MoveLead(ctx context.Context, id string, to LeadStage) (*Lead, error) {
	return s.ChangeStage(ctx, id, StageChange{Stage: to})
}

// StageChange is a move of a lead to another stage; LostReason (optional, at
// most MaxLostReason characters) says why when the stage is lost.
type StageChange struct {
	Stage      LeadStage
	LostReason string
}

// ChangeStage moves a lead by one legal step, keeping the reason of a loss on
// the lead and in the audit trail.
// Errors: as MoveLead, and EINVALID for a reason too long or given with another stage.
func (s *LeadService) ChangeStage(ctx context.Context, id string, c StageChange) (*Lead, error) {
	if !c.Stage.Valid() {
		return nil, Invalid(FieldError{Field: "stage", Message: "must be one of new, contacted, qualified, transferred, lost"})
	}
	c.LostReason = strings.TrimSpace(c.LostReason)
	if err := CheckText("lost_reason", c.LostReason); err != nil {
		return nil, err
	}
	if c.LostReason != "" && c.Stage != LeadLost {
		return nil, Invalid(FieldError{Field: "lost_reason", Message: "is given only with the stage lost"})
	}
	if utf8.RuneCountInString(c.LostReason) > MaxLostReason {
		return nil, Invalid(FieldError{Field: "lost_reason", Message: "must be at most 500 characters"})
	}
	return s.changeLead(ctx, id, func(tx Tx, a Actor, l *Lead) (*Event, error) {
		if err := l.Stage.CheckMove(c.Stage); err != nil {
			return nil, err
		}
		e := s.event(a, ActionLeadStage, l)
		e.From, e.To = string(l.Stage), string(c.Stage)
		if c.LostReason != "" {
			e.Data = map[string]any{"lost_reason": c.LostReason}
		}
		from := l.Stage
		l.Stage, l.LostReason = c.Stage, c.LostReason
		if c.Stage == LeadLost { // an analyzed lead lost before any sale: a negative outcome
			if err := s.recordOutcome(ctx, tx, l, false); err != nil {
				return nil, err
			}
			if err := emitWebhooks(ctx, tx, leadWebhook(WebhookLeadLost, a, l, "", string(from), string(c.Stage), e.CreatedAt)); err != nil {
				return nil, err
			}
		}
		return e, nil
	})
}

// TransferCheck returns the unmet conditions of a transfer of the lead (none
// means allowed). Errors: ENOTFOUND.
func (s *LeadService) TransferCheck(ctx context.Context, id string) ([]string, error) {
	l, err := s.Lead(ctx, id)
	if err != nil {
		return nil, err
	}
	gate, err := s.TransferGate(ctx)
	if err != nil {
		return nil, err
	}
	return TransferBlockersGate(l, s.minScore, gate), nil
}

// Transfer hands the lead to sales: in one transaction it checks every rule on
// the locked row, creates the sale and moves the lead to transferred. Of
// concurrent transfers of one lead exactly one succeeds.
// Errors: ENOTFOUND, ECONFLICT (CodeTransferBlocked with Blockers, CodeLeadClosed).
func (s *LeadService) Transfer(ctx context.Context, id string) (*Sale, error) {
	return s.TransferDeal(ctx, id, DealValue{})
}

// TransferDeal is Transfer with the deal's value (none when v is empty).
// Errors: as Transfer, and EINVALID for a bad amount or currency.
func (s *LeadService) TransferDeal(ctx context.Context, id string, v DealValue) (*Sale, error) {
	amount, currency, err := s.dealValue(ctx, v, "")
	if err != nil {
		return nil, err
	}
	gate, err := s.TransferGate(ctx)
	if err != nil {
		return nil, err
	}
	var sale *Sale
	_, err = s.changeLead(ctx, id, func(tx Tx, a Actor, l *Lead) (*Event, error) {
		if err := l.Stage.CheckOpen(); err != nil {
			return nil, err
		}
		if b := TransferBlockersGate(l, s.minScore, gate); len(b) > 0 {
			return nil, &Error{Kind: ECONFLICT, Code: CodeTransferBlocked, Blockers: b,
				Message: "the lead cannot be transferred yet: " + strings.Join(b, ", ")}
		}
		now := s.timestamp()
		sale = &Sale{ID: NewID(), LeadID: l.ID, Stage: SaleNew, TransferredBy: a.UserID, OwnerID: l.OwnerID,
			Amount: amount, Currency: currency, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertSale(ctx, sale); err != nil {
			return nil, err
		}
		e := s.event(a, ActionLeadTransferred, l)
		e.SaleID = sale.ID
		e.From, e.To = string(l.Stage), string(LeadTransferred)
		e.Data = map[string]any{
			"score": l.AI.Score, "threshold": s.minScore, "recommendation": string(l.AI.Recommendation),
			"analyzed_at": l.AI.AnalyzedAt.Format(time.RFC3339Nano), "provider": l.AI.Provider,
			"model": l.AI.Model, "prompt_version": l.AI.PromptVersion, "sale_id": sale.ID,
		}
		// Which score the gate compared: the setting in force and, when it is
		// the calibrated one, whether the analysis had a calibrated score.
		gateScore, basis := l.AI.GateScore(gate)
		e.Data["gate"], e.Data["gate_score"], e.Data["gate_basis"] = gate, gateScore, basis
		if l.AI.ScoreCalibrated != nil {
			e.Data["score_calibrated"] = *l.AI.ScoreCalibrated
		}
		if l.AI.AnalysisID != "" {
			e.Data["analysis_id"] = l.AI.AnalysisID
		}
		if currency != "" {
			e.Data["amount"], e.Data["currency"] = amount.Format(currency), currency
		}
		if err := emitWebhooks(ctx, tx, leadWebhook(WebhookLeadTransferred, a, l, sale.ID, string(l.Stage),
			string(LeadTransferred), e.CreatedAt)); err != nil {
			return nil, err
		}
		l.Stage = LeadTransferred
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return sale, nil
}

// LeadSale returns the sale made from a lead. Errors: ENOTFOUND.
func (s *LeadService) LeadSale(ctx context.Context, leadID string) (*Sale, error) {
	l, err := s.Lead(ctx, leadID)
	if err != nil {
		return nil, err
	}
	return s.store.SaleByLead(ctx, l.ID)
}

// MaxTrail bounds the events returned for one lead.
const MaxTrail = 1000

// LeadEvents returns the audit trail of a lead and its sale, oldest first.
// Errors: ENOTFOUND.
func (s *LeadService) LeadEvents(ctx context.Context, leadID string) ([]*Event, error) {
	l, err := s.Lead(ctx, leadID)
	if err != nil {
		return nil, err
	}
	return s.store.Events(ctx, EventFilter{LeadID: l.ID, Limit: MaxTrail})
}

// ---- sales ----

// Sale returns a sale the actor may see. Errors: ENOTFOUND.
func (s *LeadService) Sale(ctx context.Context, id string) (*Sale, error) {
	return visible(ctx, "sale", id, s.store.Sale, func(s *Sale) string { return s.OwnerID })
}

// Sales returns a page of the sales the actor may see and the next cursor.
func (s *LeadService) Sales(ctx context.Context, f SaleFilter) ([]*Sale, string, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	var ok bool
	if f.OwnerID, ok = ownerScope(a, f.OwnerID); !ok {
		return []*Sale{}, "", nil
	}
	if f.After, f.AfterValue, err = readCursor(f.Sort, f.After); err != nil {
		return nil, "", err
	}
	return page(f.Limit, func(n int) ([]*Sale, error) {
		f.Limit = n
		return s.store.Sales(ctx, f)
	}, func(s *Sale) string { return makeCursor(f.Sort, s.sortValue(f.Sort.Key), s.ID) })
}

// MoveSale changes the stage of a sale by one legal step.
// Errors: ENOTFOUND, EINVALID, ECONFLICT (CodeInvalidTransition).
func (s *LeadService) MoveSale(ctx context.Context, id string, to SaleStage) (*Sale, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !to.Valid() {
		return nil, Invalid(FieldError{Field: "stage", Message: "must be one of new, kyc, agreement, paid, lost"})
	}
	id = NormalizeID(id)
	if !ValidID(id) {
		return nil, NotFound("sale")
	}
	var out *Sale
	err = s.store.InTx(ctx, func(tx Tx) error {
		sale, err := tx.LockSale(ctx, id)
		if err != nil {
			return err
		}
		if !a.CanSeeOwner(sale.OwnerID) {
			return NotFound("sale")
		}
		if err := sale.Stage.CheckMove(to); err != nil {
			return err
		}
		e := s.event(a, ActionSaleStage, nil)
		e.LeadID, e.SaleID, e.From, e.To = sale.LeadID, sale.ID, string(sale.Stage), string(to)
		hook := func(t string) *WebhookEvent {
			return leadWebhook(t, a, &Lead{ID: sale.LeadID}, sale.ID, string(sale.Stage), string(to), e.CreatedAt)
		}
		hooks := []*WebhookEvent{hook(WebhookSaleStageChanged)}
		switch to {
		case SalePaid:
			hooks = append(hooks, hook(WebhookSalePaid))
		case SaleLost:
			hooks = append(hooks, hook(WebhookSaleLost))
		}
		if err := emitWebhooks(ctx, tx, hooks...); err != nil {
			return err
		}
		sale.Stage, sale.UpdatedAt = to, s.timestamp()
		if err := tx.UpdateSale(ctx, sale); err != nil {
			return err
		}
		out = sale
		if err := tx.InsertEvent(ctx, e); err != nil {
			return err
		}
		if !to.Final() {
			return nil
		}
		// The deal ended: judge the analysis its transfer relied on, and
		// tell the lead's owner.
		l, err := tx.LockLead(ctx, sale.LeadID)
		if err != nil {
			return err
		}
		if err := s.recordOutcome(ctx, tx, l, to == SalePaid); err != nil {
			return err
		}
		kind := NotifySalePaid
		if to == SaleLost {
			kind = NotifySaleLost
		}
		if err := s.notify(ctx, tx, a, sale.OwnerID, kind, l, sale.ID, ""); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Audit returns a page of the whole audit trail, newest first, and the next
// cursor. Errors: EFORBIDDEN for managers.
func (s *LeadService) Audit(ctx context.Context, f EventFilter) ([]*Event, string, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	if !a.Role.SeesAll() {
		return nil, "", Errorf(EFORBIDDEN, CodeForbidden, "only senior managers and admins read the audit trail")
	}
	f.LeadID = ""
	f.ActorID, f.After = NormalizeID(f.ActorID), NormalizeID(f.After)
	if err := checkCursor(f.After); err != nil {
		return nil, "", err
	}
	return page(f.Limit, func(n int) ([]*Event, error) {
		f.Limit = n
		return s.store.Events(ctx, f)
	}, func(e *Event) string { return e.ID })
}
