package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmleads/crm/ai/fakeclaude"
	"github.com/crmleads/crm/internal/testdb"
)

// roundRobin is the load balancer of the replica test: httputil.ReverseProxy
// sending each request to the next backend in turn, as the Compose file's
// nginx does. It counts the answers each backend gave and every request it
// could not pass on.
type roundRobin struct {
	srv      *httptest.Server
	backends []*url.URL
	next     atomic.Uint64
	mu       sync.Mutex
	answered map[string]int // backend host → responses it gave
	failed   []string       // requests no backend answered
}

func newRoundRobin(t *testing.T, procs []*process) *roundRobin {
	t.Helper()
	rr := &roundRobin{answered: map[string]int{}}
	for _, p := range procs {
		u, err := url.Parse(p.base)
		if err != nil {
			t.Fatal(err)
		}
		rr.backends = append(rr.backends, u)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			u := rr.backends[(rr.next.Add(1)-1)%uint64(len(rr.backends))]
			r.SetURL(u)
			r.SetXForwarded()
		},
		ModifyResponse: func(resp *http.Response) error {
			rr.mu.Lock()
			rr.answered[resp.Request.URL.Host]++
			rr.mu.Unlock()
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			rr.mu.Lock()
			rr.failed = append(rr.failed, r.Method+" "+r.URL.Path+": "+err.Error())
			rr.mu.Unlock()
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	rr.srv = httptest.NewServer(rp)
	t.Cleanup(rr.srv.Close)
	return rr
}

// TestThreeReplicas runs three processes of the service on one PostgreSQL
// behind a round-robin proxy, as the Compose file does, and the races through
// it, so that the contenders are on different processes with pools of their
// own: of concurrent transfers of one lead exactly one makes a sale; of
// concurrent moves of one lead from the same stage exactly one wins; and
// every webhook event is delivered exactly once, whichever process recorded
// it and whichever delivered it. Nothing in the service is per process for
// these: the rules hold in PostgreSQL's transactions, the deliveries are
// River jobs.
func TestThreeReplicas(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		got = map[string]int{} // webhook-id → deliveries
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Header.Get("webhook-id")]++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(recv.Close)
	fake := fakeclaude.New() // every process asks the same fake Messages API
	t.Cleanup(fake.Close)
	env := map[string]string{
		"DATABASE_URL":              testdb.PostgresURL(t),
		"CRM_ADMIN_EMAIL":           "boss@example.com",
		"CRM_ADMIN_PASSWORD":        "a long admin password",
		"CRM_BCRYPT_COST":           "4",
		"CRM_WEBHOOK_ALLOW_PRIVATE": "true",
		"CRM_JWT_SECRET":            "one secret shared by the three replicas!",
		"ANTHROPIC_API_KEY":         "test-key",
		"ANTHROPIC_BASE_URL":        fake.URL(),
	}
	procs := []*process{startProcess(t, env), startProcess(t, env), startProcess(t, env)}
	rr := newRoundRobin(t, procs)
	lb := &process{base: rr.srv.URL} // calls through the proxy

	var login struct {
		AccessToken string `json:"access_token"`
	}
	if st := lb.call(t, "POST", "/auth/login", "", map[string]any{"email": "boss@example.com", "password": "a long admin password"}, &login); st != 200 {
		t.Fatalf("login: %d", st)
	}
	tok := login.AccessToken
	if st := lb.call(t, "POST", "/webhooks", tok, map[string]any{"url": recv.URL, "events": []string{"lead.lost", "lead.transferred"}}, nil); st != 201 {
		t.Fatalf("POST /webhooks: %d", st)
	}

	// race sends n copies of one request at once through the proxy and
	// returns the statuses.
	race := func(n int, method, path, body string) map[int]int {
		var (
			wg     sync.WaitGroup
			cmu    sync.Mutex
			counts = map[int]int{}
			start  = make(chan struct{})
		)
		for range n {
			wg.Go(func() {
				req, _ := http.NewRequest(method, lb.base+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				<-start
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("%s %s: %v", method, path, err)
					return
				}
				resp.Body.Close()
				cmu.Lock()
				counts[resp.StatusCode]++
				cmu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		return counts
	}
	type leadJSON struct {
		ID string `json:"id"`
	}

	// Concurrent transfers of one eligible lead: one 201, one sale.
	var l leadJSON
	if st := lb.call(t, "POST", "/leads", tok, map[string]any{"source": "partner", "business_domain": "first", "messages_count": 3}, &l); st != 201 {
		t.Fatalf("POST /leads: %d", st)
	}
	for _, stage := range []string{"contacted", "qualified"} {
		if st := lb.call(t, "PATCH", "/leads/"+l.ID+"/stage", tok, map[string]any{"stage": stage}, nil); st != 200 {
			t.Fatalf("PATCH stage %s: %d", stage, st)
		}
	}
	fake.Enqueue(fakeclaude.Text(`{"score":0.8,"recommendation":"transfer_to_sales","reason":"scripted by the test","reason_uk":"за сценарієм тесту"}`))
	if st := lb.call(t, "POST", "/leads/"+l.ID+"/analyze", tok, nil, nil); st != 200 {
		t.Fatalf("analyze: %d", st)
	}
	const transfers = 9
	if got := race(transfers, "POST", "/leads/"+l.ID+"/transfer", ""); got[201] != 1 || got[409] != transfers-1 {
		t.Errorf("%d concurrent transfers through three replicas: statuses %v, want one 201 and %d 409", transfers, got, transfers-1)
	}
	var sales []struct {
		LeadID string `json:"lead_id"`
	}
	if st := lb.call(t, "GET", "/sales", tok, nil, &sales); st != 200 || len(sales) != 1 || sales[0].LeadID != l.ID {
		t.Errorf("GET /sales = %d %+v: want the one sale of lead %s", st, sales, l.ID)
	}

	// Concurrent moves of one lead from the same stage: one winner, one event.
	var l2 leadJSON
	if st := lb.call(t, "POST", "/leads", tok, map[string]any{"source": "manual"}, &l2); st != 201 {
		t.Fatalf("POST /leads: %d", st)
	}
	const moves = 12
	if got := race(moves, "PATCH", "/leads/"+l2.ID+"/stage", `{"stage":"contacted"}`); got[200] != 1 || got[409] != moves-1 {
		t.Errorf("%d concurrent moves new→contacted through three replicas: statuses %v, want one 200 and %d 409", moves, got, moves-1)
	}
	var events []struct {
		Action string `json:"action"`
	}
	if st := lb.call(t, "GET", "/leads/"+l2.ID+"/events", tok, nil, &events); st != 200 {
		t.Fatalf("GET events: %d", st)
	}
	changed := 0
	for _, e := range events {
		if e.Action == "lead.stage_changed" {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("%d lead.stage_changed events after the concurrent moves, want 1", changed)
	}

	// Webhooks: lost leads recorded on every process, each event delivered
	// once (the one lead.transferred above included).
	const lost = 15
	var wg sync.WaitGroup
	for range lost {
		wg.Go(func() {
			var l leadJSON
			if st := lb.call(t, "POST", "/leads", tok, map[string]any{"source": "manual"}, &l); st != 201 {
				t.Errorf("POST /leads: %d", st)
				return
			}
			if st := lb.call(t, "PATCH", "/leads/"+l.ID+"/stage", tok, map[string]any{"stage": "lost"}, nil); st != 200 {
				t.Errorf("PATCH stage lost: %d", st)
			}
		})
	}
	wg.Wait()
	const want = lost + 1
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // room for a duplicate to show up
	mu.Lock()
	if len(got) != want {
		t.Errorf("%d distinct events delivered, want %d", len(got), want)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	mu.Unlock()

	// Each process answered its share through the proxy, so the races above
	// were between processes, not within one.
	rr.mu.Lock()
	defer rr.mu.Unlock()
	for _, u := range rr.backends {
		if rr.answered[u.Host] < 10 {
			t.Errorf("backend %s answered %d requests through the proxy, want its share (answers by backend: %v)", u.Host, rr.answered[u.Host], rr.answered)
		}
	}
	if len(rr.failed) > 0 {
		t.Errorf("the proxy reached no backend for: %v", rr.failed)
	}
}
