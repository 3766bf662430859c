package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/google/go-cmp/cmp"
)

// Domains is the business-domain catalog of the service under test.
var Domains = []string{"first", "second", "third"}

// Run runs the conformance suite. open must return a fresh, migrated store
// for each call and close it when the test ends.
func Run(t *testing.T, open func(t *testing.T) crm.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"LeadStages", leadStageTests},
		{"SaleStages", saleStageTests},
		{"Transfer", transferTests},
		{"Store", storeTests},
		{"Users", userTests},
		{"Visibility", visibilityTests},
		{"Races", raceTests},
		{"Schema", schemaTests},
		{"Settings", settingTests},
		{"AICap", append(aiCapTests, aiCapLeaseTests...)},
		{"Feedback", feedbackTests},
		{"Errors", errorTests},
		{"Pipeline", pipelineTests},
		{"Jobs", jobTests},
		{"Webhooks", webhookTests},
		{"Hostile", hostileTests},
		{"Limits", limitTests},
		{"Property", propertyTests},
		{"Summary", summaryTests},
		{"Imports", importTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					tt.fn(t, setup(t, open))
				})
			}
		})
	}
}

type test struct {
	name string
	fn   func(t *testing.T, b *bundle)
}

// bundle is what every subtest starts from: a fresh store, the service over
// it, the test doubles and four users.
type bundle struct {
	st     crm.Store
	svc    *crm.Services
	scorer *Scorer
	clock  *Clock
	sender *Sender

	admin, senior, mgr, mgr2 *crm.User
}

// Start is the clock's first reading. Its zone is not UTC and it has
// nanoseconds, so a store that keeps the zone or more than microseconds of a
// time shows up in the round-trip comparisons.
var Start = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("EET", 2*60*60))

func setup(t *testing.T, open func(t *testing.T) crm.Store) *bundle {
	t.Helper()
	st := open(t)
	b := &bundle{st: st, scorer: NewScorer(), clock: NewClock(Start), sender: &Sender{}}
	b.svc = crm.NewServices(crm.Config{Store: st, Scorer: b.scorer, Hasher: Hasher{}, Domains: Domains, Now: b.clock.Now,
		Webhooks: crm.WebhookConfig{Sender: b.sender, Schedule: TestSchedule, Rand: func() float64 { return 0.5 }}})
	sys := crm.WithActor(context.Background(), crm.System)
	mk := func(email string, role crm.Role) *crm.User {
		u, err := b.svc.Users.CreateUser(sys, crm.UserInput{Email: email, Name: string(role) + " " + email, Role: role, Password: "password-" + email})
		if err != nil {
			t.Fatalf("CreateUser(%s): %v", email, err)
		}
		// The service never hands out the hash; the suite compares stored rows.
		stored, err := st.User(context.Background(), u.ID)
		if err != nil {
			t.Fatalf("User(%s): %v", email, err)
		}
		return stored
	}
	b.admin = mk("admin@example.com", crm.RoleAdmin)
	b.senior = mk("senior@example.com", crm.RoleSeniorManager)
	b.mgr = mk("manager@example.com", crm.RoleManager)
	b.mgr2 = mk("manager2@example.com", crm.RoleManager)
	return b
}

// as returns a context acting as u.
func as(u *crm.User) context.Context {
	return crm.WithActor(context.Background(), crm.Actor{UserID: u.ID, Role: u.Role, RequestID: "req-" + u.Email})
}

// sys returns a context acting as the system.
func sys() context.Context { return crm.WithActor(context.Background(), crm.System) }

// ---- test doubles ----

// Scorer is a crm.Scorer returning a programmable answer. It records the facts
// it was asked about.
type Scorer struct {
	mu    sync.Mutex
	score crm.Score
	err   error
	facts []crm.Facts
}

// TestCall is what the Scorer reports about each call.
var TestCall = crm.Call{Provider: "test", Model: "test-model-1", PromptVersion: "v-test", RawOutput: `{"ok":true}`,
	InputTokens: 42, OutputTokens: 7, Latency: 1234 * time.Millisecond, CostUSD: 0.000125}

// NewScorer returns a Scorer answering 0.8, transfer_to_sales.
func NewScorer() *Scorer {
	return &Scorer{score: crm.Score{Score: 0.8, Recommendation: crm.RecommendTransfer, Reason: "looks good"}}
}

// Set programs the next answers.
func (s *Scorer) Set(score float64, rec crm.Recommendation, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.score, s.err = crm.Score{Score: score, Recommendation: rec, Reason: reason}, nil
}

// Fail makes the next calls fail with err.
func (s *Scorer) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// Calls returns the facts of every call so far.
func (s *Scorer) Calls() []crm.Facts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.facts)
}

// Score implements crm.Scorer.
func (s *Scorer) Score(_ context.Context, f crm.Facts) (crm.Score, crm.Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.facts = append(s.facts, f)
	if s.err != nil {
		return crm.Score{}, TestCall, s.err
	}
	return s.score, TestCall, nil
}

// Hasher is a cheap crm.PasswordHasher: fine for a store suite, never for production.
type Hasher struct{}

// Hash implements crm.PasswordHasher.
func (Hasher) Hash(pw string) (string, error) { return "h:" + pw, nil }

// Compare implements crm.PasswordHasher.
func (Hasher) Compare(hash, pw string) error {
	if hash != "h:"+pw {
		return errors.New("password mismatch")
	}
	return nil
}

// gate is a PasswordHasher that counts its comparisons and holds each one
// until every caller of a burst of n has either returned or reached a
// comparison: the burst is then truly parallel however fast the machine, and
// a throttle that lets too many through shows up as too many comparisons.
type gate struct {
	Hasher
	n       int
	entered chan struct{} // one value per comparison begun

	mu       sync.Mutex
	compares int
	settled  int
	open     chan struct{}
}

func newGate(n int) *gate {
	return &gate{n: n, entered: make(chan struct{}, n), open: make(chan struct{})}
}

// settle notes that one caller has returned or is comparing; the last of n
// opens the gate. After that, nothing waits any more.
func (g *gate) settle() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.settled < g.n {
		g.settled++
		if g.settled == g.n {
			close(g.open)
		}
	}
}

// Compare implements crm.PasswordHasher.
func (g *gate) Compare(hash, pw string) error {
	g.mu.Lock()
	g.compares++
	g.mu.Unlock()
	g.entered <- struct{}{}
	g.settle()
	<-g.open
	return g.Hasher.Compare(hash, pw)
}

// usersWith returns a user service over the bundle's store checking
// passwords with h.
func (b *bundle) usersWith(h crm.PasswordHasher) *crm.UserService {
	return crm.NewServices(crm.Config{Store: b.st, Scorer: b.scorer, Hasher: h, Domains: Domains, Now: b.clock.Now}).Users
}

// attempts returns the sign-in attempts at email since the given time.
func (b *bundle) attempts(t *testing.T, email string, since time.Time) []*crm.LoginAttempt {
	t.Helper()
	var out []*crm.LoginAttempt
	must(t, b.st.InTx(context.Background(), func(tx crm.Tx) error {
		var err error
		out, err = tx.LockLoginAttempts(context.Background(), email, since)
		return err
	}))
	return out
}

// kinds counts the errors by kind ("ok" for nil).
func kinds(errs []error) map[string]int {
	m := map[string]int{}
	for _, err := range errs {
		if err == nil {
			m["ok"]++
		} else {
			m[crm.ErrorKind(err)]++
		}
	}
	return m
}

// Clock is a settable clock. Every reading advances it by one second, so the
// service's timestamps are distinct and ordered however fast the store is.
type Clock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration // 0: a second
}

// SetStep sets how far each reading advances the clock (a second unless
// set): a burst of a hundred requests arriving together takes a hundred
// readings, which must not span the 30 s sign-in lockout.
func (c *Clock) SetStep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.step = d
}

// NewClock returns a clock starting at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the current reading and advances the clock by a second.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	if c.step > 0 {
		c.t = c.t.Add(c.step)
	} else {
		c.t = c.t.Add(time.Second)
	}
	return t
}

// Peek returns the next reading without advancing the clock.
func (c *Clock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ---- assertions ----

// wantErr fails unless err is a *crm.Error of the kind and (when code is not
// "") the code.
func wantErr(t *testing.T, err error, kind, code string) *crm.Error {
	t.Helper()
	var e *crm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *crm.Error of kind %s code %q", err, err, kind, code)
	}
	if e.Kind != kind || (code != "" && e.Code != code) {
		t.Fatalf("error = %v: kind %s code %s, want kind %s code %q", err, e.Kind, e.Code, kind, code)
	}
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func diff(t *testing.T, what string, want, got any, opts ...cmp.Option) {
	t.Helper()
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// wantUTC fails unless tm is in UTC with no precision beyond microseconds.
func wantUTC(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.Location() != time.UTC {
		t.Errorf("%s = %v: location %q, want UTC", what, tm, tm.Location())
	}
	if tm.Nanosecond()%1000 != 0 {
		t.Errorf("%s = %v: has nanoseconds, want microsecond precision", what, tm)
	}
	if tm.IsZero() {
		t.Errorf("%s is zero", what)
	}
}

// ---- builders ----

// newLead creates a lead as ctx's actor.
func (b *bundle) newLead(t *testing.T, ctx context.Context, in crm.LeadInput) *crm.Lead {
	t.Helper()
	if in.Source == "" {
		in.Source = crm.SourceManual
	}
	l, err := b.svc.Leads.CreateLead(ctx, in)
	if err != nil {
		t.Fatalf("CreateLead: %v", err)
	}
	return l
}

// leadAt creates a lead of mgr with a business domain and moves it to stage
// by legal steps (lost from new; transferred by a real transfer).
func (b *bundle) leadAt(t *testing.T, stage crm.LeadStage) *crm.Lead {
	t.Helper()
	return b.leadOf(t, b.mgr, stage)
}

// leadOf is leadAt for a lead created by (and owned by) u.
func (b *bundle) leadOf(t *testing.T, u *crm.User, stage crm.LeadStage) *crm.Lead {
	t.Helper()
	ctx := as(u)
	l := b.newLead(t, ctx, crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "first", MessagesCount: 3})
	var path []crm.LeadStage
	switch stage {
	case crm.LeadNew:
	case crm.LeadContacted:
		path = []crm.LeadStage{crm.LeadContacted}
	case crm.LeadQualified:
		path = []crm.LeadStage{crm.LeadContacted, crm.LeadQualified}
	case crm.LeadLost:
		path = []crm.LeadStage{crm.LeadLost}
	case crm.LeadTransferred:
		return b.transferred(t, ctx, l)
	default:
		t.Fatalf("leadAt(%s)", stage)
	}
	for _, s := range path {
		var err error
		if l, err = b.svc.Leads.MoveLead(ctx, l.ID, s); err != nil {
			t.Fatalf("MoveLead(%s): %v", s, err)
		}
	}
	return l
}

// eligible returns a qualified, analyzed lead of mgr that may be transferred.
func (b *bundle) eligible(t *testing.T) *crm.Lead {
	t.Helper()
	return b.eligibleOf(t, b.mgr)
}

// eligibleOf is eligible for a lead of u.
func (b *bundle) eligibleOf(t *testing.T, u *crm.User) *crm.Lead {
	t.Helper()
	l := b.leadOf(t, u, crm.LeadQualified)
	b.analyze(t, as(u), l.ID, 0.8, crm.RecommendTransfer)
	return b.lead(t, l.ID)
}

// transferred qualifies, analyzes and transfers l (a new lead with a domain).
func (b *bundle) transferred(t *testing.T, ctx context.Context, l *crm.Lead) *crm.Lead {
	t.Helper()
	for _, s := range []crm.LeadStage{crm.LeadContacted, crm.LeadQualified} {
		if _, err := b.svc.Leads.MoveLead(ctx, l.ID, s); err != nil {
			t.Fatalf("MoveLead(%s): %v", s, err)
		}
	}
	b.analyze(t, ctx, l.ID, 0.8, crm.RecommendTransfer)
	if _, err := b.svc.Leads.Transfer(ctx, l.ID); err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	return b.lead(t, l.ID)
}

// sale returns a sale of mgr at the stage, reached by legal steps.
func (b *bundle) saleAt(t *testing.T, stage crm.SaleStage) *crm.Sale {
	t.Helper()
	return b.saleOf(t, b.mgr, stage)
}

// saleOf is saleAt for a sale of u.
func (b *bundle) saleOf(t *testing.T, u *crm.User, stage crm.SaleStage) *crm.Sale {
	t.Helper()
	ctx := as(u)
	l := b.eligibleOf(t, u)
	s, err := b.svc.Leads.Transfer(ctx, l.ID)
	if err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	var path []crm.SaleStage
	switch stage {
	case crm.SaleNew:
	case crm.SaleKYC:
		path = []crm.SaleStage{crm.SaleKYC}
	case crm.SaleAgreement:
		path = []crm.SaleStage{crm.SaleKYC, crm.SaleAgreement}
	case crm.SalePaid:
		path = []crm.SaleStage{crm.SaleKYC, crm.SaleAgreement, crm.SalePaid}
	case crm.SaleLost:
		path = []crm.SaleStage{crm.SaleLost}
	default:
		t.Fatalf("saleAt(%s)", stage)
	}
	for _, st := range path {
		if s, err = b.svc.Leads.MoveSale(ctx, s.ID, st); err != nil {
			t.Fatalf("MoveSale(%s): %v", st, err)
		}
	}
	return s
}

func (b *bundle) analyze(t *testing.T, ctx context.Context, id string, score float64, rec crm.Recommendation) *crm.LeadAnalysis {
	t.Helper()
	b.scorer.Set(score, rec, fmt.Sprintf("score %v", score))
	a, err := b.svc.Analyses.Analyze(ctx, id)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	return a
}

// lead reads a lead straight from the store.
func (b *bundle) lead(t *testing.T, id string) *crm.Lead {
	t.Helper()
	l, err := b.st.Lead(context.Background(), id)
	if err != nil {
		t.Fatalf("store.Lead(%s): %v", id, err)
	}
	return l
}

// trail returns the actions of a lead's audit trail, oldest first.
func (b *bundle) trail(t *testing.T, id string) []*crm.Event {
	t.Helper()
	ev, err := b.st.Events(context.Background(), crm.EventFilter{LeadID: id, Limit: crm.MaxTrail})
	if err != nil {
		t.Fatalf("store.Events: %v", err)
	}
	return ev
}

// byTime returns the events sorted by CreatedAt. The test clock is read
// under the row lock, so on one lead this is the order the changes committed
// in, whatever order the store lists them in.
func byTime(ev []*crm.Event) []*crm.Event {
	out := slices.Clone(ev)
	slices.SortStableFunc(out, func(a, b *crm.Event) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// added returns the events of after that are not in before.
func added(before, after []*crm.Event) []*crm.Event {
	seen := map[string]bool{}
	for _, e := range before {
		seen[e.ID] = true
	}
	var out []*crm.Event
	for _, e := range after {
		if !seen[e.ID] {
			out = append(out, e)
		}
	}
	return out
}

// only returns the events with the action.
func only(ev []*crm.Event, action string) []*crm.Event {
	var out []*crm.Event
	for _, e := range ev {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// requireIDsMonotonic fails unless crm.NewID is strictly increasing: both
// stores list events and analyses in id order, so a lead's trail, the audit
// list and the analysis log are in creation order only if ids are.
func requireIDsMonotonic(t *testing.T) {
	t.Helper()
	prev := crm.NewID()
	for range 10000 {
		id := crm.NewID()
		if id <= prev {
			t.Fatalf("crm.NewID is not monotonic (%s then %s): lists ordered by id would be out of creation order", prev, id)
		}
		prev = id
	}
}

func actions(ev []*crm.Event) []string {
	out := make([]string, len(ev))
	for i, e := range ev {
		out[i] = e.Action
	}
	return out
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func leadID(l *crm.Lead) string { return l.ID }
func saleID(s *crm.Sale) string { return s.ID }
func eventID(e *crm.Event) string {
	return e.ID
}

// parallel runs fn n times at once and returns the errors, in call order.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}
