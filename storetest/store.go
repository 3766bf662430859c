package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

// wantNewestFirst fails unless the ids are strictly decreasing.
func wantNewestFirst(t *testing.T, what string, ids []string) {
	t.Helper()
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Errorf("%s: ids not newest first at %d: %s then %s", what, i, ids[i-1], ids[i])
			return
		}
	}
}

func sortedDesc(ids []string) []string {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b string) int { return cmp.Compare(b, a) })
	return out
}

// analysesByTime returns the records newest first by CreatedAt.
func analysesByTime(rs []*crm.AnalysisRecord) []*crm.AnalysisRecord {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(a, b *crm.AnalysisRecord) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

var storeTests = []test{
	{"TrailOrder", func(t *testing.T, b *bundle) {
		// Back-to-back changes, as fast as the store goes: the trail must
		// still come out in the order they happened.
		requireIDsMonotonic(t)
		ctx := as(b.mgr)
		l := b.leadAt(t, crm.LeadNew)
		for range 30 {
			_, err := b.svc.Leads.IncrementMessages(ctx, l.ID)
			must(t, err)
		}
		ev, err := b.svc.Leads.LeadEvents(ctx, l.ID)
		must(t, err)
		for i := 1; i < len(ev); i++ {
			if !ev[i].CreatedAt.After(ev[i-1].CreatedAt) {
				t.Fatalf("trail not oldest first at %d: %s at %v then %s at %v", i, ev[i-1].Action, ev[i-1].CreatedAt, ev[i].Action, ev[i].CreatedAt)
			}
		}
		if len(ev) != 31 {
			t.Errorf("%d events, want 31", len(ev))
		}
	}},
	{"AuditOrder", func(t *testing.T, b *bundle) {
		requireIDsMonotonic(t)
		ctx := as(b.mgr)
		l := b.leadAt(t, crm.LeadNew)
		for range 30 {
			_, err := b.svc.Leads.IncrementMessages(ctx, l.ID)
			must(t, err)
		}
		ev, _, err := b.svc.Leads.Audit(as(b.admin), crm.EventFilter{Limit: 100})
		must(t, err)
		for i := 1; i < len(ev); i++ {
			if !ev[i].CreatedAt.Before(ev[i-1].CreatedAt) {
				t.Fatalf("audit not newest first at %d: %s at %v then %s at %v", i, ev[i-1].Action, ev[i-1].CreatedAt, ev[i].Action, ev[i].CreatedAt)
			}
		}
	}},
	{"AnalysesOrder", func(t *testing.T, b *bundle) {
		requireIDsMonotonic(t)
		ctx := as(b.mgr)
		l := b.leadAt(t, crm.LeadNew)
		var want []float64
		for i := range 10 {
			sc := float64(i) / 10
			b.analyze(t, ctx, l.ID, sc, crm.RecommendNurture)
			want = append(want, sc)
		}
		slices.Reverse(want)
		got, err := b.svc.Analyses.Analyses(ctx, l.ID)
		must(t, err)
		var scores []float64
		for _, a := range got {
			if a.Score == nil {
				t.Fatalf("analysis without score: %+v", a)
			}
			scores = append(scores, *a.Score)
		}
		diff(t, "scores newest first", want, scores)
	}},

	{"Ping", func(t *testing.T, b *bundle) {
		must(t, b.st.Ping(context.Background()))
	}},
	{"LeadRoundTrip", func(t *testing.T, b *bundle) {
		ctx := as(b.admin)
		in := crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "third", MessagesCount: 12,
			Name: "Олена Коваль", Email: "olena@example.com", Phone: "+380 44 123 45 67",
			Company: "ТОВ «Ромашка» & Co", Note: "line one\nline 'two' \"quoted\" \\ 100% _x_", OwnerID: b.mgr.ID}
		created := b.newLead(t, ctx, in)
		if created.OwnerID != b.mgr.ID || created.Stage != crm.LeadNew || created.AI != nil || !crm.ValidID(created.ID) {
			t.Fatalf("created = %+v", created)
		}
		wantUTC(t, "CreatedAt", created.CreatedAt)
		got := b.lead(t, created.ID)
		diff(t, "lead before analysis", created, got)
		wantUTC(t, "stored CreatedAt", got.CreatedAt)
		wantUTC(t, "stored UpdatedAt", got.UpdatedAt)
		// The clock reads Start plus whole seconds: the microseconds must survive.
		if got.CreatedAt.Nanosecond() != Start.Nanosecond()/1000*1000 {
			t.Errorf("stored CreatedAt %v: sub-second part %dns, want %dns", got.CreatedAt, got.CreatedAt.Nanosecond(), Start.Nanosecond()/1000*1000)
		}

		b.scorer.Set(0.7312345678901234, crm.RecommendNurture, "Причина: mixed signals, 50% \"sure\"")
		a, err := b.svc.Analyses.Analyze(as(b.mgr), created.ID)
		must(t, err)
		got = b.lead(t, created.ID)
		want := *created
		want.AI = a
		if got.AI == nil {
			t.Fatalf("stored AI is nil after analysis")
		}
		wantUTC(t, "AI.AnalyzedAt", got.AI.AnalyzedAt)
		wantUTC(t, "UpdatedAt", got.UpdatedAt)
		if !got.UpdatedAt.After(created.UpdatedAt) {
			t.Errorf("UpdatedAt %v not after %v", got.UpdatedAt, created.UpdatedAt)
		}
		want.UpdatedAt = got.UpdatedAt
		diff(t, "lead after analysis", &want, got)
		diff(t, "analysis facts", crm.Facts{Source: crm.SourcePartner, Stage: crm.LeadNew, MessagesCount: 12, HasBusinessDomain: true}, got.AI.Facts)

		// The list and the locked read return the same lead.
		list, _, err := b.svc.Leads.Leads(ctx, crm.LeadFilter{})
		must(t, err)
		diff(t, "Leads", []*crm.Lead{got}, list)
		must(t, b.st.InTx(context.Background(), func(tx crm.Tx) error {
			locked, err := tx.LockLead(context.Background(), created.ID)
			if err != nil {
				return err
			}
			diff(t, "LockLead", got, locked)
			return nil
		}))

		// A lead of nobody, with no domain and no contacts, keeps its empty fields.
		bare := b.newLead(t, sys(), crm.LeadInput{Source: crm.SourceScanner})
		diff(t, "bare lead", bare, b.lead(t, bare.ID))
		if bare.OwnerID != "" {
			t.Errorf("system-created lead owner = %q, want none", bare.OwnerID)
		}
		// Clearing fields round-trips to empty.
		empty := ""
		up, err := b.svc.Leads.UpdateLead(ctx, created.ID, crm.LeadUpdate{Name: &empty, Email: &empty, Phone: &empty,
			Company: &empty, Note: &empty, ClearBusinessDomain: true})
		must(t, err)
		diff(t, "cleared lead", up, b.lead(t, created.ID))
		if up.Name != "" || up.BusinessDomain != "" || up.HasBusinessDomain() {
			t.Errorf("cleared lead = %+v", up)
		}
	}},
	{"NotFound", func(t *testing.T, b *bundle) {
		bg, id := context.Background(), crm.NewID()
		check := func(what string, err error) {
			t.Helper()
			wantErrNoFatal(t, err, crm.ENOTFOUND, "", what)
		}
		_, err := b.st.Lead(bg, id)
		check("store.Lead", err)
		_, err = b.st.Sale(bg, id)
		check("store.Sale", err)
		_, err = b.st.SaleByLead(bg, id)
		check("store.SaleByLead", err)
		l := b.leadAt(t, crm.LeadNew)
		_, err = b.st.SaleByLead(bg, l.ID)
		check("store.SaleByLead of a lead without sale", err)
		_, err = b.st.User(bg, id)
		check("store.User", err)
		_, err = b.st.UserByEmail(bg, "nobody@example.com")
		check("store.UserByEmail", err)
		err = b.st.InTx(bg, func(tx crm.Tx) error {
			_, err := tx.LockLead(bg, id)
			check("tx.LockLead", err)
			_, err = tx.LockSale(bg, id)
			check("tx.LockSale", err)
			_, err = tx.LockUser(bg, id)
			check("tx.LockUser", err)
			return nil
		})
		must(t, err)

		ctx := as(b.admin)
		_, err = b.svc.Leads.Lead(ctx, id)
		check("Lead", err)
		_, err = b.svc.Leads.Lead(ctx, "not-a-uuid")
		check("Lead(bad id)", err)
		_, err = b.svc.Leads.MoveLead(ctx, id, crm.LeadContacted)
		check("MoveLead", err)
		_, err = b.svc.Leads.SetMessages(ctx, id, 1)
		check("SetMessages", err)
		_, err = b.svc.Leads.Transfer(ctx, id)
		check("Transfer", err)
		_, err = b.svc.Analyses.Analyze(ctx, id)
		check("Analyze", err)
		_, err = b.svc.Leads.Sale(ctx, id)
		check("Sale", err)
		_, err = b.svc.Leads.MoveSale(ctx, id, crm.SaleKYC)
		check("MoveSale", err)
		_, err = b.svc.Leads.LeadSale(ctx, l.ID)
		check("LeadSale", err)
		_, err = b.svc.Users.UpdateUser(ctx, id, crm.UserUpdate{})
		check("UpdateUser", err)
	}},
	{"LeadPagination", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		var want []string
		for i := range 120 {
			want = append(want, b.newLead(t, ctx, crm.LeadInput{Source: crm.SourceManual, Name: fmt.Sprint("lead ", i)}).ID)
		}
		// Another manager's leads must not leak into the pages.
		b.newLead(t, as(b.mgr2), crm.LeadInput{Source: crm.SourceManual})
		var got []string
		var sizes []int
		cursor := ""
		for range 10 {
			page, next, err := b.svc.Leads.Leads(ctx, crm.LeadFilter{Limit: 50, After: cursor})
			must(t, err)
			sizes = append(sizes, len(page))
			got = append(got, ids(page, leadID)...)
			if next == "" {
				break
			}
			if next != page[len(page)-1].ID {
				t.Errorf("next cursor %s is not the last id of the page %s", next, page[len(page)-1].ID)
			}
			cursor = next
		}
		diff(t, "page sizes", []int{50, 50, 20}, sizes)
		diff(t, "all pages", sortedDesc(want), got)

		// The store honours the limit itself.
		page, err := b.st.Leads(context.Background(), crm.LeadFilter{Limit: 7})
		must(t, err)
		if len(page) != 7 {
			t.Errorf("store.Leads(limit 7) = %d leads", len(page))
		}
		wantNewestFirst(t, "store.Leads", ids(page, leadID))
	}},
	{"LeadFilters", func(t *testing.T, b *bundle) {
		mk := func(u *crm.User, src crm.Source, in crm.LeadInput) string {
			in.Source = src
			return b.newLead(t, as(u), in).ID
		}
		alice := mk(b.mgr, crm.SourceScanner, crm.LeadInput{Name: "Alice Smith", Company: "Umbrella"})
		bob := mk(b.mgr, crm.SourcePartner, crm.LeadInput{Name: "Bob", Email: "bob@ACME.io"})
		pct := mk(b.mgr, crm.SourceManual, crm.LeadInput{Name: "100% real"})
		noPct := mk(b.mgr, crm.SourceManual, crm.LeadInput{Name: "1000 real"})
		under := mk(b.mgr, crm.SourceScanner, crm.LeadInput{Name: "a_b"})
		noUnder := mk(b.mgr, crm.SourceScanner, crm.LeadInput{Name: "axb", Phone: "+1 555 0100"})
		cyr := mk(b.mgr, crm.SourcePartner, crm.LeadInput{Name: "Олена", Note: "Київ"})
		cooper := mk(b.mgr2, crm.SourcePartner, crm.LeadInput{Name: "alice cooper", Company: "Acme Corp"})
		_, err := b.svc.Leads.MoveLead(as(b.mgr), bob, crm.LeadContacted)
		must(t, err)
		_, err = b.svc.Leads.MoveLead(as(b.mgr), alice, crm.LeadLost)
		must(t, err)
		all := []string{alice, bob, pct, noPct, under, noUnder, cyr, cooper}

		for _, tc := range []struct {
			name string
			as   *crm.User
			f    crm.LeadFilter
			want []string
		}{
			{"none", b.senior, crm.LeadFilter{}, all},
			{"stage contacted", b.senior, crm.LeadFilter{Stage: crm.LeadContacted}, []string{bob}},
			{"stage lost", b.senior, crm.LeadFilter{Stage: crm.LeadLost}, []string{alice}},
			{"stage new", b.senior, crm.LeadFilter{Stage: crm.LeadNew}, []string{pct, noPct, under, noUnder, cyr, cooper}},
			{"stage qualified", b.senior, crm.LeadFilter{Stage: crm.LeadQualified}, nil},
			{"source scanner", b.senior, crm.LeadFilter{Source: crm.SourceScanner}, []string{alice, under, noUnder}},
			{"owner", b.senior, crm.LeadFilter{OwnerID: b.mgr2.ID}, []string{cooper}},
			{"q case-insensitive substring", b.senior, crm.LeadFilter{Q: "ALICE"}, []string{alice, cooper}},
			{"q in email", b.senior, crm.LeadFilter{Q: "acme"}, []string{bob, cooper}},
			{"q in company", b.senior, crm.LeadFilter{Q: "brell"}, []string{alice}},
			{"q in phone", b.senior, crm.LeadFilter{Q: "555 01"}, []string{noUnder}},
			{"q trimmed", b.senior, crm.LeadFilter{Q: "  bob  "}, []string{bob}},
			{"q non-ASCII case-insensitive", b.senior, crm.LeadFilter{Q: "ОЛЕН"}, []string{cyr}},
			{"q in note", b.senior, crm.LeadFilter{Q: "київ"}, []string{cyr}},
			{"q percent is literal", b.senior, crm.LeadFilter{Q: "0%"}, []string{pct}},
			{"q lone percent", b.senior, crm.LeadFilter{Q: "%"}, []string{pct}},
			{"q underscore is literal", b.senior, crm.LeadFilter{Q: "a_b"}, []string{under}},
			{"q backslash", b.senior, crm.LeadFilter{Q: `\`}, nil},
			{"q no match", b.senior, crm.LeadFilter{Q: "zzz"}, nil},
			{"source and q", b.senior, crm.LeadFilter{Source: crm.SourceManual, Q: "real"}, []string{pct, noPct}},
			{"owner and q", b.senior, crm.LeadFilter{OwnerID: b.mgr.ID, Q: "alice"}, []string{alice}},
			{"stage and source", b.senior, crm.LeadFilter{Stage: crm.LeadNew, Source: crm.SourceScanner}, []string{under, noUnder}},
			{"manager q", b.mgr, crm.LeadFilter{Q: "alice"}, []string{alice}},
			{"manager all", b.mgr2, crm.LeadFilter{}, []string{cooper}},
		} {
			got, next, err := b.svc.Leads.Leads(as(tc.as), tc.f)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if next != "" {
				t.Errorf("%s: next = %q, want none", tc.name, next)
			}
			want := sortedDesc(tc.want)
			if want == nil {
				want = []string{}
			}
			diff(t, tc.name, want, ids(got, leadID))
		}
	}},
	{"SalesList", func(t *testing.T, b *bundle) {
		s1 := b.saleOf(t, b.mgr, crm.SaleNew)
		s2 := b.saleOf(t, b.mgr, crm.SaleKYC)
		s3 := b.saleOf(t, b.mgr2, crm.SaleNew)
		for _, tc := range []struct {
			name string
			as   *crm.User
			f    crm.SaleFilter
			want []string
		}{
			{"all", b.senior, crm.SaleFilter{}, []string{s1.ID, s2.ID, s3.ID}},
			{"owner", b.senior, crm.SaleFilter{OwnerID: b.mgr.ID}, []string{s1.ID, s2.ID}},
			{"owner 2", b.admin, crm.SaleFilter{OwnerID: b.mgr2.ID}, []string{s3.ID}},
			{"stage", b.senior, crm.SaleFilter{Stage: crm.SaleNew}, []string{s1.ID, s3.ID}},
			{"owner and stage", b.senior, crm.SaleFilter{OwnerID: b.mgr.ID, Stage: crm.SaleKYC}, []string{s2.ID}},
			{"manager sees own", b.mgr, crm.SaleFilter{}, []string{s1.ID, s2.ID}},
			{"manager filters by another owner", b.mgr, crm.SaleFilter{OwnerID: b.mgr2.ID}, []string{}},
			{"manager 2", b.mgr2, crm.SaleFilter{}, []string{s3.ID}},
		} {
			got, next, err := b.svc.Leads.Sales(as(tc.as), tc.f)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if next != "" {
				t.Errorf("%s: next = %q", tc.name, next)
			}
			diff(t, tc.name, sortedDesc(tc.want), ids(got, saleID))
		}
		// Owner is read through the lead.
		got, _, err := b.svc.Leads.Sales(as(b.senior), crm.SaleFilter{OwnerID: b.mgr2.ID})
		must(t, err)
		diff(t, "sale of manager 2", []*crm.Sale{s3}, got)
		// Pages of one.
		var paged []string
		cursor := ""
		for range 5 {
			page, next, err := b.svc.Leads.Sales(as(b.senior), crm.SaleFilter{Limit: 1, After: cursor})
			must(t, err)
			paged = append(paged, ids(page, saleID)...)
			if next == "" {
				break
			}
			cursor = next
		}
		diff(t, "paged sales", sortedDesc([]string{s1.ID, s2.ID, s3.ID}), paged)
		_, err = b.svc.Leads.Sale(as(b.mgr), s3.ID)
		wantErr(t, err, crm.ENOTFOUND, "")
		_, err = b.svc.Leads.MoveSale(as(b.mgr), s3.ID, crm.SaleKYC)
		wantErr(t, err, crm.ENOTFOUND, "")
		if s, _ := b.st.Sale(context.Background(), s3.ID); s.Stage != crm.SaleNew {
			t.Errorf("another manager moved a sale: %+v", s)
		}
		_, err = b.svc.Leads.MoveSale(as(b.senior), s3.ID, crm.SaleKYC)
		must(t, err)
	}},
	{"LeadTrail", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		other := b.leadAt(t, crm.LeadContacted)
		l := b.newLead(t, ctx, crm.LeadInput{Source: crm.SourceScanner, BusinessDomain: "second"})
		name := "Renamed"
		steps := []func() error{
			func() error { _, err := b.svc.Leads.UpdateLead(ctx, l.ID, crm.LeadUpdate{Name: &name}); return err },
			func() error { _, err := b.svc.Leads.SetMessages(ctx, l.ID, 5); return err },
			func() error { _, err := b.svc.Leads.IncrementMessages(ctx, l.ID); return err },
			func() error { _, err := b.svc.Leads.MoveLead(ctx, l.ID, crm.LeadContacted); return err },
			func() error { _, err := b.svc.Leads.MoveLead(ctx, l.ID, crm.LeadQualified); return err },
			func() error { _, err := b.svc.Analyses.Analyze(ctx, l.ID); return err },
			func() error { _, err := b.svc.Leads.Transfer(ctx, l.ID); return err },
		}
		for i, step := range steps {
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		s, err := b.st.SaleByLead(context.Background(), l.ID)
		must(t, err)
		_, err = b.svc.Leads.MoveSale(as(b.senior), s.ID, crm.SaleKYC)
		must(t, err)
		_, err = b.svc.Leads.MoveSale(as(b.senior), s.ID, crm.SaleAgreement)
		must(t, err)

		ev, err := b.svc.Leads.LeadEvents(ctx, l.ID)
		must(t, err)
		ev = byTime(ev) // the list order is checked by TrailOrder
		type row struct{ Action, From, To, Actor, Sale string }
		var got []row
		for _, e := range ev {
			got = append(got, row{e.Action, e.From, e.To, e.ActorID, e.SaleID})
			if e.LeadID != l.ID {
				t.Errorf("event %s of lead %q in the trail of %s", e.Action, e.LeadID, l.ID)
			}
			wantUTC(t, e.Action+" CreatedAt", e.CreatedAt)
		}
		m, sr := b.mgr.ID, b.senior.ID
		diff(t, "trail", []row{
			{crm.ActionLeadCreated, "", "new", m, ""},
			{crm.ActionLeadUpdated, "", "", m, ""},
			{crm.ActionLeadMessages, "", "", m, ""},
			{crm.ActionLeadMessages, "", "", m, ""},
			{crm.ActionLeadStage, "new", "contacted", m, ""},
			{crm.ActionLeadStage, "contacted", "qualified", m, ""},
			{crm.ActionLeadAnalyzed, "", "", m, ""},
			{crm.ActionLeadTransferred, "qualified", "transferred", m, s.ID},
			{crm.ActionSaleStage, "new", "kyc", sr, s.ID},
			{crm.ActionSaleStage, "kyc", "agreement", sr, s.ID},
		}, got)
		if len(ev) == len(got) && len(ev) > 3 {
			if ev[0].RequestID != "req-"+b.mgr.Email || ev[len(ev)-1].RequestID != "req-"+b.senior.Email {
				t.Errorf("request ids %q, %q", ev[0].RequestID, ev[len(ev)-1].RequestID)
			}
			diff(t, "messages event data", map[string]any{"from": 0.0, "to": 5.0}, ev[2].Data)
			diff(t, "update event data", map[string]any{"changes": map[string]any{"name": map[string]any{"from": "", "to": "Renamed"}}}, ev[1].Data)
			if ev[4].Data != nil {
				t.Errorf("stage event data = %#v, want nil", ev[4].Data)
			}
		}
		// The other lead's trail is its own.
		diff(t, "other trail", []string{crm.ActionLeadCreated, crm.ActionLeadStage}, actions(byTime(b.trail(t, other.ID))))
	}},
	{"Audit", func(t *testing.T, b *bundle) {
		l := b.leadAt(t, crm.LeadContacted)
		l2 := b.leadOf(t, b.mgr2, crm.LeadQualified)
		_, err := b.svc.Leads.MoveLead(as(b.senior), l.ID, crm.LeadQualified)
		must(t, err)
		_, err = b.svc.Leads.MoveLead(as(b.senior), l2.ID, crm.LeadLost)
		must(t, err)
		all, next, err := b.svc.Leads.Audit(as(b.admin), crm.EventFilter{})
		must(t, err)
		if next != "" {
			t.Errorf("next = %q", next)
		}
		// 4 users created, 2 leads created, 1+2 stage moves by managers, 2 by the senior.
		if len(all) != 11 {
			t.Errorf("%d events, want 11: %v", len(all), actions(all))
		}
		wantNewestFirst(t, "audit", ids(all, eventID)) // by time: AuditOrder
		pick := func(keep func(e *crm.Event) bool) []string {
			out := []string{}
			for _, e := range all {
				if keep(e) {
					out = append(out, e.ID)
				}
			}
			return out
		}
		byT := byTime(all)
		mid, lo, hi := byT[len(byT)/2].CreatedAt, byT[2].CreatedAt, byT[8].CreatedAt
		for _, tc := range []struct {
			name string
			f    crm.EventFilter
			want []string
		}{
			{"actor", crm.EventFilter{ActorID: b.mgr.ID}, pick(func(e *crm.Event) bool { return e.ActorID == b.mgr.ID })},
			{"actor senior", crm.EventFilter{ActorID: b.senior.ID}, pick(func(e *crm.Event) bool { return e.ActorID == b.senior.ID })},
			{"action", crm.EventFilter{Action: crm.ActionUserCreated}, pick(func(e *crm.Event) bool { return e.Action == crm.ActionUserCreated })},
			{"actor and action", crm.EventFilter{ActorID: b.mgr2.ID, Action: crm.ActionLeadStage},
				pick(func(e *crm.Event) bool { return e.ActorID == b.mgr2.ID && e.Action == crm.ActionLeadStage })},
			{"since", crm.EventFilter{Since: mid.Add(-time.Millisecond)}, pick(func(e *crm.Event) bool { return !e.CreatedAt.Before(mid) })},
			{"until", crm.EventFilter{Until: mid.Add(time.Millisecond)}, pick(func(e *crm.Event) bool { return !e.CreatedAt.After(mid) })},
			{"since and until", crm.EventFilter{Since: lo.Add(-500 * time.Millisecond), Until: hi.Add(500 * time.Millisecond)},
				pick(func(e *crm.Event) bool { return !e.CreatedAt.Before(lo) && !e.CreatedAt.After(hi) })},
			{"since in another zone", crm.EventFilter{Since: mid.Add(-time.Millisecond).In(time.FixedZone("X", -5*3600))},
				pick(func(e *crm.Event) bool { return !e.CreatedAt.Before(mid) })},
			{"nothing", crm.EventFilter{Action: "no.such"}, []string{}},
		} {
			got, _, err := b.svc.Leads.Audit(as(b.senior), tc.f)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			diff(t, tc.name, tc.want, ids(got, eventID))
		}
		// Pages of five come out the same as one page.
		var paged []string
		cursor := ""
		for range 10 {
			page, next, err := b.svc.Leads.Audit(as(b.admin), crm.EventFilter{Limit: 5, After: cursor})
			must(t, err)
			paged = append(paged, ids(page, eventID)...)
			if next == "" {
				break
			}
			cursor = next
		}
		diff(t, "paged audit", ids(all, eventID), paged)
		_, _, err = b.svc.Leads.Audit(as(b.mgr), crm.EventFilter{})
		wantErr(t, err, crm.EFORBIDDEN, crm.CodeForbidden)
	}},
	{"Analyses", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		l := b.leadAt(t, crm.LeadContacted)
		other := b.leadAt(t, crm.LeadNew)
		b.analyze(t, ctx, other.ID, 0.1, crm.RecommendLost)
		var want []*crm.AnalysisRecord
		for i, sc := range []float64{0.3, 0.5, 0.7} {
			if i > 0 {
				_, err := b.svc.Leads.SetMessages(ctx, l.ID, 10*i)
				must(t, err)
			}
			facts := b.lead(t, l.ID).Facts()
			a := b.analyze(t, ctx, l.ID, sc, crm.RecommendNurture)
			score := sc
			want = append(want, &crm.AnalysisRecord{LeadID: l.ID, ActorID: b.mgr.ID, Facts: facts, Provider: TestCall.Provider,
				Model: TestCall.Model, PromptVersion: TestCall.PromptVersion, Score: &score, Recommendation: crm.RecommendNurture,
				Reason: fmt.Sprintf("score %v", sc), RawOutput: TestCall.RawOutput, InputTokens: TestCall.InputTokens,
				OutputTokens: TestCall.OutputTokens, LatencyMS: TestCall.Latency.Milliseconds(), CostUSD: TestCall.CostUSD,
				CreatedAt: a.AnalyzedAt})
		}
		slices.Reverse(want)
		got, err := b.svc.Analyses.Analyses(ctx, l.ID)
		must(t, err)
		wantNewestFirst(t, "analyses", ids(got, func(a *crm.AnalysisRecord) string { return a.ID }))
		lim, err := b.st.Analyses(context.Background(), l.ID, 2)
		must(t, err)
		if len(lim) != 2 || len(got) == 3 && (lim[0].ID != got[0].ID || lim[1].ID != got[1].ID) {
			t.Errorf("Analyses(limit 2) = %v", ids(lim, func(a *crm.AnalysisRecord) string { return a.ID }))
		}
		got = analysesByTime(got) // the list order is checked by AnalysesOrder
		if len(got) == len(want) {
			for i := range got {
				want[i].ID = got[i].ID
				wantUTC(t, "analysis CreatedAt", got[i].CreatedAt)
			}
		}
		diff(t, "analyses", want, got)
	}},
	{"AnalysisFailure", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		l := b.eligible(t)
		before := b.lead(t, l.ID)
		trail := b.trail(t, l.ID)
		for i, tc := range []struct {
			err        error
			kind, code string
		}{
			{&crm.Error{Kind: crm.EBADGATEWAY, Code: crm.CodeAIBadAnswer, Message: "score out of range"}, crm.EBADGATEWAY, crm.CodeAIBadAnswer},
			{crm.Unavailable(crm.CodeAIUnavailable, "overloaded", 0, nil), crm.EUNAVAILABLE, crm.CodeAIUnavailable},
			{errors.New("boom"), crm.EBADGATEWAY, crm.CodeAIBadAnswer},
		} {
			b.scorer.Fail(tc.err)
			_, err := b.svc.Analyses.Analyze(ctx, l.ID)
			wantErr(t, err, tc.kind, tc.code)
			diff(t, "lead after a failed analysis", before, b.lead(t, l.ID))
			diff(t, "trail after a failed analysis", actions(trail), actions(b.trail(t, l.ID)))
			log, err := b.st.Analyses(context.Background(), l.ID, 10)
			must(t, err)
			log = analysesByTime(log)
			if len(log) != i+2 {
				t.Fatalf("%d analysis rows, want %d", len(log), i+2)
			}
			r := log[0]
			if r.Score != nil || r.Recommendation != "" || r.ErrorCode != tc.code || r.ErrorMessage == "" ||
				r.Facts != before.Facts() || r.Provider != TestCall.Provider || r.LatencyMS != 1234 || r.ActorID != b.mgr.ID {
				t.Errorf("failure row = %+v", r)
			}
			if log[len(log)-1].Score == nil || *log[len(log)-1].Score != 0.8 {
				t.Errorf("first row = %+v, want the successful analysis", log[len(log)-1])
			}
		}
		// The earlier analysis still stands.
		b.wantAllowed(t, ctx, l.ID)
	}},
	{"EnsureSetting", func(t *testing.T, b *bundle) {
		bg := context.Background()
		got := make([]string, 16)
		errs := parallel(16, func(i int) error {
			var err error
			got[i], err = b.st.EnsureSetting(bg, "jwt_secret", fmt.Sprint("secret-", i))
			return err
		})
		for _, err := range errs {
			must(t, err)
		}
		if !strings.HasPrefix(got[0], "secret-") {
			t.Fatalf("values = %v", got)
		}
		for _, v := range got {
			if v != got[0] {
				t.Fatalf("concurrent EnsureSetting disagree: %v", got)
			}
		}
		again, err := b.st.EnsureSetting(bg, "jwt_secret", "other")
		must(t, err)
		if again != got[0] {
			t.Errorf("EnsureSetting again = %q, want %q", again, got[0])
		}
		v, err := b.st.EnsureSetting(bg, "other_key", "x")
		must(t, err)
		if v != "x" {
			t.Errorf("another key = %q, want x", v)
		}
	}},
	{"InTxRollback", func(t *testing.T, b *bundle) {
		bg := context.Background()
		sentinel := errors.New("sentinel")
		now := time.Now().UTC().Truncate(time.Microsecond)
		l := &crm.Lead{ID: crm.NewID(), Source: crm.SourceManual, Stage: crm.LeadNew, CreatedAt: now, UpdatedAt: now}
		err := b.st.InTx(bg, func(tx crm.Tx) error {
			if err := tx.InsertLead(bg, l); err != nil {
				return err
			}
			return sentinel
		})
		if !errors.Is(err, sentinel) {
			t.Errorf("InTx = %v, want the function's error", err)
		}
		_, err = b.st.Lead(bg, l.ID)
		wantErr(t, err, crm.ENOTFOUND, "")
		// A domain error passes through InTx unchanged.
		err = b.st.InTx(bg, func(tx crm.Tx) error { return crm.Errorf(crm.ECONFLICT, crm.CodeLeadClosed, "closed") })
		wantErr(t, err, crm.ECONFLICT, crm.CodeLeadClosed)
		// And a committed insert is there.
		must(t, b.st.InTx(bg, func(tx crm.Tx) error { return tx.InsertLead(bg, l) }))
		diff(t, "inserted lead", l, b.lead(t, l.ID))
	}},
}
