package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/testdb"
	"github.com/crmleads/crm/jobs"
	"github.com/crmleads/crm/postgres"
	"github.com/crmleads/crm/sqlite"
	"github.com/crmleads/crm/storetest"
	"github.com/crmleads/crm/webhook"
)

// ---- a receiver that checks signatures with its own code ----

// received is one request as the receiver saw it.
type received struct {
	ID, Timestamp string
	Signatures    []string
	Body          []byte
	Verified      bool // one v1 signature matched the receiver's secret
	Payload       crm.WebhookPayload
}

// receiver is a Standard Webhooks endpoint. It verifies signatures itself —
// HMAC-SHA256 of "id.timestamp.body" with the base64-decoded secret — so a
// bug in the service's signing cannot pass by agreeing with itself.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	got    []received
	answer func(n int) int // status for the n-th request (1-based)
	stall  chan struct{}   // when set, requests wait for it to close
	seen   chan struct{}   // one send per request
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{answer: func(int) int { return 200 }, seen: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) setSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = s
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	rec := received{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signatures: strings.Fields(req.Header.Get("webhook-signature")), Body: body}
	r.mu.Lock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.secret, "whsec_"))
	r.mu.Unlock()
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(rec.ID + "." + rec.Timestamp + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range rec.Signatures {
		if hmac.Equal([]byte(s), []byte(want)) {
			rec.Verified = true
		}
	}
	ts, err := strconv.ParseInt(rec.Timestamp, 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		rec.Verified = false
	}
	_ = json.Unmarshal(body, &rec.Payload)
	r.mu.Lock()
	r.got = append(r.got, rec)
	n, stall := len(r.got), r.stall
	status := r.answer(n)
	r.mu.Unlock()
	r.seen <- struct{}{}
	if stall != nil {
		select {
		case <-stall:
		case <-req.Context().Done():
			return
		}
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"n":%d}`, n)
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// ---- one service process: store, services, job engine ----

type proc struct {
	st     crm.Store
	svc    *crm.Services
	engine jobs.Engine
}

type harness struct {
	t            *testing.T
	url          string // DATABASE_URL style
	admin, mgr   context.Context
	adminID      string
	schedule     []time.Duration
	telegramAPI  string
	allowPrivate bool
	procs        []*proc
	softStop     time.Duration
}

func newHarness(t *testing.T, kind string) *harness {
	h := &harness{t: t, url: testdb.URL(t, kind), allowPrivate: true,
		schedule: []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond}}
	return h
}

func (h *harness) open() crm.Store {
	t := h.t
	ctx := context.Background()
	var (
		st interface {
			crm.Store
			Migrate(context.Context, string, io.Writer) error
		}
		err error
	)
	if path, ok := strings.CutPrefix(h.url, "sqlite:"); ok {
		st, err = sqlite.Open(ctx, path)
	} else {
		st, err = postgres.Open(ctx, h.url)
	}
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx, "up", io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// start starts one more process on the database.
func (h *harness) start() *proc {
	t := h.t
	st := h.open()
	sender := webhook.New(webhook.Config{AllowPrivate: h.allowPrivate, TelegramAPI: h.telegramAPI})
	svc := crm.NewServices(crm.Config{Store: st, Scorer: storetest.NewScorer(), Hasher: storetest.Hasher{},
		Domains: storetest.Domains, Webhooks: crm.WebhookConfig{Sender: sender, AllowPrivate: h.allowPrivate,
			Schedule: h.schedule}})
	var (
		eng jobs.Engine
		err error
	)
	cfg := jobs.Config{Webhooks: svc.Webhooks, PollInterval: 100 * time.Millisecond, SoftStop: h.softStop,
		ID: fmt.Sprintf("proc-%d", len(h.procs))}
	switch db := st.(type) {
	case *sqlite.DB:
		eng, err = jobs.NewSQLite(db.Writer(), cfg)
	case *postgres.DB:
		eng, err = jobs.NewPostgres(db.Pool(), cfg)
	}
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	p := &proc{st: st, svc: svc, engine: eng}
	t.Cleanup(func() { p.stop() })
	h.procs = append(h.procs, p)
	if h.admin == nil {
		sys := crm.WithActor(context.Background(), crm.System)
		mk := func(email string, role crm.Role) context.Context {
			u, err := svc.Users.CreateUser(sys, crm.UserInput{Email: email, Name: email, Role: role, Password: "password-" + email})
			if err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			if role == crm.RoleAdmin {
				h.adminID = u.ID
			}
			return crm.WithActor(context.Background(), crm.Actor{UserID: u.ID, Role: role})
		}
		h.admin, h.mgr = mk("admin@example.com", crm.RoleAdmin), mk("mgr@example.com", crm.RoleManager)
	}
	return p
}

func (p *proc) stop() {
	if p.engine == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = p.engine.Stop(ctx)
	p.engine = nil
}

// subscribe creates a subscription to the receiver and gives it the secret.
func (h *harness) subscribe(p *proc, r *receiver, events ...string) *crm.Subscription {
	h.t.Helper()
	sub, secret, err := p.svc.Webhooks.CreateSubscription(h.admin, crm.SubscriptionInput{URL: r.URL + "/hook", Events: events})
	if err != nil {
		h.t.Fatalf("CreateSubscription: %v", err)
	}
	r.setSecret(secret)
	return sub
}

// lostLead creates a lead and loses it: one lead.lost event.
func (h *harness) lostLead(p *proc) *crm.Lead {
	h.t.Helper()
	n := crm.NewID()[24:]
	l, err := p.svc.Leads.CreateLead(h.mgr, crm.LeadInput{Source: crm.SourceManual, Name: "Olena " + n, Company: "Acme " + n,
		Email: "olena-" + n + "@acme.example"})
	if err != nil {
		h.t.Fatalf("CreateLead: %v", err)
	}
	if _, err := p.svc.Leads.MoveLead(h.mgr, l.ID, crm.LeadLost); err != nil {
		h.t.Fatalf("MoveLead: %v", err)
	}
	return l
}

// eventually polls cond every 20 ms for up to 60 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) deliveries(p *proc, sub string) []*crm.Delivery {
	h.t.Helper()
	ds, _, err := p.svc.Webhooks.Deliveries(h.admin, crm.DeliveryFilter{SubscriptionID: sub, Limit: 500})
	if err != nil {
		h.t.Fatalf("Deliveries: %v", err)
	}
	return ds
}

func forKinds(t *testing.T, f func(t *testing.T, kind string)) {
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f(t, kind)
		})
	}
}

// ---- the tests ----

// A transfer and a sale's stages reach the receiver, signed, with the payload
// the docs describe; contacts only for the subscription that asks.
func TestDeliveryEndToEnd(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, kind)
		p := h.start()
		r := newReceiver(t)
		h.subscribe(p, r, crm.WebhookLeadTransferred, crm.WebhookSalePaid, crm.WebhookSaleStageChanged)
		l, err := p.svc.Leads.CreateLead(h.mgr, crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "first", MessagesCount: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range []crm.LeadStage{crm.LeadContacted, crm.LeadQualified} {
			if _, err := p.svc.Leads.MoveLead(h.mgr, l.ID, st); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := p.svc.Analyses.Analyze(h.mgr, l.ID); err != nil {
			t.Fatal(err)
		}
		sale, err := p.svc.Leads.Transfer(h.mgr, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range []crm.SaleStage{crm.SaleKYC, crm.SaleAgreement, crm.SalePaid} {
			if _, err := p.svc.Leads.MoveSale(h.mgr, sale.ID, st); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, "5 webhooks", func() bool { return len(r.requests()) >= 5 })
		got := r.requests()
		types := map[string]int{}
		for _, g := range got {
			if !g.Verified {
				t.Errorf("%s (%s): the receiver's own HMAC check failed: %v", g.Payload.Type, g.ID, g.Signatures)
			}
			if len(g.Body) >= 20<<10 {
				t.Errorf("body of %d bytes", len(g.Body))
			}
			if g.Payload.Data.LeadID != l.ID || g.Payload.Data.SaleID != sale.ID || g.Payload.Data.Contacts != nil {
				t.Errorf("%s data = %+v", g.Payload.Type, g.Payload.Data)
			}
			types[g.Payload.Type]++
		}
		if types[crm.WebhookLeadTransferred] != 1 || types[crm.WebhookSaleStageChanged] != 3 || types[crm.WebhookSalePaid] != 1 {
			t.Errorf("types received %v", types)
		}
	})
}

// A 500 is retried on the schedule with the same webhook-id until a 2xx; the
// log shows every attempt.
func TestRetriedWithSameID(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, kind)
		p := h.start()
		r := newReceiver(t)
		r.answer = func(n int) int {
			switch n {
			case 1:
				return 500
			case 2:
				return 429 // with Retry-After: 1
			}
			return 204
		}
		sub := h.subscribe(p, r, crm.WebhookLeadLost)
		h.lostLead(p)
		eventually(t, "a delivered retry", func() bool {
			ds := h.deliveries(p, sub.ID)
			return len(ds) == 1 && ds[0].Status == crm.DeliverySucceeded
		})
		got := r.requests()
		if len(got) != 3 {
			t.Fatalf("%d requests, want 3", len(got))
		}
		for _, g := range got {
			if g.ID != got[0].ID || !g.Verified {
				t.Errorf("attempt with id %s (verified %v), want %s, verified", g.ID, g.Verified, got[0].ID)
			}
		}
		d := h.deliveries(p, sub.ID)[0]
		if len(d.Attempts) != 3 || d.Attempts[0].StatusCode != 500 || d.Attempts[1].StatusCode != 429 ||
			d.Attempts[2].StatusCode != 204 || d.EventID != got[0].ID || d.Attempts[0].Response != `{"n":1}` {
			t.Errorf("attempts %+v", d.Attempts)
		}
		// Retry-After: 1 was honoured: the third attempt came no sooner.
		if gap := d.Attempts[2].At.Sub(d.Attempts[1].At); gap < time.Second {
			t.Errorf("the attempt after Retry-After: 1 came %s later", gap)
		}
	})
}

// A 410 disables the subscription at once; a replay after re-enabling sends
// the same webhook-id again.
func TestGoneAndReplay(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, kind)
		p := h.start()
		r := newReceiver(t)
		r.answer = func(n int) int {
			if n == 1 {
				return 410
			}
			return 200
		}
		sub := h.subscribe(p, r, crm.WebhookLeadLost)
		h.lostLead(p)
		eventually(t, "the 410", func() bool {
			s, _ := p.svc.Webhooks.Subscription(h.admin, sub.ID)
			return !s.Enabled
		})
		s, _ := p.svc.Webhooks.Subscription(h.admin, sub.ID)
		if !strings.Contains(s.DisabledReason, "410") {
			t.Errorf("disabled reason %q", s.DisabledReason)
		}
		on := true
		if _, err := p.svc.Webhooks.UpdateSubscription(h.admin, sub.ID, crm.SubscriptionUpdate{Enabled: &on}); err != nil {
			t.Fatal(err)
		}
		ds := h.deliveries(p, sub.ID)
		if len(ds) != 1 || ds[0].Status != crm.DeliveryDead {
			t.Fatalf("deliveries %+v, want the one dead", ds)
		}
		if _, err := p.svc.Webhooks.ReplayDelivery(h.admin, sub.ID, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the replay", func() bool {
			d := h.deliveries(p, sub.ID)[0]
			return d.Status == crm.DeliverySucceeded
		})
		got := r.requests()
		if len(got) != 2 || got[1].ID != got[0].ID || !got[1].Verified {
			t.Errorf("requests %d, ids %v: want the replay with the first id", len(got), got)
		}
	})
}

// Telegram through a fake Bot API: the path carries the token, the message
// is in the target's language, and no error text shows the token.
func TestTelegram(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		type sent struct {
			Path   string
			ChatID any    `json:"chat_id"`
			Text   string `json:"text"`
		}
		var (
			mu   sync.Mutex
			msgs []sent
		)
		bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m sent
			_ = json.NewDecoder(r.Body).Decode(&m)
			m.Path = r.URL.Path
			mu.Lock()
			msgs = append(msgs, m)
			n := len(msgs)
			mu.Unlock()
			if n == 1 { // the Bot API's flood control, once
				w.WriteHeader(429)
				fmt.Fprint(w, `{"ok":false,"error_code":429,"parameters":{"retry_after":1}}`)
				return
			}
			fmt.Fprint(w, `{"ok":true,"result":{"message_id":1}}`)
		}))
		t.Cleanup(bot.Close)
		h := newHarness(t, kind)
		h.telegramAPI = bot.URL
		p := h.start()
		token := "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
		sub, _, err := p.svc.Webhooks.CreateSubscription(h.admin, crm.SubscriptionInput{Kind: crm.KindTelegram,
			TelegramToken: token, TelegramChatID: "-1001234567890", Language: "uk", Events: []string{crm.WebhookLeadLost},
			IncludeContacts: true})
		if err != nil {
			t.Fatal(err)
		}
		h.lostLead(p)
		eventually(t, "the Telegram message", func() bool {
			ds := h.deliveries(p, sub.ID)
			return len(ds) == 1 && ds[0].Status == crm.DeliverySucceeded
		})
		mu.Lock()
		last := msgs[len(msgs)-1]
		mu.Unlock()
		if last.Path != "/bot"+token+"/sendMessage" || fmt.Sprint(last.ChatID) != "-1.00123456789e+12" && fmt.Sprint(last.ChatID) != "-1001234567890" {
			t.Errorf("sent to %s chat %v", last.Path, last.ChatID)
		}
		if !strings.Contains(last.Text, "Лід втрачено") || !strings.Contains(last.Text, "Olena") {
			t.Errorf("text %q: want the Ukrainian title and the contact", last.Text)
		}
		// A Bot API that cannot be reached: the log says so without the token.
		bot.Close()
		h.lostLead(p)
		eventually(t, "a failed attempt", func() bool {
			ds := h.deliveries(p, sub.ID)
			return len(ds) == 2 && len(ds[0].Attempts) > 0
		})
		for _, d := range h.deliveries(p, sub.ID) {
			for _, a := range d.Attempts {
				if strings.Contains(a.Error+a.Response, "AAHdqTcv") {
					t.Errorf("the delivery log shows the bot token: %+v", a)
				}
			}
		}
	})
}

// Non-public targets are refused at create (after resolving the host) and at
// connect time (the dialer's check), and redirects are not followed.
func TestSSRF(t *testing.T) {
	t.Parallel()
	r := newReceiver(t)
	s := webhook.New(webhook.Config{})
	ctx := context.Background()
	for _, u := range []string{"https://127.0.0.1/x", "https://10.1.2.3/x", "https://172.16.0.1/", "https://192.168.1.1/",
		"https://100.64.0.1/", "https://169.254.169.254/latest/meta-data", "https://[::1]/", "https://[fe80::1]/",
		"https://[fd00::1]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:10.0.0.1]/", "https://0.0.0.0/",
		"https://192.0.2.10/", "https://198.51.100.1/", "https://203.0.113.5/", "https://[2001:db8::1]/",
		"https://[2002:a00:1::]/", "https://localhost/", "https://[64:ff9b::a00:1]/"} {
		err := s.CheckTarget(ctx, &crm.Subscription{Kind: crm.KindWebhook, URL: u})
		if !crm.IsKind(err, crm.EINVALID) {
			t.Errorf("CheckTarget(%s) = %v, want EINVALID", u, err)
		}
	}
	if err := s.CheckTarget(ctx, &crm.Subscription{Kind: crm.KindWebhook, URL: "https://93.184.215.14/hook"}); err != nil {
		t.Errorf("a public address: %v", err)
	}
	// At connect time: the receiver is on 127.0.0.1.
	sub := &crm.Subscription{Kind: crm.KindWebhook, URL: r.URL, Secret: crm.NewSecret()}
	msg := &crm.WebhookMessage{ID: crm.NewID(), Timestamp: time.Now(), Body: []byte(`{}`)}
	res := s.Send(ctx, sub, msg)
	if res.StatusCode != 0 || !strings.Contains(res.Error, "non-public") || len(r.requests()) != 0 {
		t.Errorf("Send to 127.0.0.1 = %+v, %d requests reached it", res, len(r.requests()))
	}
	// Redirects are answers, not followed.
	open := webhook.New(webhook.Config{AllowPrivate: true})
	redirect := httptest.NewServer(http.RedirectHandler(r.URL, http.StatusFound))
	t.Cleanup(redirect.Close)
	res = open.Send(ctx, &crm.Subscription{Kind: crm.KindWebhook, URL: redirect.URL, Secret: sub.Secret}, msg)
	if res.StatusCode != 302 || len(r.requests()) != 0 {
		t.Errorf("redirect: %+v, %d requests followed it", res, len(r.requests()))
	}
	// The answer is read up to 1 KB.
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, strings.Repeat("x", 10<<10))
	}))
	t.Cleanup(big.Close)
	res = open.Send(ctx, &crm.Subscription{Kind: crm.KindWebhook, URL: big.URL, Secret: sub.Secret}, msg)
	if res.StatusCode != 200 || len(res.Response) != crm.MaxResponseKept {
		t.Errorf("big answer: status %d, kept %d bytes", res.StatusCode, len(res.Response))
	}
}

// Three processes on one PostgreSQL deliver every event exactly once.
func TestThreeProcessesOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "postgres")
	procs := []*proc{h.start(), h.start(), h.start()}
	r := newReceiver(t)
	h.subscribe(procs[0], r, crm.WebhookLeadLost)
	const events = 30
	var wg sync.WaitGroup
	for i := range events {
		wg.Go(func() { h.lostLead(procs[i%3]) })
	}
	wg.Wait()
	eventually(t, "every event", func() bool { return len(r.requests()) >= events })
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show up
	ids := map[string]int{}
	for _, g := range r.requests() {
		ids[g.ID]++
		if !g.Verified {
			t.Errorf("unverified %s", g.ID)
		}
	}
	if len(ids) != events {
		t.Errorf("%d distinct events received, want %d", len(ids), events)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("event %s received %d times", id, n)
		}
	}
}

// A delivery cut off by a stop (the soft stop's time up) is not lost: the
// next process delivers it, with the same webhook-id.
func TestStopCutsOffAndRetries(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		h := newHarness(t, kind)
		h.softStop = 200 * time.Millisecond
		p := h.start()
		r := newReceiver(t)
		r.stall = make(chan struct{})
		sub := h.subscribe(p, r, crm.WebhookLeadLost)
		h.lostLead(p)
		<-r.seen // the attempt is under way, and stalls
		p.stop() // soft, then hard after 200 ms: the attempt is cut off
		r.mu.Lock()
		r.stall = nil
		r.mu.Unlock()
		if ds := h.deliveries(p, sub.ID); len(ds) != 1 || ds[0].Status == crm.DeliverySucceeded || len(ds[0].Attempts) != 0 {
			t.Fatalf("after the cut: %+v, want one delivery, no attempt counted", ds)
		}
		q := h.start()
		eventually(t, "the retried delivery", func() bool {
			ds := h.deliveries(q, sub.ID)
			return len(ds) == 1 && ds[0].Status == crm.DeliverySucceeded
		})
		got := r.requests()
		if len(got) < 2 || got[len(got)-1].ID != got[0].ID {
			t.Errorf("requests %d: want the retry with the same id", len(got))
		}
	})
}
