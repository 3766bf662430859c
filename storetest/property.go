package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/crmleads/crm"
	"github.com/google/go-cmp/cmp"
)

// propertyTests run random sequences of legal and illegal operations by
// several actors against the service over a real store, and check after every
// step that the invariants of DESIGN §2 hold (issue 13 §3). The test keeps its
// own model of every lead and predicts from it, with its own copy of the
// state machines and transfer conditions (never the production rule
// functions), whether each operation is legal and which error an illegal one
// gets; a disagreement is a failure.
//
// The seed is random on each run and printed on failure; CRM_PROPERTY_SEED
// replays one.
var propertyTests = []test{
	{"RandomOperations", func(t *testing.T, b *bundle) {
		newProperty(t, b).run(propertySteps, propertyWorkers, propertyWorkerSteps)
	}},
}

// The sizes keep the test under a few seconds per store with -race: enough
// steps to reach every stage of both machines many times over.
const (
	propertySteps       = 400 // sequential steps, half before and half after the concurrent phase
	propertyWorkers     = 4
	propertyWorkerSteps = 30
	propertyCheckEvery  = 40 // full check of every lead and list every this many steps
)

// The test's own copy of the rules (DESIGN §2), deliberately not crm's.
var (
	modelLeadMoves = map[crm.LeadStage][]crm.LeadStage{
		crm.LeadNew:       {crm.LeadContacted, crm.LeadLost},
		crm.LeadContacted: {crm.LeadQualified, crm.LeadLost},
		crm.LeadQualified: {crm.LeadLost},
	}
	modelSaleMoves = map[crm.SaleStage][]crm.SaleStage{
		crm.SaleNew:       {crm.SaleKYC, crm.SaleLost},
		crm.SaleKYC:       {crm.SaleAgreement, crm.SaleLost},
		crm.SaleAgreement: {crm.SalePaid, crm.SaleLost},
	}
	modelMinScore = 0.6
)

func modelLeadFinal(s crm.LeadStage) bool { return s == crm.LeadTransferred || s == crm.LeadLost }

// propScorer is a deterministic scorer: its answer is a function of the
// facts alone, so the model can predict it. Its scores step by 0.05 from
// 0.32 and so never land on the 0.6 threshold itself; some facts make it fail
// as a bad AI answer would.
type propScorer struct{}

func propScore(f crm.Facts) (float64, bool) {
	if f.MessagesCount%9 == 4 {
		return 0, false
	}
	s := 0.32 + 0.05*float64(f.MessagesCount%10)
	if f.HasBusinessDomain {
		s += 0.1
	}
	if f.Stage == crm.LeadQualified {
		s += 0.1
	}
	return min(s, 0.97), true
}

func (propScorer) Score(_ context.Context, f crm.Facts) (crm.Score, crm.Call, error) {
	s, ok := propScore(f)
	if !ok {
		return crm.Score{}, TestCall, &crm.Error{Kind: crm.EBADGATEWAY, Code: crm.CodeAIBadAnswer, Message: "the fake AI answered badly"}
	}
	rec := crm.RecommendNurture
	if s >= modelMinScore {
		rec = crm.RecommendTransfer
	}
	// The reason is untrusted text as far as the service knows.
	return crm.Score{Score: s, Recommendation: rec, Reason: fmt.Sprintf(`<b>"%d msgs"</b>`, f.MessagesCount)}, TestCall, nil
}

// mLead is the model of one lead (and its sale).
type mLead struct {
	id                  string
	source              crm.Source
	stage               crm.LeadStage
	domain              string
	messages            int
	owner, name         string
	initDomain          string // as created, where the trail's replay starts
	initMessages        int
	initOwner, initName string
	analyzed            bool
	aiFacts             crm.Facts
	aiScore             float64
	saleID              string
	saleStage           crm.SaleStage
	frozen              *crm.Lead // the row when it closed: its AI facts never change again
}

func (m *mLead) facts() crm.Facts {
	return crm.Facts{Source: m.source, Stage: m.stage, MessagesCount: m.messages, HasBusinessDomain: m.domain != ""}
}

// transferBlocked is the model's own reading of the five conditions.
func (m *mLead) transferBlocked() bool {
	return m.stage != crm.LeadQualified || m.domain == "" || !m.analyzed || m.aiFacts != m.facts() ||
		m.aiScore < modelMinScore
}

type property struct {
	t     *testing.T
	b     *bundle
	svc   *crm.Services
	rng   *rand.Rand
	users []*crm.User
	leads []*mLead
	byID  map[string]*mLead
	hist  []string // the last operations, printed on failure
	step  int
	names int
	stats map[string]int // outcomes by operation, logged so a run shows what it reached
}

func newProperty(t *testing.T, b *bundle) *property {
	seed := rand.Uint64()
	if s := os.Getenv("CRM_PROPERTY_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("CRM_PROPERTY_SEED=%q: %v", s, err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("property seed %d: rerun with CRM_PROPERTY_SEED=%d go test -run '%s' ./sqlite ./postgres", seed, seed, t.Name())
		}
	})
	svc := crm.NewServices(crm.Config{Store: b.st, Scorer: propScorer{}, Hasher: Hasher{}, Domains: Domains, Now: b.clock.Now,
		Webhooks: crm.WebhookConfig{Sender: b.sender, Schedule: TestSchedule, Rand: func() float64 { return 0.5 }}})
	return &property{t: t, b: b, svc: svc, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		users: []*crm.User{b.mgr, b.mgr2, b.senior, b.admin}, byID: map[string]*mLead{}, stats: map[string]int{}}
}

func (p *property) fatalf(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("step %d: %s\nlast operations:\n  %s", p.step, fmt.Sprintf(format, args...), strings.Join(p.hist, "\n  "))
}

func (p *property) note(format string, args ...any) {
	p.hist = append(p.hist, fmt.Sprintf("%d: ", p.step)+fmt.Sprintf(format, args...))
	if len(p.hist) > 25 {
		p.hist = p.hist[1:]
	}
}

func (p *property) run(steps, workers, workerSteps int) {
	for range 6 {
		p.createLead(p.b.senior) // a few leads for everybody to start with
	}
	for p.step = 1; p.step <= steps/2; p.step++ {
		p.randomStep()
		if p.step%propertyCheckEvery == 0 {
			p.checkAll()
		}
	}
	p.checkAll()
	p.concurrent(workers, workerSteps)
	defer func() { p.t.Logf("outcomes: %v", p.stats) }()
	for ; p.step <= steps; p.step++ {
		p.randomStep()
		if p.step%propertyCheckEvery == 0 {
			p.checkAll()
		}
	}
	p.checkAll()
}

func (p *property) pickUser() *crm.User { return p.users[p.rng.IntN(len(p.users))] }

func (p *property) pickLead() *mLead {
	// Recent leads more often: they are the ones still moving.
	n := len(p.leads)
	if p.rng.IntN(2) == 0 && n > 8 {
		return p.leads[n-1-p.rng.IntN(8)]
	}
	return p.leads[p.rng.IntN(n)]
}

func sees(u *crm.User, owner string) bool { return u.Role.SeesAll() || u.ID == owner }

// expect is the model's prediction: "" for success, else an error kind.
type expect = string

const ok expect = ""

// randomStep runs one random operation, legal or not, and checks it.
func (p *property) randomStep() {
	u := p.pickUser()
	if len(p.leads) == 0 || p.rng.IntN(12) == 0 {
		p.createLead(u)
		return
	}
	m := p.pickLead()
	if !sees(u, m.owner) && p.rng.IntN(2) == 0 {
		u = p.b.senior // half the time, somebody who may act on the lead
		if o := p.userByID(m.owner); o != nil && p.rng.IntN(2) == 0 {
			u = o
		}
	}
	ctx := as(u)
	// A third of the steps push the lead along its pipeline, so that the
	// sequences reach transfers and the sale's stages, not only refusals.
	op, forward := p.rng.IntN(11), p.rng.IntN(3) == 0
	if forward {
		op = p.progress(m)
	}
	switch op {
	case 0, 1: // a stage change, to any stage or none
		stages := append(slices.Clone(crm.LeadStages), "bogus")
		to := stages[p.rng.IntN(len(stages))]
		if next := modelLeadMoves[m.stage]; forward && len(next) > 0 {
			to = next[0]
		}
		reason := ""
		if p.rng.IntN(3) == 0 && (to == crm.LeadLost || p.rng.IntN(4) == 0) {
			reason = "went elsewhere"
		}
		want := ok
		switch {
		case !slices.Contains(crm.LeadStages, to), reason != "" && to != crm.LeadLost:
			want = crm.EINVALID
		case !sees(u, m.owner):
			want = crm.ENOTFOUND
		case !slices.Contains(modelLeadMoves[m.stage], to):
			want = crm.ECONFLICT
		}
		p.apply(m, want, fmt.Sprintf("%s moves lead %s %s→%s", u.Email, m.id, m.stage, to), func() error {
			_, err := p.svc.Leads.ChangeStage(ctx, m.id, crm.StageChange{Stage: to, LostReason: reason})
			return err
		}, func() { m.stage = to })
	case 2: // set the messages count
		n := p.rng.IntN(14) - 1
		if p.rng.IntN(4) == 0 && !forward {
			n = m.messages
		}
		want := ok
		switch {
		case n < 0:
			want = crm.EINVALID
		case !sees(u, m.owner):
			want = crm.ENOTFOUND
		case modelLeadFinal(m.stage):
			want = crm.ECONFLICT
		}
		p.apply(m, want, fmt.Sprintf("%s sets messages of %s (%s) %d→%d", u.Email, m.id, m.stage, m.messages, n), func() error {
			_, err := p.svc.Leads.SetMessages(ctx, m.id, n)
			return err
		}, func() { m.messages = n })
	case 3: // one more message
		want := ok
		switch {
		case !sees(u, m.owner):
			want = crm.ENOTFOUND
		case modelLeadFinal(m.stage):
			want = crm.ECONFLICT
		}
		p.apply(m, want, fmt.Sprintf("%s increments messages of %s (%s)", u.Email, m.id, m.stage), func() error {
			_, err := p.svc.Leads.IncrementMessages(ctx, m.id)
			return err
		}, func() { m.messages++ })
	case 4: // change or clear the business domain, or name one outside the catalog
		choices := append(slices.Clone(Domains), "", "nope")
		d := choices[p.rng.IntN(len(choices))]
		if forward {
			d = Domains[p.rng.IntN(len(Domains))]
		}
		up := crm.LeadUpdate{BusinessDomain: &d}
		if d == "" {
			up = crm.LeadUpdate{ClearBusinessDomain: true}
		}
		want := ok
		switch {
		case !sees(u, m.owner):
			want = crm.ENOTFOUND
		case d == m.domain:
		case d == "nope":
			want = crm.EINVALID
		case modelLeadFinal(m.stage):
			want = crm.ECONFLICT
		}
		p.apply(m, want, fmt.Sprintf("%s sets domain of %s (%s) %q→%q", u.Email, m.id, m.stage, m.domain, d), func() error {
			_, err := p.svc.Leads.UpdateLead(ctx, m.id, up)
			return err
		}, func() { m.domain = d })
	case 5: // a contact edit: allowed on closed leads too
		p.names++
		name := fmt.Sprintf("Renamed %d", p.names)
		want := ok
		if !sees(u, m.owner) {
			want = crm.ENOTFOUND
		}
		p.apply(m, want, fmt.Sprintf("%s renames %s", u.Email, m.id), func() error {
			_, err := p.svc.Leads.UpdateLead(ctx, m.id, crm.LeadUpdate{Name: &name})
			return err
		}, func() { m.name = name })
	case 6: // a reassignment, to a user or to an id nobody has
		to := p.pickUser().ID
		if p.rng.IntN(6) == 0 {
			to = crm.NewID()
		}
		want := ok
		switch {
		case !sees(u, m.owner):
			want = crm.ENOTFOUND
		case to == m.owner:
		case !u.Role.SeesAll():
			want = crm.EFORBIDDEN
		case p.userByID(to) == nil:
			want = crm.EINVALID
		}
		p.apply(m, want, fmt.Sprintf("%s reassigns %s %s→%s", u.Email, m.id, m.owner, to), func() error {
			_, err := p.svc.Leads.UpdateLead(ctx, m.id, crm.LeadUpdate{OwnerID: &to})
			return err
		}, func() { m.owner = to })
	case 7: // an analysis
		score, good := propScore(m.facts())
		want := ok
		switch {
		case !sees(u, m.owner):
			want = crm.ENOTFOUND
		case modelLeadFinal(m.stage):
			want = crm.ECONFLICT
		case !good:
			want = crm.EBADGATEWAY
		}
		p.apply(m, want, fmt.Sprintf("%s analyzes %s %+v", u.Email, m.id, m.facts()), func() error {
			_, err := p.svc.Analyses.Analyze(ctx, m.id)
			return err
		}, func() { m.analyzed, m.aiFacts, m.aiScore = true, m.facts(), score })
	case 8: // a transfer
		want := ok
		switch {
		case !sees(u, m.owner):
			want = crm.ENOTFOUND
		case modelLeadFinal(m.stage), m.transferBlocked():
			want = crm.ECONFLICT
		}
		var sale *crm.Sale
		p.apply(m, want, fmt.Sprintf("%s transfers %s (%s, analyzed %v)", u.Email, m.id, m.stage, m.analyzed), func() error {
			var err error
			sale, err = p.svc.Leads.Transfer(ctx, m.id)
			return err
		}, func() { m.stage, m.saleID, m.saleStage = crm.LeadTransferred, sale.ID, crm.SaleNew })
	case 9: // a sale's stage change
		if m.saleID == "" {
			p.logActivity(u, m)
			return
		}
		stages := append(slices.Clone(crm.SaleStages), "bogus")
		to := stages[p.rng.IntN(len(stages))]
		if next := modelSaleMoves[m.saleStage]; forward && len(next) > 0 {
			to = next[p.rng.IntN(len(next))]
		}
		want := ok
		switch {
		case !slices.Contains(crm.SaleStages, to):
			want = crm.EINVALID
		case !sees(u, m.owner):
			want = crm.ENOTFOUND
		case !slices.Contains(modelSaleMoves[m.saleStage], to):
			want = crm.ECONFLICT
		}
		p.apply(m, want, fmt.Sprintf("%s moves-sale of %s %s→%s", u.Email, m.id, m.saleStage, to), func() error {
			_, err := p.svc.Leads.MoveSale(ctx, m.saleID, to)
			return err
		}, func() { m.saleStage = to })
	case 10:
		if p.rng.IntN(4) == 0 { // somebody's guess at an id
			id := crm.NewID()
			p.note("%s moves unknown lead %s", u.Email, id)
			_, err := p.svc.Leads.MoveLead(ctx, id, crm.LeadContacted)
			p.wantKind(err, crm.ENOTFOUND)
			_, err = p.svc.Analyses.Analyze(ctx, id)
			p.wantKind(err, crm.ENOTFOUND)
			return
		}
		p.logActivity(u, m)
	}
}

// progress returns the operation that takes m a step further, as the model
// sees it: the next stage, a domain, a fresh analysis, a better count, the
// transfer, the sale's next stage.
func (p *property) progress(m *mLead) int {
	switch {
	case m.stage == crm.LeadNew || m.stage == crm.LeadContacted:
		return 0
	case m.stage == crm.LeadQualified && m.domain == "":
		return 4
	case m.stage == crm.LeadQualified && (!m.analyzed || m.aiFacts != m.facts()):
		if m.analyzed && p.rng.IntN(3) == 0 {
			return 8 // a transfer on a stale analysis: refused
		}
		if _, good := propScore(m.facts()); !good {
			return 3 // the fake AI fails on this count: one more message
		}
		return 7
	case m.stage == crm.LeadQualified && m.aiScore < modelMinScore:
		return 3
	case m.stage == crm.LeadQualified:
		if p.rng.IntN(4) == 0 {
			return 3 // one more message makes the analysis stale
		}
		return 8
	case m.saleID != "":
		return 9
	}
	return p.rng.IntN(11)
}

func (p *property) logActivity(u *crm.User, m *mLead) {
	kind := []crm.ActivityKind{crm.ActivityNote, crm.ActivityCall}[p.rng.IntN(2)]
	want := ok
	switch {
	case !sees(u, m.owner):
		want = crm.ENOTFOUND
	case kind != crm.ActivityNote && modelLeadFinal(m.stage):
		want = crm.ECONFLICT
	}
	p.apply(m, want, fmt.Sprintf("%s logs a %s on %s (%s)", u.Email, kind, m.id, m.stage), func() error {
		_, err := p.svc.Leads.LogActivity(as(u), m.id, crm.ActivityInput{Kind: kind, Text: "talked"})
		return err
	}, func() {
		if kind != crm.ActivityNote {
			m.messages++
		}
	})
}

func (p *property) userByID(id string) *crm.User {
	for _, u := range p.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// createLead creates a lead as u, now and then with input the model knows
// to be refused.
func (p *property) createLead(u *crm.User) {
	p.names++
	in := crm.LeadInput{Source: crm.Sources[p.rng.IntN(len(crm.Sources))], MessagesCount: p.rng.IntN(6),
		Name: fmt.Sprintf("Lead %d", p.names)}
	if p.rng.IntN(2) == 0 {
		in.BusinessDomain = Domains[p.rng.IntN(len(Domains))]
	}
	owner := u.ID
	if p.rng.IntN(3) == 0 {
		owner = p.pickUser().ID
		in.OwnerID = owner
	}
	want := ok
	switch p.rng.IntN(10) {
	case 0:
		in.BusinessDomain, want = "nope", crm.EINVALID
	case 1:
		in.MessagesCount, want = -1, crm.EINVALID
	}
	if want == ok && owner != u.ID && !u.Role.SeesAll() {
		want = crm.EFORBIDDEN
	}
	p.note("%s creates %+v", u.Email, in)
	l, err := p.svc.Leads.CreateLead(as(u), in)
	if !p.wantKind(err, want) || want != ok {
		return
	}
	m := &mLead{id: l.ID, source: in.Source, stage: crm.LeadNew, domain: in.BusinessDomain, messages: in.MessagesCount,
		owner: owner, name: in.Name, initDomain: in.BusinessDomain, initMessages: in.MessagesCount, initOwner: owner, initName: in.Name}
	p.leads = append(p.leads, m)
	p.byID[m.id] = m
	p.checkLead(m)
}

// wantKind checks err against the prediction; an error the model did not
// predict (an internal one above all) is a failure. It reports whether the
// operation succeeded.
func (p *property) wantKind(err error, want expect) bool {
	p.t.Helper()
	switch {
	case want == ok && err != nil:
		p.fatalf("predicted legal, got %v (kind %s)", err, crm.ErrorKind(err))
	case want != ok && err == nil:
		p.fatalf("predicted %s, but it succeeded", want)
	case want != ok && crm.ErrorKind(err) != want:
		p.fatalf("predicted %s, got %v (kind %s)", want, err, crm.ErrorKind(err))
	}
	return err == nil
}

// apply runs op, checks its outcome against want, updates the model with
// change when it was legal, and checks the lead: an illegal operation must
// change nothing at all, row and trail alike.
func (p *property) apply(m *mLead, want expect, what string, op func() error, change func()) {
	p.t.Helper()
	p.note("%s (predicted %q)", what, want)
	p.stats[strings.Fields(what)[1]+":"+cmpOr(want, "ok")]++
	before, trail := p.row(m.id), len(p.b.trail(p.t, m.id))
	var saleBefore *crm.Sale
	if m.saleID != "" {
		saleBefore = p.sale(m.saleID)
	}
	if !p.wantKind(op(), want) {
		if d := cmp.Diff(before, p.row(m.id)); d != "" {
			p.fatalf("a refused operation changed the lead (-before +after):\n%s", d)
		}
		if n := len(p.b.trail(p.t, m.id)); n != trail {
			p.fatalf("a refused operation wrote %d events", n-trail)
		}
		if saleBefore != nil {
			if d := cmp.Diff(saleBefore, p.sale(m.saleID)); d != "" {
				p.fatalf("a refused operation changed the sale (-before +after):\n%s", d)
			}
		}
	} else {
		change()
	}
	p.checkLead(m)
}

func (p *property) row(id string) *crm.Lead {
	p.t.Helper()
	l, err := p.b.st.Lead(context.Background(), id)
	if err != nil {
		p.fatalf("store.Lead(%s): %v", id, err)
	}
	return l
}

func (p *property) sale(id string) *crm.Sale {
	p.t.Helper()
	s, err := p.b.st.Sale(context.Background(), id)
	if err != nil {
		p.fatalf("store.Sale(%s): %v", id, err)
	}
	return s
}

// checkLead checks one lead against the model and its own trail.
func (p *property) checkLead(m *mLead) {
	p.t.Helper()
	l := p.row(m.id)
	got := fmt.Sprintf("stage %s source %s domain %q messages %d owner %s name %q",
		l.Stage, l.Source, l.BusinessDomain, l.MessagesCount, l.OwnerID, l.Name)
	want := fmt.Sprintf("stage %s source %s domain %q messages %d owner %s name %q",
		m.stage, m.source, m.domain, m.messages, m.owner, m.name)
	if got != want {
		p.fatalf("lead %s is %s, the model says %s", m.id, got, want)
	}
	switch {
	case m.analyzed && l.AI == nil:
		p.fatalf("lead %s lost its analysis", m.id)
	case !m.analyzed && l.AI != nil:
		p.fatalf("lead %s has an analysis the model never asked for: %+v", m.id, l.AI)
	case m.analyzed && (l.AI.Facts != m.aiFacts || l.AI.Score != m.aiScore):
		p.fatalf("lead %s analysis %+v score %v, the model says %+v score %v", m.id, l.AI.Facts, l.AI.Score, m.aiFacts, m.aiScore)
	}
	if l.AI != nil {
		// The stored score is the scorer's answer to the stored facts.
		if want, good := propScore(l.AI.Facts); !good || want != l.AI.Score {
			p.fatalf("lead %s analysis of %+v has score %v; the scorer answers %v, %v", m.id, l.AI.Facts, l.AI.Score, want, good)
		}
	}
	// A closed lead's AI facts and analysis never change again.
	if modelLeadFinal(m.stage) && m.frozen == nil {
		m.frozen = l
	}
	if m.frozen != nil {
		was, now := m.frozen, l
		if was.Source != now.Source || was.MessagesCount != now.MessagesCount || was.BusinessDomain != now.BusinessDomain ||
			was.Stage != now.Stage || !cmp.Equal(was.AI, now.AI) {
			p.fatalf("closed lead %s changed: was %s/%s/%d/%q AI %+v, now %s/%s/%d/%q AI %+v", m.id,
				was.Stage, was.Source, was.MessagesCount, was.BusinessDomain, was.AI,
				now.Stage, now.Source, now.MessagesCount, now.BusinessDomain, now.AI)
		}
	}
	// The trail replays to the row.
	r := p.replay(m)
	gotR := fmt.Sprintf("stage %s domain %q messages %d owner %s name %q", l.Stage, l.BusinessDomain, l.MessagesCount, l.OwnerID, l.Name)
	wantR := fmt.Sprintf("stage %s domain %q messages %d owner %s name %q", r.stage, r.domain, r.messages, r.owner, r.name)
	if gotR != wantR {
		p.fatalf("lead %s is %s, its trail replays to %s", m.id, gotR, wantR)
	}
	switch {
	case (l.AI == nil) != (r.analysisID == ""):
		p.fatalf("lead %s analysis %+v, the trail's last analysis %q", m.id, l.AI, r.analysisID)
	case l.AI != nil && (l.AI.AnalysisID != r.analysisID || l.AI.Score != r.score):
		p.fatalf("lead %s analysis %s score %v, the trail's last %s score %v", m.id, l.AI.AnalysisID, l.AI.Score, r.analysisID, r.score)
	}
	// One sale per transferred lead, none for the others, in the stage the
	// model and the trail say.
	s, err := p.b.st.SaleByLead(context.Background(), m.id)
	switch {
	case m.stage == crm.LeadTransferred && err != nil:
		p.fatalf("transferred lead %s: SaleByLead: %v", m.id, err)
	case m.stage != crm.LeadTransferred && !crm.IsKind(err, crm.ENOTFOUND):
		p.fatalf("lead %s at %s: SaleByLead = %+v, %v; want not found", m.id, m.stage, s, err)
	case err == nil && (s.ID != m.saleID || s.Stage != m.saleStage || s.ID != r.saleID || s.Stage != r.saleStage):
		p.fatalf("sale of %s is %s at %s; the model says %s at %s, the trail %s at %s", m.id, s.ID, s.Stage,
			m.saleID, m.saleStage, r.saleID, r.saleStage)
	}
}

// replayed is a lead folded from its trail.
type replayed struct {
	stage               crm.LeadStage
	domain, owner, name string
	messages            int
	analysisID          string
	score               float64
	saleID              string
	saleStage           crm.SaleStage
}

// replay folds the lead's trail from the state it was created in. Every
// change must start from the state the trail has reached (its "from" is the
// current value), and nothing may change a closed lead's stage, AI facts or
// analysis.
func (p *property) replay(m *mLead) replayed {
	p.t.Helper()
	r := replayed{domain: m.initDomain, owner: m.initOwner, name: m.initName, messages: m.initMessages}
	str := func(v any) string { s, _ := v.(string); return s }
	num := func(v any) int { f, _ := v.(float64); return int(f) }
	for i, e := range p.b.trail(p.t, m.id) {
		bad := func(format string, args ...any) {
			p.t.Helper()
			p.fatalf("lead %s trail event %d (%s %s→%s %v): %s", m.id, i, e.Action, e.From, e.To, e.Data, fmt.Sprintf(format, args...))
		}
		if first, created := i == 0, e.Action == crm.ActionLeadCreated; first != created {
			bad("the trail must begin with the one %s", crm.ActionLeadCreated)
		}
		closed := modelLeadFinal(r.stage)
		switch e.Action {
		case crm.ActionLeadCreated:
			r.stage = crm.LeadStage(e.To)
		case crm.ActionLeadStage:
			if closed || e.From != string(r.stage) {
				bad("a stage change from %s", r.stage)
			}
			r.stage = crm.LeadStage(e.To)
		case crm.ActionLeadTransferred:
			if closed || e.From != string(r.stage) || e.To != string(crm.LeadTransferred) || r.saleID != "" {
				bad("a transfer from %s (sale %q)", r.stage, r.saleID)
			}
			r.stage, r.saleID, r.saleStage = crm.LeadTransferred, e.SaleID, crm.SaleNew
		case crm.ActionSaleStage:
			if e.SaleID != r.saleID || e.From != string(r.saleStage) {
				bad("a sale change from %s of sale %q", r.saleStage, r.saleID)
			}
			r.saleStage = crm.SaleStage(e.To)
		case crm.ActionLeadMessages:
			if closed || num(e.Data["from"]) != r.messages {
				bad("messages from %d", r.messages)
			}
			r.messages = num(e.Data["to"])
		case crm.ActionLeadAnalyzed:
			if closed {
				bad("an analysis of a closed lead")
			}
			r.analysisID = str(e.Data["analysis_id"])
			r.score, _ = e.Data["score"].(float64)
		case crm.ActionLeadUpdated, crm.ActionLeadOwner:
			changes, _ := e.Data["changes"].(map[string]any)
			for field, c := range changes {
				c, _ := c.(map[string]any)
				from, to := str(c["from"]), str(c["to"])
				var cur *string
				switch field {
				case "business_domain":
					if closed {
						bad("a closed lead's domain changed")
					}
					cur = &r.domain
				case "owner_id":
					cur = &r.owner
				case "name":
					cur = &r.name
				default:
					continue
				}
				if *cur != from {
					bad("%s from %q", field, *cur)
				}
				*cur = to
			}
		}
	}
	return r
}

// checkAll checks every lead, and what the lists show each actor.
func (p *property) checkAll() {
	p.t.Helper()
	for _, m := range p.leads {
		p.checkLead(m)
	}
	// One sale per transferred lead, across the whole sale list.
	sales, _, err := p.svc.Leads.Sales(as(p.b.admin), crm.SaleFilter{Limit: crm.MaxPageSize})
	if err != nil {
		p.fatalf("Sales: %v", err)
	}
	perLead := map[string]int{}
	for _, s := range sales {
		perLead[s.LeadID]++
	}
	for _, m := range p.leads {
		if want := map[bool]int{true: 1}[m.stage == crm.LeadTransferred]; perLead[m.id] != want {
			p.fatalf("lead %s (%s) has %d sales, want %d", m.id, m.stage, perLead[m.id], want)
		}
	}
	// A manager's lists hold exactly their own leads and sales, and another's
	// lead is not found.
	for _, u := range []*crm.User{p.b.mgr, p.b.mgr2} {
		ctx := as(u)
		leads, _, err := p.svc.Leads.Leads(ctx, crm.LeadFilter{Limit: crm.MaxPageSize})
		if err != nil {
			p.fatalf("Leads as %s: %v", u.Email, err)
		}
		var got, want []string
		for _, l := range leads {
			got = append(got, l.ID)
		}
		for _, m := range p.leads {
			if m.owner == u.ID {
				want = append(want, m.id)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			p.fatalf("%s lists leads %v, owns %v", u.Email, got, want)
		}
		sales, _, err := p.svc.Leads.Sales(ctx, crm.SaleFilter{Limit: crm.MaxPageSize})
		if err != nil {
			p.fatalf("Sales as %s: %v", u.Email, err)
		}
		for _, s := range sales {
			if m := p.byID[s.LeadID]; m == nil || m.owner != u.ID {
				p.fatalf("%s lists sale %s of a lead they do not own", u.Email, s.ID)
			}
		}
		for _, m := range p.leads {
			if m.owner == u.ID {
				continue
			}
			if _, err := p.svc.Leads.Lead(ctx, m.id); !crm.IsKind(err, crm.ENOTFOUND) {
				p.fatalf("%s reads %s's lead %s: %v, want not found", u.Email, m.owner, m.id, err)
			}
			if m.saleID != "" {
				if _, err := p.svc.Leads.Sale(ctx, m.saleID); !crm.IsKind(err, crm.ENOTFOUND) {
					p.fatalf("%s reads %s's sale %s: %v, want not found", u.Email, m.owner, m.saleID, err)
				}
			}
		}
	}
}

// concurrent lets several actors act at once on the same leads. Their
// outcomes are not predicted (which of two racing moves wins is up to the
// database), but every error must be a domain error, and afterwards the model
// is read back from the rows and every invariant checked: the trails still
// replay (each change starting from its predecessor's result), a lead closed
// before the phase is unchanged, one sale per transferred lead.
func (p *property) concurrent(workers, steps int) {
	p.t.Helper()
	p.note("concurrent phase: %d workers × %d steps", workers, steps)
	ids := make([]string, len(p.leads))
	for i, m := range p.leads {
		ids[i] = m.id
	}
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for w := range workers {
		rng := rand.New(rand.NewPCG(p.rng.Uint64(), uint64(w)))
		wg.Go(func() {
			for i := range steps {
				u := p.users[rng.IntN(len(p.users))]
				ctx := as(u)
				id := ids[rng.IntN(len(ids))]
				var what string
				var err error
				switch rng.IntN(7) {
				case 0:
					to := crm.LeadStages[rng.IntN(len(crm.LeadStages))]
					what = "move to " + string(to)
					_, err = p.svc.Leads.MoveLead(ctx, id, to)
				case 1:
					what = "increment"
					_, err = p.svc.Leads.IncrementMessages(ctx, id)
				case 2:
					what = "analyze"
					_, err = p.svc.Analyses.Analyze(ctx, id)
				case 3:
					what = "transfer"
					_, err = p.svc.Leads.Transfer(ctx, id)
				case 4:
					to := p.users[rng.IntN(len(p.users))].ID
					what = "reassign"
					_, err = p.svc.Leads.UpdateLead(ctx, id, crm.LeadUpdate{OwnerID: &to})
				case 5:
					d := Domains[rng.IntN(len(Domains))]
					what = "domain " + d
					_, err = p.svc.Leads.UpdateLead(ctx, id, crm.LeadUpdate{BusinessDomain: &d})
				case 6:
					what = "sale move"
					var s *crm.Sale
					if s, err = p.svc.Leads.LeadSale(ctx, id); err == nil {
						_, err = p.svc.Leads.MoveSale(ctx, s.ID, crm.SaleStages[rng.IntN(len(crm.SaleStages))])
					}
				}
				if err != nil && crm.ErrorKind(err) == crm.EINTERNAL {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("worker %d step %d: %s %s %s: internal error %v", w, i, u.Email, what, id, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		p.fatalf("concurrent phase:\n%s", strings.Join(failures, "\n"))
	}
	// Read the model back from the rows; checkLead then holds them to the
	// trails and to the snapshots of leads closed before.
	for _, m := range p.leads {
		l := p.row(m.id)
		m.stage, m.domain, m.messages, m.owner, m.name = l.Stage, l.BusinessDomain, l.MessagesCount, l.OwnerID, l.Name
		m.analyzed = l.AI != nil
		if l.AI != nil {
			m.aiFacts, m.aiScore = l.AI.Facts, l.AI.Score
		}
		if s, err := p.b.st.SaleByLead(context.Background(), m.id); err == nil {
			m.saleID, m.saleStage = s.ID, s.Stage
		}
	}
	p.checkAll()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
