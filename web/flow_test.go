package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmleads/crm/ai/fakeclaude"
)

var nextRe = regexp.MustCompile(`^<([^>]+)>;\s*rel="next"$`)

// TestPagination follows the Link rel="next" headers: every lead exactly
// once, newest first, with the filters kept on every page.
func TestPagination(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		var created []string // in creation order
		for i := range 120 {
			created = append(created, e.createLead(e.mgr, map[string]any{"source": "partner", "name": "Lead " + strconv.Itoa(i)}).ID)
		}
		for range 10 {
			e.createLead(e.mgr, map[string]any{"source": "manual"})    // filtered out by source
			e.createLead(e.other, map[string]any{"source": "partner"}) // not the manager's
		}
		for _, tc := range []struct {
			name, token, query string
		}{
			{"manager, source filter", e.mgr.Token, "source=partner&limit=50"},
			{"senior, owner and source filters", e.senior.Token, "owner_id=" + e.mgr.ID + "&source=partner&limit=50"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				var got []leadJSON
				path := "/leads?" + tc.query
				pages := 0
				for path != "" {
					pages++
					if pages > 10 {
						t.Fatal("more than 10 pages: the cursor does not advance")
					}
					res := e.must(200, "GET", path, tc.token, nil)
					var page []leadJSON
					res.decode(t, &page)
					if len(page) > 50 {
						t.Errorf("page %d has %d leads, limit 50", pages, len(page))
					}
					got = append(got, page...)
					path = ""
					if link := res.Header.Get("Link"); link != "" {
						m := nextRe.FindStringSubmatch(link)
						if m == nil {
							t.Fatalf("Link %q is not <…>; rel=\"next\"", link)
						}
						u, err := url.Parse(m[1])
						if err != nil {
							t.Fatal(err)
						}
						want, _ := url.ParseQuery(tc.query)
						for k, v := range want {
							if !cmp.Equal(u.Query()[k], v) {
								t.Errorf("next link %q lost the filter %s=%v", m[1], k, v)
							}
						}
						path = m[1]
					}
				}
				if pages != 3 {
					t.Errorf("%d pages, want 3 (50+50+20)", pages)
				}
				ids := make([]string, len(got))
				for i, l := range got {
					ids[i] = l.ID
					if l.Source != "partner" || l.OwnerID == nil || *l.OwnerID != e.mgr.ID {
						t.Errorf("lead %s: source %s owner %v escapes the filter", l.ID, l.Source, l.OwnerID)
					}
				}
				want := slices.Clone(created)
				slices.Sort(want)
				slices.Reverse(want)
				if diff := cmp.Diff(want, ids); diff != "" {
					t.Errorf("leads over all pages (-want +got):\n%s", diff)
				}
				// Newest first: a lead created earlier may precede a later one
				// only within one millisecond (the time part of a UUIDv7).
				pos := map[string]int{}
				for i, id := range created {
					pos[id] = i
				}
				for i := 1; i < len(ids); i++ {
					a, b := ids[i-1], ids[i]
					if pos[a] < pos[b] && a[:13] != b[:13] {
						t.Errorf("lead %s (created #%d) listed before the newer %s (#%d)", a, pos[a], b, pos[b])
					}
				}
			})
		}
	})
}

type eventJSON struct {
	Action  string         `json:"action"`
	From    string         `json:"from"`
	To      string         `json:"to"`
	ActorID *string        `json:"actor_id"`
	LeadID  *string        `json:"lead_id"`
	SaleID  *string        `json:"sale_id"`
	Data    map[string]any `json:"data"`
}

type analysisJSON struct {
	Score          float64 `json:"score"`
	Recommendation string  `json:"recommendation"`
	Reason         string  `json:"reason"`
	Provider       string  `json:"provider"`
	Model          string  `json:"model"`
	PromptVersion  string  `json:"prompt_version"`
	AnalyzedAt     string  `json:"analyzed_at"`
}

// TestFlow takes a lead from creation to a paid sale through HTTP, the AI
// being the real client against the fake Claude.
func TestFlow(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		contact := map[string]string{"name": "Olena Kovalenko", "email": "olena.k@example.org", "phone": "+380441234567",
			"company": "Kovalenko Logistics", "note": "met at the Lviv fair; prefers mornings"}
		body := map[string]any{"source": "partner", "messages_count": 2}
		for k, v := range contact {
			body[k] = v
		}
		l := e.createLead(e.mgr, body)
		id := l.ID
		e.must(200, "PATCH", "/leads/"+id+"/stage", e.mgr.Token, map[string]any{"stage": "contacted"})
		e.must(200, "PATCH", "/leads/"+id+"/stage", e.mgr.Token, map[string]any{"stage": "qualified"})
		e.must(200, "PATCH", "/leads/"+id, e.mgr.Token, map[string]any{"business_domain": "second"})

		e.fake.Reset()
		e.fake.Enqueue(fakeclaude.Text(answer(0.6, "continue_nurturing")))
		var an analysisJSON
		e.must(200, "POST", "/leads/"+id+"/analyze", e.mgr.Token, nil).decode(t, &an)
		if an.Score != 0.6 || an.Recommendation != "continue_nurturing" || an.Provider != "claude" || an.Model == "" || an.PromptVersion == "" {
			t.Errorf("analysis %+v", an)
		}

		// Privacy through the whole stack: only the four facts left.
		reqs := e.fake.Requests()
		if len(reqs) != 1 {
			t.Fatalf("the fake got %d requests, want 1", len(reqs))
		}
		raw := string(reqs[0].Body)
		for _, secret := range []string{contact["name"], contact["email"], contact["phone"], contact["company"],
			contact["note"], "Kovalenko", "olena", "380441234567", id, e.mgr.ID, e.mgr.Email} {
			if strings.Contains(strings.ToLower(raw), strings.ToLower(secret)) {
				t.Errorf("the request to the AI contains %q", secret)
			}
		}
		var facts map[string]any
		if err := json.Unmarshal([]byte(reqs[0].UserText()), &facts); err != nil {
			t.Fatalf("user message %q is not JSON: %v", reqs[0].UserText(), err)
		}
		wantFacts := map[string]any{"source": "partner", "stage": "qualified", "messages_count": 2.0, "has_business_domain": true}
		if diff := cmp.Diff(wantFacts, facts); diff != "" {
			t.Errorf("facts sent (-want +got):\n%s", diff)
		}

		var check struct {
			Allowed   bool     `json:"allowed"`
			Blockers  []string `json:"blockers"`
			Threshold float64  `json:"threshold"`
		}
		e.must(200, "GET", "/leads/"+id+"/transfer-check", e.mgr.Token, nil).decode(t, &check)
		if !check.Allowed || len(check.Blockers) != 0 || check.Threshold != 0.6 {
			t.Errorf("transfer-check %+v, want allowed at 0.6", check)
		}
		var sale, leadSale saleJSON
		e.must(201, "POST", "/leads/"+id+"/transfer", e.mgr.Token, nil).decode(t, &sale)
		if sale.LeadID != id || sale.Stage != "new" || sale.TransferredBy == nil || *sale.TransferredBy != e.mgr.ID {
			t.Errorf("sale %+v", sale)
		}
		e.must(200, "GET", "/leads/"+id+"/sale", e.mgr.Token, nil).decode(t, &leadSale)
		if diff := cmp.Diff(sale.ID, leadSale.ID); diff != "" {
			t.Errorf("GET /leads/{id}/sale: %s", diff)
		}
		var got leadJSON
		e.must(200, "GET", "/leads/"+id, e.mgr.Token, nil).decode(t, &got)
		if got.Stage != "transferred" {
			t.Errorf("lead stage %q after transfer", got.Stage)
		}
		for _, st := range []string{"kyc", "agreement", "paid"} {
			var s saleJSON
			e.must(200, "PATCH", "/sales/"+sale.ID+"/stage", e.mgr.Token, map[string]any{"stage": st}).decode(t, &s)
			if s.Stage != st {
				t.Errorf("sale stage %q, want %q", s.Stage, st)
			}
		}
		problemOf(t, e.do("PATCH", "/sales/"+sale.ID+"/stage", e.mgr.Token, map[string]any{"stage": "lost"}), http.StatusConflict)

		var events []eventJSON
		e.must(200, "GET", "/leads/"+id+"/events", e.mgr.Token, nil).decode(t, &events)
		type step struct{ Action, From, To string }
		var steps []step
		for _, ev := range events {
			steps = append(steps, step{ev.Action, ev.From, ev.To})
			if ev.ActorID == nil || *ev.ActorID != e.mgr.ID {
				t.Errorf("event %s: actor %v, want %s", ev.Action, ev.ActorID, e.mgr.ID)
			}
			if ev.Action == "lead.transferred" {
				if ev.Data["score"] != 0.6 || ev.Data["threshold"] != 0.6 {
					t.Errorf("transfer event data %v: want score 0.6 and threshold 0.6", ev.Data)
				}
				if ev.SaleID == nil || *ev.SaleID != sale.ID {
					t.Errorf("transfer event sale %v", ev.SaleID)
				}
			}
		}
		want := []step{
			{"lead.created", "", "new"},
			{"lead.stage_changed", "new", "contacted"},
			{"lead.stage_changed", "contacted", "qualified"},
			{"lead.updated", "", ""},
			{"lead.analyzed", "", ""},
			{"lead.transferred", "qualified", "transferred"},
			{"sale.stage_changed", "new", "kyc"},
			{"sale.stage_changed", "kyc", "agreement"},
			{"sale.stage_changed", "agreement", "paid"},
		}
		if diff := cmp.Diff(want, steps); diff != "" {
			t.Errorf("events, oldest first (-want +got):\n%s", diff)
		}
	})
}

// TestTransferRules checks the score threshold, the recommendation's
// irrelevance and staleness through HTTP.
func TestTransferRules(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		blocked := func(id string, want ...string) {
			t.Helper()
			p := problemOf(t, e.do("POST", "/leads/"+id+"/transfer", e.mgr.Token, nil), http.StatusConflict)
			if p.code() != "transfer_blocked" {
				t.Errorf("code %q, want transfer_blocked", p.code())
			}
			if diff := cmp.Diff(want, p.Blockers); diff != "" {
				t.Errorf("blockers (-want +got):\n%s", diff)
			}
		}

		low := e.eligibleLead(e.mgr, 0.59, "transfer_to_sales")
		blocked(low.ID, "score_below_threshold")

		lost := e.eligibleLead(e.mgr, 0.9, "mark_as_lost")
		e.must(201, "POST", "/leads/"+lost.ID+"/transfer", e.mgr.Token, nil)

		stale := e.eligibleLead(e.mgr, 0.8, "transfer_to_sales")
		var l leadJSON
		e.must(200, "PATCH", "/leads/"+stale.ID+"/messages", e.mgr.Token, map[string]any{"messages_count": 4}).decode(t, &l)
		if !l.AIStale {
			t.Errorf("ai_stale false after a messages change")
		}
		blocked(stale.ID, "analysis_stale")
		// Clearing the domain makes it stale too, and lists both blockers.
		e.must(200, "PATCH", "/leads/"+stale.ID, e.mgr.Token, `{"business_domain":null}`)
		blocked(stale.ID, "no_business_domain", "analysis_stale")
		// A contact edit does not make it stale.
		fresh := e.eligibleLead(e.mgr, 0.8, "transfer_to_sales")
		e.must(200, "PATCH", "/leads/"+fresh.ID, e.mgr.Token, map[string]any{"note": "called back"})
		e.must(201, "POST", "/leads/"+fresh.ID+"/transfer", e.mgr.Token, nil)
		// A second transfer of the same lead is refused.
		p := problemOf(t, e.do("POST", "/leads/"+fresh.ID+"/transfer", e.mgr.Token, nil), http.StatusConflict)
		if p.code() != "lead_closed" {
			t.Errorf("second transfer: code %q, want lead_closed", p.code())
		}
	})
}

// TestAIFailures: a bad answer is a 502 leaving no score; an overloaded
// provider a 503 with Retry-After; the log keeps both, newest first.
func TestAIFailures(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		l := e.createLead(e.mgr, map[string]any{"source": "scanner"})
		path := "/leads/" + l.ID

		e.fake.Enqueue(fakeclaude.Text(`{"score": 1.7, "recommendation": "transfer_to_sales", "reason": "too sure"}`))
		p := problemOf(t, e.do("POST", path+"/analyze", e.mgr.Token, nil), http.StatusBadGateway)
		if p.code() != "ai_bad_answer" {
			t.Errorf("code %q, want ai_bad_answer", p.code())
		}
		e.fake.Enqueue(fakeclaude.Text(`not json at all`))
		problemOf(t, e.do("POST", path+"/analyze", e.mgr.Token, nil), http.StatusBadGateway)
		var got leadJSON
		e.must(200, "GET", path, e.mgr.Token, nil).decode(t, &got)
		if got.AIScore != nil || got.AIRecommendation != nil {
			t.Errorf("after a bad answer the lead has ai_score %v, ai_recommendation %v", got.AIScore, got.AIRecommendation)
		}

		e.fake.Enqueue(fakeclaude.Text(answer(0.42, "continue_nurturing")))
		e.must(200, "POST", path+"/analyze", e.mgr.Token, nil)

		e.fake.SetDefault(func(fakeclaude.Request) fakeclaude.Response { return fakeclaude.Error(529) })
		res := e.do("POST", path+"/analyze", e.mgr.Token, nil)
		p = problemOf(t, res, http.StatusServiceUnavailable)
		if p.code() != "ai_unavailable" {
			t.Errorf("code %q, want ai_unavailable", p.code())
		}
		if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("Retry-After %q, want whole seconds ≥ 1", res.Header.Get("Retry-After"))
		}
		e.fake.SetDefault(nil)
		e.must(200, "GET", path, e.mgr.Token, nil).decode(t, &got)
		if got.AIScore == nil || *got.AIScore != 0.42 {
			t.Errorf("the failed call changed the stored score: %v", got.AIScore)
		}

		var rows []struct {
			Score     *float64 `json:"score"`
			ErrorCode *string  `json:"error_code"`
			Provider  string   `json:"provider"`
			Facts     struct {
				Source string `json:"source"`
			} `json:"facts"`
		}
		e.must(200, "GET", path+"/analyses", e.mgr.Token, nil).decode(t, &rows)
		var summary []string
		for _, r := range rows {
			switch {
			case r.ErrorCode != nil:
				summary = append(summary, "error:"+*r.ErrorCode)
			case r.Score != nil:
				summary = append(summary, "score:"+strconv.FormatFloat(*r.Score, 'f', -1, 64))
			default:
				summary = append(summary, "neither")
			}
			if r.Provider != "claude" || r.Facts.Source != "scanner" {
				t.Errorf("row %+v", r)
			}
		}
		want := []string{"error:ai_unavailable", "score:0.42", "error:ai_bad_answer", "error:ai_bad_answer"}
		if diff := cmp.Diff(want, summary); diff != "" {
			t.Errorf("analysis log, newest first (-want +got):\n%s", diff)
		}
	})
}

// TestConcurrency: of simultaneous transfers of one lead exactly one wins; of
// simultaneous identical stage moves exactly one wins; never a 500.
func TestConcurrency(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		race := func(n int, method, path, body string) map[int]int {
			var wg sync.WaitGroup
			var mu sync.Mutex
			counts := map[int]int{}
			start := make(chan struct{})
			for range n {
				wg.Go(func() {
					req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
					if err != nil {
						t.Error(err)
						return
					}
					req.Header.Set("Authorization", "Bearer "+e.mgr.Token)
					req.Header.Set("Content-Type", "application/json")
					<-start
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					res.Body.Close()
					observe(method, path, res.StatusCode)
					mu.Lock()
					counts[res.StatusCode]++
					mu.Unlock()
				})
			}
			close(start)
			wg.Wait()
			return counts
		}

		l := e.eligibleLead(e.mgr, 0.75, "transfer_to_sales")
		got := race(8, "POST", "/leads/"+l.ID+"/transfer", "")
		if diff := cmp.Diff(map[int]int{201: 1, 409: 7}, got); diff != "" {
			t.Errorf("8 concurrent transfers (-want +got statuses):\n%s", diff)
		}
		var sales []saleJSON
		e.must(200, "GET", "/sales", e.mgr.Token, nil).decode(t, &sales)
		if len(sales) != 1 {
			t.Errorf("%d sales after concurrent transfers, want 1", len(sales))
		}

		l2 := e.createLead(e.mgr, nil)
		got = race(16, "PATCH", "/leads/"+l2.ID+"/stage", `{"stage":"contacted"}`)
		if diff := cmp.Diff(map[int]int{200: 1, 409: 15}, got); diff != "" {
			t.Errorf("16 concurrent moves new→contacted (-want +got statuses):\n%s", diff)
		}
		var events []eventJSON
		e.must(200, "GET", "/leads/"+l2.ID+"/events", e.mgr.Token, nil).decode(t, &events)
		moves := 0
		for _, ev := range events {
			if ev.Action == "lead.stage_changed" {
				moves++
			}
		}
		if moves != 1 {
			t.Errorf("%d stage_changed events, want 1", moves)
		}
	})
}

// TestClosedLeadAnalysis: a transferred and a lost lead keep their analysis as
// the record of the decision (ai_stale false), and transfer-check answers
// lead_closed alone, on both stores. ui/pages_test.go shows the same on the pages.
func TestClosedLeadAnalysis(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		transferred := e.eligibleLead(e.mgr, 0.8, "transfer_to_sales")
		e.must(201, "POST", "/leads/"+transferred.ID+"/transfer", e.mgr.Token, nil)
		lost := e.eligibleLead(e.mgr, 0.3, "mark_as_lost")
		e.must(200, "PATCH", "/leads/"+lost.ID+"/stage", e.mgr.Token, map[string]any{"stage": "lost"})
		for name, id := range map[string]string{"transferred": transferred.ID, "lost": lost.ID} {
			var l leadJSON
			e.must(200, "GET", "/leads/"+id, e.mgr.Token, nil).decode(t, &l)
			if l.AIStale {
				t.Errorf("%s lead: ai_stale true, want false", name)
			}
			var check struct {
				Allowed  bool     `json:"allowed"`
				Blockers []string `json:"blockers"`
			}
			e.must(200, "GET", "/leads/"+id+"/transfer-check", e.mgr.Token, nil).decode(t, &check)
			if check.Allowed || !cmp.Equal(check.Blockers, []string{"lead_closed"}) {
				t.Errorf("%s lead: transfer-check %+v, want allowed false, blockers [lead_closed]", name, check)
			}
		}
		// An id typed in capitals finds the lead, on the API as on the pages.
		e.must(200, "GET", "/leads/"+strings.ToUpper(lost.ID), e.mgr.Token, nil)
	})
}
