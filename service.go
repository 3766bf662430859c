package crm

import (
	"context"
	"sync"
	"time"
)

// PasswordHasher hashes and checks passwords with a slow hash (bcrypt in
// production). Compare returns an error when the password does not match.
type PasswordHasher interface {
	Hash(password string) (string, error)
	Compare(hash, password string) error
}

// Config configures the services of one process (NewServices).
type Config struct {
	Store    Store
	Scorer   Scorer
	Hasher   PasswordHasher
	MinScore float64  // transfer threshold; DefaultMinScore when 0
	Domains  []string // business-domain catalog until an admin sets one
	// MaxConcurrentAI caps the AI calls in flight across every process on
	// the database (leased slots in the store; give every replica the same
	// cap); a burst beyond it waits up to AIQueueWait and then gets 503
	// instead of piling up. A slot's lease lasts AILease (default 2 min,
	// longer than an AI call's own bound), so a crashed process's slot
	// comes back.
	MaxConcurrentAI int
	AIQueueWait     time.Duration
	AILease         time.Duration
	// MonthlyBudgetUSD pauses batch work once the calendar month's AI calls
	// cost this much (0 = no budget); single analyses still run.
	MonthlyBudgetUSD float64
	// Batches, when set, runs batch re-analyses (StartBatch), polled every
	// BatchPollInterval (DefaultBatchPollInterval when 0).
	Batches           BatchScorer
	BatchPollInterval time.Duration
	// Webhooks configures webhook deliveries (the sender, the schedule).
	Webhooks WebhookConfig
	// RateLimit is the requests per minute one user, or one client address,
	// may make (LimitService.Allow); 0 turns the limit off.
	RateLimit int
	// AIDailyQuota is the AI analyses one user may ask for per UTC day; 0
	// turns the quota off.
	AIDailyQuota int
	// ImportSlice bounds one run of an import job (DefaultImportSlice
	// when 0; negative: one batch per run, as tests want).
	ImportSlice time.Duration
	Now         func() time.Time
}

// Services are the three services of the domain, split where their
// dependencies part: users and sign-in (the password hasher), leads and sales
// (the rules of the two pipelines), and AI analyses (the scorer and its
// in-flight limit). Each method takes the acting user from the context
// (WithActor) and returns EUNAUTHORIZED without one.
type Services struct {
	Users    *UserService
	Leads    *LeadService
	Analyses *AnalysisService
	Webhooks *WebhookService
	Limits   *LimitService
	Imports  *ImportService
	store    Store
}

// NewServices wires the three services over cfg.Store.
func NewServices(cfg Config) *Services {
	b := base{store: cfg.Store, now: cfg.Now}
	if b.now == nil {
		b.now = time.Now
	}
	leads := &LeadService{base: b, minScore: cfg.MinScore, domains: cfg.Domains}
	if leads.minScore == 0 {
		leads.minScore = DefaultMinScore
	}
	limits := &LimitService{base: b, perMinute: cfg.RateLimit, dailyQuota: cfg.AIDailyQuota}
	analyses := newAnalysisService(leads, cfg)
	analyses.limits = limits
	return &Services{
		Users:    newUserService(b, cfg.Hasher),
		Leads:    leads,
		Analyses: analyses,
		Webhooks: newWebhookService(b, cfg.Webhooks),
		Limits:   limits,
		Imports:  &ImportService{base: b, leads: leads, slice: cfg.ImportSlice},
		store:    cfg.Store,
	}
}

// Ping checks that the database answers and its migrations are applied (for
// the readiness probe).
func (s *Services) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// base is what every service holds: the store and the clock.
type base struct {
	store Store
	now   func() time.Time
}

func (b base) timestamp() time.Time { return b.now().UTC().Truncate(time.Microsecond) }

func (b base) event(a Actor, action string, l *Lead) *Event {
	e := &Event{ID: NewID(), Action: action, ActorID: a.UserID, RequestID: a.RequestID, CreatedAt: b.timestamp()}
	if l != nil {
		e.LeadID = l.ID
	}
	return e
}

// LeadService holds the rules of leads and sales: stages, edits, the transfer,
// the audit trail and the business-domain catalog.
type LeadService struct {
	base
	minScore float64
	domains  []string
}

// MinScore returns the transfer threshold in force.
func (s *LeadService) MinScore() float64 { return s.minScore }

// UserService holds users and sign-in; no password hash leaves it.
type UserService struct {
	base
	hasher PasswordHasher
	// dummyHash is compared against when the email is unknown, so that an
	// unknown email and a wrong password take the same time.
	dummyHash func() string
}

// newUserService returns the user service over b's store.
func newUserService(b base, hasher PasswordHasher) *UserService {
	s := &UserService{base: b, hasher: hasher}
	s.dummyHash = sync.OnceValue(func() string {
		h, _ := s.hasher.Hash("not the password of anybody")
		return h
	})
	return s
}

// AnalysisService asks the AI for its opinion on leads, at most a fixed number
// of calls at a time.
type AnalysisService struct {
	base
	leads   *LeadService
	scorer  Scorer
	aiMax   int
	aiWait  time.Duration
	aiLease time.Duration

	monthlyBudget float64
	limits        *LimitService // the daily quota of analyses per user
	batches       BatchScorer
	batchPoll     time.Duration
}

func newAnalysisService(leads *LeadService, cfg Config) *AnalysisService {
	maxInFlight, wait, poll, lease := cfg.MaxConcurrentAI, cfg.AIQueueWait, cfg.BatchPollInterval, cfg.AILease
	if maxInFlight <= 0 {
		maxInFlight = 8
	}
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	if wait <= 0 {
		wait = 2 * time.Second
	}
	if poll <= 0 {
		poll = DefaultBatchPollInterval
	}
	return &AnalysisService{base: leads.base, leads: leads, scorer: cfg.Scorer,
		aiMax: maxInFlight, aiWait: wait, aiLease: lease, monthlyBudget: cfg.MonthlyBudgetUSD,
		batches: cfg.Batches, batchPoll: poll}
}

// ownerScope returns the owner filter a list is limited to for actor a, given
// the one asked for: a manager sees only their own rows (asking for another's
// matches nothing: ok is false), senior managers and admins what they asked.
func ownerScope(a Actor, asked string) (owner string, ok bool) {
	asked = NormalizeID(asked)
	if a.Role.SeesAll() {
		return asked, true
	}
	if asked != "" && asked != a.UserID {
		return "", false
	}
	return a.UserID, true
}

func actor(ctx context.Context) (Actor, error) {
	a, ok := ActorFrom(ctx)
	if !ok {
		return Actor{}, Errorf(EUNAUTHORIZED, CodeUnauthorized, "sign in first")
	}
	return a, nil
}

// page fetches one keyset page: it asks fetch for one row more than the page
// holds, to learn whether a next page exists without a count, and returns the
// cursor of the page's last row as the next cursor ("" on the last page).
func page[T any](limit int, fetch func(limit int) ([]T, error), cursorOf func(T) string) ([]T, string, error) {
	limit = pageLimit(limit)
	rows, err := fetch(limit + 1)
	if err != nil {
		return nil, "", err
	}
	if len(rows) <= limit {
		return rows, "", nil
	}
	rows = rows[:limit]
	return rows, cursorOf(rows[limit-1]), nil
}

// checkCursor checks the cursor of a list ordered by id alone.
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
