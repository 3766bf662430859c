package crm

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// PasswordHasher hashes and checks passwords with a slow hash (bcrypt in
// production). Compare returns an error when the password does not match.
type PasswordHasher interface {
	Hash(password string) (string, error)
	Compare(hash, password string) error
}

// Config configures a Service.
type Config struct {
	Store    Store
	Scorer   Scorer
	Hasher   PasswordHasher
	MinScore float64  // transfer threshold; DefaultMinScore when 0
	Domains  []string // business-domain catalog until an admin sets one
	// MaxConcurrentAI caps the AI calls in flight; a burst beyond it waits
	// up to AIQueueWait and then gets 503 instead of piling up.
	MaxConcurrentAI int
	AIQueueWait     time.Duration
	Now             func() time.Time
}

// Service is the one place where the rules of leads, sales and users live. Each
// method takes the acting user from the context (WithActor) and returns
// EUNAUTHORIZED without one.
type Service struct {
	store    Store
	scorer   Scorer
	hasher   PasswordHasher
	minScore float64
	domains  []string
	now      func() time.Time
	aiSlots  chan struct{}
	aiWait   time.Duration
	// dummyHash is compared against when the email is unknown, so that an
	// unknown email and a wrong password take the same time.
	dummyHash func() string
}

// NewService returns a service over cfg.Store.
func NewService(cfg Config) *Service {
	s := &Service{store: cfg.Store, scorer: cfg.Scorer, hasher: cfg.Hasher, minScore: cfg.MinScore,
		domains: cfg.Domains, now: cfg.Now, aiWait: cfg.AIQueueWait}
	if s.minScore == 0 {
		s.minScore = DefaultMinScore
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.MaxConcurrentAI <= 0 {
		cfg.MaxConcurrentAI = 8
	}
	if s.aiWait <= 0 {
		s.aiWait = 2 * time.Second
	}
	s.aiSlots = make(chan struct{}, cfg.MaxConcurrentAI)
	s.dummyHash = sync.OnceValue(func() string {
		h, _ := s.hasher.Hash("not the password of anybody")
		return h
	})
	return s
}

// MinScore returns the transfer threshold in force.
func (s *Service) MinScore() float64 { return s.minScore }

// Store returns the underlying store (for readiness checks).
func (s *Service) Store() Store { return s.store }

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func actor(ctx context.Context) (Actor, error) {
	a, ok := ActorFrom(ctx)
	if !ok {
		return Actor{}, Errorf(EUNAUTHORIZED, CodeUnauthorized, "sign in first")
	}
	return a, nil
}

func (s *Service) event(a Actor, action string, l *Lead) *Event {
	e := &Event{ID: NewID(), Action: action, ActorID: a.UserID, RequestID: a.RequestID, CreatedAt: s.timestamp()}
	if l != nil {
		e.LeadID = l.ID
	}
	return e
}

// page fetches one keyset page: it asks fetch for one row more than the page
// holds, to learn whether a next page exists without a count, and returns the
// last id of the page as the next cursor ("" on the last page).
func page[T any](limit int, fetch func(limit int) ([]T, error), id func(T) string) ([]T, string, error) {
	limit = pageLimit(limit)
	rows, err := fetch(limit + 1)
	if err != nil {
		return nil, "", err
	}
	if len(rows) <= limit {
		return rows, "", nil
	}
	rows = rows[:limit]
	return rows, id(rows[limit-1]), nil
}

func checkCursor(after string) error {
	if after != "" && !ValidID(after) {
		return Invalid(FieldError{Field: "cursor", Message: "is not a cursor this service gave out"})
	}
	return nil
}

func pageLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// ---- leads ----

// CreateLead creates a lead at stage new, owned by in.OwnerID or by the actor.
// Errors: EINVALID, EFORBIDDEN (a manager naming another owner).
func (s *Service) CreateLead(ctx context.Context, in LeadInput) (*Lead, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	domains, err := s.domainsFor(ctx, in.BusinessDomain != "")
	if err != nil {
		return nil, err
	}
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
	l := &Lead{ID: NewID(), Source: in.Source, Stage: LeadNew, BusinessDomain: in.BusinessDomain,
		MessagesCount: in.MessagesCount, Name: in.Name, Email: in.Email, Phone: in.Phone, Company: in.Company,
		Note: in.Note, OwnerID: owner, CreatedAt: now, UpdatedAt: now}
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
		return tx.InsertEvent(ctx, e)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

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
func (s *Service) Lead(ctx context.Context, id string) (*Lead, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !ValidID(id) {
		return nil, NotFound("lead")
	}
	l, err := s.store.Lead(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.CanSeeOwner(l.OwnerID) {
		return nil, NotFound("lead")
	}
	return l, nil
}

// Leads returns a page of the leads the actor may see and the cursor of the
// next page ("" on the last page). A manager only ever sees their own.
func (s *Service) Leads(ctx context.Context, f LeadFilter) ([]*Lead, string, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	if !a.Role.SeesAll() {
		if f.OwnerID != "" && f.OwnerID != a.UserID {
			return []*Lead{}, "", nil
		}
		f.OwnerID = a.UserID
	}
	if err := checkCursor(f.After); err != nil {
		return nil, "", err
	}
	f.Q = strings.TrimSpace(f.Q)
	return page(f.Limit, func(n int) ([]*Lead, error) {
		f.Limit = n
		return s.store.Leads(ctx, f)
	}, func(l *Lead) string { return l.ID })
}

// changeLead runs change on the lead locked in a transaction, after checking the
// actor may see it. change returns the event to record, or nil when nothing
// changed (then nothing is written).
func (s *Service) changeLead(ctx context.Context, id string, change func(tx Tx, a Actor, l *Lead) (*Event, error)) (*Lead, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
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
func (s *Service) UpdateLead(ctx context.Context, id string, u LeadUpdate) (*Lead, error) {
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
			if l.Stage.Final() {
				return nil, Errorf(ECONFLICT, CodeLeadClosed, "the lead is %s; its business domain is frozen", l.Stage)
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
func (s *Service) SetMessages(ctx context.Context, id string, n int) (*Lead, error) {
	if n < 0 || n > MaxMessagesCount {
		return nil, Invalid(FieldError{Field: "messages_count", Message: "must be between 0 and 1000000"})
	}
	return s.changeLead(ctx, id, func(_ Tx, a Actor, l *Lead) (*Event, error) {
		if l.Stage.Final() {
			return nil, Errorf(ECONFLICT, CodeLeadClosed, "the lead is %s; its messages count is frozen", l.Stage)
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
func (s *Service) IncrementMessages(ctx context.Context, id string) (*Lead, error) {
	return s.changeLead(ctx, id, func(_ Tx, a Actor, l *Lead) (*Event, error) {
		if l.Stage.Final() {
			return nil, Errorf(ECONFLICT, CodeLeadClosed, "the lead is %s; its messages count is frozen", l.Stage)
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
func (s *Service) MoveLead(ctx context.Context, id string, to LeadStage) (*Lead, error) {
	if !to.Valid() {
		return nil, Invalid(FieldError{Field: "stage", Message: "must be one of new, contacted, qualified, transferred, lost"})
	}
	return s.changeLead(ctx, id, func(_ Tx, a Actor, l *Lead) (*Event, error) {
		if err := l.Stage.CheckMove(to); err != nil {
			return nil, err
		}
		e := s.event(a, ActionLeadStage, l)
		e.From, e.To = string(l.Stage), string(to)
		l.Stage = to
		return e, nil
	})
}

// TransferCheck returns the unmet conditions of a transfer of the lead (none
// means allowed). Errors: ENOTFOUND.
func (s *Service) TransferCheck(ctx context.Context, id string) ([]string, error) {
	l, err := s.Lead(ctx, id)
	if err != nil {
		return nil, err
	}
	return TransferBlockers(l, s.minScore), nil
}

// Transfer hands the lead to sales: in one transaction it checks every rule on
// the locked row, creates the sale and moves the lead to transferred. Of
// concurrent transfers of one lead exactly one succeeds.
// Errors: ENOTFOUND, ECONFLICT (CodeTransferBlocked with Blockers, CodeLeadClosed).
func (s *Service) Transfer(ctx context.Context, id string) (*Sale, error) {
	var sale *Sale
	_, err := s.changeLead(ctx, id, func(tx Tx, a Actor, l *Lead) (*Event, error) {
		if l.Stage.Final() {
			return nil, Errorf(ECONFLICT, CodeLeadClosed, "the lead is already %s", l.Stage)
		}
		if b := TransferBlockers(l, s.minScore); len(b) > 0 {
			return nil, &Error{Kind: ECONFLICT, Code: CodeTransferBlocked, Blockers: b,
				Message: "the lead cannot be transferred yet: " + strings.Join(b, ", ")}
		}
		now := s.timestamp()
		sale = &Sale{ID: NewID(), LeadID: l.ID, Stage: SaleNew, TransferredBy: a.UserID, OwnerID: l.OwnerID,
			CreatedAt: now, UpdatedAt: now}
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
		l.Stage = LeadTransferred
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return sale, nil
}

// LeadSale returns the sale made from a lead. Errors: ENOTFOUND.
func (s *Service) LeadSale(ctx context.Context, leadID string) (*Sale, error) {
	if _, err := s.Lead(ctx, leadID); err != nil {
		return nil, err
	}
	return s.store.SaleByLead(ctx, leadID)
}

// MaxTrail bounds the events returned for one lead.
const MaxTrail = 1000

// LeadEvents returns the audit trail of a lead and its sale, oldest first.
// Errors: ENOTFOUND.
func (s *Service) LeadEvents(ctx context.Context, leadID string) ([]*Event, error) {
	if _, err := s.Lead(ctx, leadID); err != nil {
		return nil, err
	}
	return s.store.Events(ctx, EventFilter{LeadID: leadID, Limit: MaxTrail})
}

// ---- AI ----

// Analyze asks the scorer for an opinion on the lead's four facts and stores
// it on the lead. No transaction is open during the call; the result is stored
// with the facts that were sent, so a change made meanwhile makes it stale
// rather than wrong. Every call, failed or not, is logged.
// Errors: ENOTFOUND, ECONFLICT (CodeLeadClosed), EBADGATEWAY, EUNAVAILABLE.
func (s *Service) Analyze(ctx context.Context, id string) (*LeadAnalysis, error) {
	l, err := s.Lead(ctx, id)
	if err != nil {
		return nil, err
	}
	a, _ := ActorFrom(ctx)
	if l.Stage.Final() {
		return nil, Errorf(ECONFLICT, CodeLeadClosed, "the lead is %s; it cannot be analyzed again", l.Stage)
	}
	if s.scorer == nil {
		return nil, Unavailable(CodeAIUnavailable, "no AI provider is configured", 0, nil)
	}
	if err := s.acquireAI(ctx); err != nil {
		return nil, err
	}
	facts := l.Facts()
	score, call, scoreErr := s.scorer.Score(ctx, facts)
	<-s.aiSlots

	now := s.timestamp()
	rec := &AnalysisRecord{ID: NewID(), LeadID: l.ID, ActorID: a.UserID, Facts: facts, Provider: call.Provider,
		Model: call.Model, PromptVersion: call.PromptVersion, RawOutput: call.RawOutput,
		InputTokens: call.InputTokens, OutputTokens: call.OutputTokens, LatencyMS: call.Latency.Milliseconds(),
		CostUSD: call.CostUSD, CreatedAt: now}
	if scoreErr != nil {
		var e *Error
		if !errors.As(scoreErr, &e) {
			e = &Error{Kind: EBADGATEWAY, Code: CodeAIBadAnswer, Message: "the AI provider failed", Cause: scoreErr}
		}
		rec.ErrorCode, rec.ErrorMessage = e.Code, e.Error()
		// The log row is best effort: the client needs the AI's error, not ours.
		// Detached from the request: a client that gave up still leaves a row.
		logCtx := context.WithoutCancel(ctx)
		_ = s.store.InTx(logCtx, func(tx Tx) error { return tx.InsertAnalysis(logCtx, rec) })
		return nil, e
	}
	sc := score.Score
	rec.Score, rec.Recommendation, rec.Reason = &sc, score.Recommendation, score.Reason
	result := &LeadAnalysis{Score: score.Score, Recommendation: score.Recommendation, Reason: score.Reason,
		AnalyzedAt: now, Provider: call.Provider, Model: call.Model, PromptVersion: call.PromptVersion, Facts: facts}
	closed := false
	// The answer is paid for: store it even if the client has gone meanwhile.
	storeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err = s.changeLead(storeCtx, id, func(tx Tx, a Actor, l *Lead) (*Event, error) {
		if err := tx.InsertAnalysis(storeCtx, rec); err != nil {
			return nil, err
		}
		if l.Stage.Final() { // closed while the AI was thinking: log it, keep the lead as it is
			closed = true
			return nil, nil
		}
		l.AI = result
		e := s.event(a, ActionLeadAnalyzed, l)
		e.Data = map[string]any{"score": score.Score, "recommendation": string(score.Recommendation),
			"provider": call.Provider, "model": call.Model, "prompt_version": call.PromptVersion, "analysis_id": rec.ID}
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	if closed {
		return nil, Errorf(ECONFLICT, CodeLeadClosed, "the lead was closed while it was being analyzed")
	}
	return result, nil
}

func (s *Service) acquireAI(ctx context.Context) error {
	select {
	case s.aiSlots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(s.aiWait)
	defer t.Stop()
	select {
	case s.aiSlots <- struct{}{}:
		return nil
	case <-t.C:
		return Unavailable(CodeAIUnavailable, "too many analyses are running; try again shortly", 2*time.Second, nil)
	case <-ctx.Done():
		return Unavailable(CodeAIUnavailable, "the request ended while waiting for the AI", 0, ctx.Err())
	}
}

// Analyses returns the analysis log of a lead, newest first. Errors: ENOTFOUND.
func (s *Service) Analyses(ctx context.Context, leadID string) ([]*AnalysisRecord, error) {
	if _, err := s.Lead(ctx, leadID); err != nil {
		return nil, err
	}
	return s.store.Analyses(ctx, leadID, MaxTrail)
}

// ---- sales ----

// Sale returns a sale the actor may see. Errors: ENOTFOUND.
func (s *Service) Sale(ctx context.Context, id string) (*Sale, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !ValidID(id) {
		return nil, NotFound("sale")
	}
	sale, err := s.store.Sale(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.CanSeeOwner(sale.OwnerID) {
		return nil, NotFound("sale")
	}
	return sale, nil
}

// Sales returns a page of the sales the actor may see and the next cursor.
func (s *Service) Sales(ctx context.Context, f SaleFilter) ([]*Sale, string, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	if !a.Role.SeesAll() {
		if f.OwnerID != "" && f.OwnerID != a.UserID {
			return []*Sale{}, "", nil
		}
		f.OwnerID = a.UserID
	}
	if err := checkCursor(f.After); err != nil {
		return nil, "", err
	}
	return page(f.Limit, func(n int) ([]*Sale, error) {
		f.Limit = n
		return s.store.Sales(ctx, f)
	}, func(s *Sale) string { return s.ID })
}

// MoveSale changes the stage of a sale by one legal step.
// Errors: ENOTFOUND, EINVALID, ECONFLICT (CodeInvalidTransition).
func (s *Service) MoveSale(ctx context.Context, id string, to SaleStage) (*Sale, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !to.Valid() {
		return nil, Invalid(FieldError{Field: "stage", Message: "must be one of new, kyc, agreement, paid, lost"})
	}
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
		sale.Stage, sale.UpdatedAt = to, s.timestamp()
		if err := tx.UpdateSale(ctx, sale); err != nil {
			return err
		}
		out = sale
		return tx.InsertEvent(ctx, e)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Audit returns a page of the whole audit trail, newest first, and the next
// cursor. Errors: EFORBIDDEN for managers.
func (s *Service) Audit(ctx context.Context, f EventFilter) ([]*Event, string, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	if !a.Role.SeesAll() {
		return nil, "", Errorf(EFORBIDDEN, CodeForbidden, "only senior managers and admins read the audit trail")
	}
	if err := checkCursor(f.After); err != nil {
		return nil, "", err
	}
	f.LeadID = ""
	return page(f.Limit, func(n int) ([]*Event, error) {
		f.Limit = n
		return s.store.Events(ctx, f)
	}, func(e *Event) string { return e.ID })
}
