package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/google/go-cmp/cmp"
)

// The boards read counts and totals from a summary the store keeps in the
// same transactions as the changes (LeadCounts, SaleTotals). These tests run
// a random mix of every change that moves a count or a total — creates, stage
// moves, reassignments (alone and in bulk), tasks opened and done, transfers
// with and without a value, sale moves and value changes — and then compare
// the summary with the same counts made afresh from the rows themselves, for
// every owner and for everybody.
var summaryTests = []test{
	{"MatchesRowsAfterRandomChanges", func(t *testing.T, b *bundle) {
		m := b.newMixer(t, 1)
		for range 150 {
			m.step(t, m.rnd)
		}
		b.wantSummaryMatchesRows(t)
	}},
	{"MatchesRowsAfterConcurrentChanges", func(t *testing.T, b *bundle) {
		// Workers race on the same leads: a reassignment against a sale's
		// move or value change, two stage moves of one lead, creates of one
		// owner on the same summary rows.
		m := b.newMixer(t, 2)
		var wg sync.WaitGroup
		for w := range 6 {
			rnd := rand.New(rand.NewPCG(uint64(w), 42))
			wg.Go(func() {
				for range 30 {
					m.step(t, rnd)
				}
			})
		}
		wg.Wait()
		b.wantSummaryMatchesRows(t)
	}},
}

// mixer makes random changes through the service.
type mixer struct {
	b      *bundle
	rnd    *rand.Rand // for the sequential test
	mu     sync.Mutex
	leads  []string
	sales  []string
	tasks  []string
	owners []string
}

func (b *bundle) newMixer(t *testing.T, seed uint64) *mixer {
	t.Helper()
	m := &mixer{b: b, rnd: rand.New(rand.NewPCG(seed, 7)),
		owners: []string{b.mgr.ID, b.mgr2.ID, b.senior.ID, b.admin.ID}}
	// A few sales to start from, so that every kind of step has rows to act on.
	for _, u := range []*crm.User{b.mgr, b.mgr2} {
		s := b.saleOf(t, u, crm.SaleNew)
		m.sales = append(m.sales, s.ID)
		m.leads = append(m.leads, s.LeadID)
	}
	return m
}

func (m *mixer) pick(rnd *rand.Rand, ids *[]string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(*ids) == 0 {
		return ""
	}
	return (*ids)[rnd.IntN(len(*ids))]
}

func (m *mixer) add(ids *[]string, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	*ids = append(*ids, id)
}

// step makes one random change as the senior manager, who sees every lead.
// A change the rules refuse (a move from the wrong stage, a lost race) is
// fine: the summary must then be left as it was. Only an internal or
// unavailable error fails the test.
func (m *mixer) step(t *testing.T, rnd *rand.Rand) {
	b := m.b
	ctx := as(b.senior)
	owner := m.owners[rnd.IntN(len(m.owners))]
	var err error
	switch k := rnd.IntN(12); k {
	case 0, 1:
		var l *crm.Lead
		l, err = b.svc.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "first",
			MessagesCount: 3, Name: fmt.Sprintf("Mix %d", rnd.Int64()), OwnerID: owner, AllowDuplicate: true})
		if err == nil {
			m.add(&m.leads, l.ID)
		}
	case 2, 3:
		to := crm.LeadStages[rnd.IntN(len(crm.LeadStages))]
		if to == crm.LeadTransferred {
			to = crm.LeadContacted
		}
		_, err = b.svc.Leads.MoveLead(ctx, m.pick(rnd, &m.leads), to)
	case 4:
		_, err = b.svc.Leads.UpdateLead(ctx, m.pick(rnd, &m.leads), crm.LeadUpdate{OwnerID: &owner})
	case 5:
		ids := []string{m.pick(rnd, &m.leads), m.pick(rnd, &m.leads)}
		_, err = b.svc.Leads.Bulk(ctx, slices.Compact(ids), crm.BulkReassign, owner)
	case 6:
		var task *crm.Task
		task, err = b.svc.Leads.CreateTask(ctx, m.pick(rnd, &m.leads), crm.TaskInput{Title: "Call back",
			DueAt: b.clock.Now().Add(24 * time.Hour)})
		if err == nil {
			m.add(&m.tasks, task.ID)
		}
	case 7:
		if id := m.pick(rnd, &m.tasks); id != "" {
			done := rnd.IntN(2) == 0
			_, err = b.svc.Leads.UpdateTask(ctx, id, crm.TaskUpdate{Done: &done})
		}
	case 8:
		// Qualify, analyze and transfer a lead, with a value or not.
		id := m.pick(rnd, &m.leads)
		for _, st := range []crm.LeadStage{crm.LeadContacted, crm.LeadQualified} {
			_, _ = b.svc.Leads.MoveLead(ctx, id, st)
		}
		if _, err = b.svc.Analyses.Analyze(ctx, id); err != nil {
			break
		}
		var v crm.DealValue
		if rnd.IntN(2) == 0 {
			v = crm.DealValue{Amount: fmt.Sprint(rnd.IntN(10000)), Currency: []string{"EUR", "USD", "UAH"}[rnd.IntN(3)]}
		}
		var s *crm.Sale
		if s, err = b.svc.Leads.TransferDeal(ctx, id, v); err == nil {
			m.add(&m.sales, s.ID)
		}
	case 9, 10:
		_, err = b.svc.Leads.MoveSale(ctx, m.pick(rnd, &m.sales), crm.SaleStages[rnd.IntN(len(crm.SaleStages))])
	case 11:
		v := crm.DealValue{Amount: fmt.Sprintf("%d.%02d", rnd.IntN(100000), rnd.IntN(100))}
		if rnd.IntN(3) == 0 {
			v.Currency = []string{"EUR", "USD"}[rnd.IntN(2)]
		}
		_, err = b.svc.Leads.SetSaleValue(ctx, m.pick(rnd, &m.sales), v)
	}
	var e *crm.Error
	if err != nil && (!errors.As(err, &e) || e.Kind == crm.EINTERNAL || e.Kind == crm.EUNAVAILABLE) {
		t.Errorf("random change: %v", err)
	}
}

// wantSummaryMatchesRows compares LeadCounts and SaleTotals, for each owner
// and for everybody, with the counts made from every lead and sale read back.
func (b *bundle) wantSummaryMatchesRows(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var leads []*crm.Lead
	for after := ""; ; {
		page, err := b.st.Leads(ctx, crm.LeadFilter{After: after, Limit: crm.MaxPageSize})
		must(t, err)
		leads = append(leads, page...)
		if len(page) < crm.MaxPageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	var sales []*crm.Sale
	for after := ""; ; {
		page, err := b.st.Sales(ctx, crm.SaleFilter{After: after, Limit: crm.MaxPageSize})
		must(t, err)
		sales = append(sales, page...)
		if len(page) < crm.MaxPageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	ownerOf := map[string]string{}
	for _, l := range leads {
		ownerOf[l.ID] = l.OwnerID
	}
	if len(sales) < 3 {
		t.Fatalf("only %d sales: the mix did not exercise the sale totals", len(sales))
	}
	for _, owner := range []string{"", b.admin.ID, b.senior.ID, b.mgr.ID, b.mgr2.ID} {
		counts := map[crm.LeadCount]int{}
		for _, l := range leads {
			if owner == "" || l.OwnerID == owner {
				counts[crm.LeadCount{Stage: l.Stage, NoNextStep: l.NoNextStep()}]++
			}
		}
		want := []crm.LeadCount{}
		for k, n := range counts {
			k.Count = n
			want = append(want, k)
		}
		got, err := b.st.LeadCounts(ctx, owner)
		must(t, err)
		sortCounts := func(cs []crm.LeadCount) {
			slices.SortFunc(cs, func(x, y crm.LeadCount) int {
				return strings.Compare(fmt.Sprint(x.Stage, x.NoNextStep), fmt.Sprint(y.Stage, y.NoNextStep))
			})
		}
		sortCounts(want)
		sortCounts(got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("LeadCounts(%q) differs from the leads (-rows +summary):\n%s", owner, d)
		}

		type key struct {
			stage    crm.SaleStage
			currency string
		}
		totals := map[key]*crm.SaleTotal{}
		for _, s := range sales {
			if owner != "" && ownerOf[s.LeadID] != owner {
				continue
			}
			k := key{s.Stage, s.Currency}
			if totals[k] == nil {
				totals[k] = &crm.SaleTotal{Stage: s.Stage, Currency: s.Currency}
			}
			totals[k].Count++
			totals[k].Sum += s.Amount
		}
		wantT := []crm.SaleTotal{}
		for _, v := range totals {
			wantT = append(wantT, *v)
		}
		gotT, err := b.st.SaleTotals(ctx, owner)
		must(t, err)
		sortTotals := func(ts []crm.SaleTotal) {
			slices.SortFunc(ts, func(x, y crm.SaleTotal) int {
				return strings.Compare(string(x.Stage)+"/"+x.Currency, string(y.Stage)+"/"+y.Currency)
			})
		}
		sortTotals(wantT)
		sortTotals(gotT)
		if d := cmp.Diff(wantT, gotT); d != "" {
			t.Errorf("SaleTotals(%q) differs from the sales (-rows +summary):\n%s", owner, d)
		}
	}
}
