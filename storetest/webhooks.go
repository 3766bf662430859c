package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

// TestSchedule is the retry schedule of the suite: four attempts, the delays
// only compared, never waited for (the suite calls Deliver itself).
var TestSchedule = []time.Duration{0, 5 * time.Second, time.Minute, time.Hour}

// Sender is a crm.WebhookSender that answers what the test programs and
// records every message.
type Sender struct {
	mu     sync.Mutex
	answer crm.SendResult
	sent   []*crm.WebhookMessage
	to     []string
}

// Answer programs the result of the next attempts.
func (s *Sender) Answer(r crm.SendResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = r
}

// Sent returns the messages sent so far.
func (s *Sender) Sent() []*crm.WebhookMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// CheckTarget implements crm.WebhookSender: every target resolves publicly.
func (s *Sender) CheckTarget(context.Context, *crm.Subscription) error { return nil }

// Send implements crm.WebhookSender.
func (s *Sender) Send(_ context.Context, sub *crm.Subscription, m *crm.WebhookMessage) crm.SendResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	s.to = append(s.to, sub.ID)
	if s.answer.StatusCode == 0 && s.answer.Error == "" {
		return crm.SendResult{StatusCode: 200}
	}
	return s.answer
}

// jobArgs returns the arguments of the jobs of a kind, decoded.
func jobArgs[T crm.JobArgs](t *testing.T, b *bundle) []T {
	t.Helper()
	var zero T
	raw, err := b.st.(JobCounter).JobArgs(context.Background(), zero.Kind())
	if err != nil {
		t.Fatalf("JobArgs: %v", err)
	}
	out := make([]T, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			t.Fatalf("decode %s: %v", r, err)
		}
	}
	return out
}

// fanOutAll runs every fan-out job (as the engine would) and returns the
// delivery jobs that exist afterwards.
func (b *bundle) fanOutAll(t *testing.T) []crm.WebhookDeliverJob {
	t.Helper()
	for _, j := range jobArgs[crm.WebhookFanOutJob](t, b) {
		if err := b.svc.Webhooks.FanOut(context.Background(), j); err != nil {
			t.Fatalf("FanOut: %v", err)
		}
	}
	return jobArgs[crm.WebhookDeliverJob](t, b)
}

func (b *bundle) subscribe(t *testing.T, events ...string) *crm.Subscription {
	t.Helper()
	sub, secret, err := b.svc.Webhooks.CreateSubscription(as(b.admin), crm.SubscriptionInput{
		URL: "https://hooks.example.com/crm", Events: events, IncludeContacts: false})
	if err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	if !strings.HasPrefix(secret, crm.SecretPrefix) || len(secret) < len(crm.SecretPrefix)+32 {
		t.Fatalf("secret %q is not whsec_ and 24+ bytes of base64", secret)
	}
	return sub
}

func (b *bundle) delivery(t *testing.T, id string) *crm.Delivery {
	t.Helper()
	d, err := b.st.Delivery(context.Background(), id)
	if err != nil {
		t.Fatalf("Delivery: %v", err)
	}
	return d
}

func (b *bundle) deliver(t *testing.T, j crm.WebhookDeliverJob) crm.DeliveryNext {
	t.Helper()
	next, err := b.svc.Webhooks.Deliver(context.Background(), j)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	return next
}

var webhookTests = []test{
	{"SubscriptionsAdminOnly", func(t *testing.T, b *bundle) {
		for _, u := range []*crm.User{b.mgr, b.senior} {
			_, _, err := b.svc.Webhooks.CreateSubscription(as(u), crm.SubscriptionInput{URL: "https://x.example.com", Events: []string{crm.WebhookSalePaid}})
			wantErr(t, err, crm.EFORBIDDEN, "")
			_, err = b.svc.Webhooks.Subscriptions(as(u))
			wantErr(t, err, crm.EFORBIDDEN, "")
		}
	}},
	{"SubscriptionLifecycle", func(t *testing.T, b *bundle) {
		ctx := as(b.admin)
		sub := b.subscribe(t, crm.WebhookLeadTransferred, crm.WebhookSalePaid, crm.WebhookSalePaid)
		if sub.Secret != "" || sub.PrevSecret != "" || !sub.Enabled || len(sub.Events) != 2 || sub.Kind != crm.KindWebhook {
			t.Errorf("created = %+v: want enabled, two events, no secret in the answer", sub)
		}
		got, err := b.svc.Webhooks.Subscription(ctx, sub.ID)
		if err != nil || got.Secret != "" || got.URL != sub.URL {
			t.Fatalf("Subscription = %+v, %v", got, err)
		}
		stored, _ := b.st.Subscription(context.Background(), sub.ID)
		if !strings.HasPrefix(stored.Secret, crm.SecretPrefix) {
			t.Errorf("the stored secret %q is not a whsec_ secret", stored.Secret)
		}
		off := false
		desc := "ops"
		upd, err := b.svc.Webhooks.UpdateSubscription(ctx, sub.ID, crm.SubscriptionUpdate{Enabled: &off, Description: &desc,
			Events: []string{crm.WebhookLeadLost}})
		if err != nil || upd.Enabled || upd.Description != "ops" || !slices.Equal(upd.Events, []string{crm.WebhookLeadLost}) {
			t.Fatalf("Update = %+v, %v", upd, err)
		}
		// Rotation: both secrets sign for a day.
		secret, err := b.svc.Webhooks.RotateSecret(ctx, sub.ID)
		if err != nil || secret == stored.Secret || !strings.HasPrefix(secret, crm.SecretPrefix) {
			t.Fatalf("RotateSecret = %q, %v", secret, err)
		}
		rotated, _ := b.st.Subscription(context.Background(), sub.ID)
		if s := rotated.Secrets(b.clock.Peek()); len(s) != 2 || s[0] != secret || s[1] != stored.Secret {
			t.Errorf("secrets right after rotation = %d, want the new and the old", len(s))
		}
		if s := rotated.Secrets(b.clock.Peek().Add(crm.SecretOverlap + time.Second)); len(s) != 1 {
			t.Errorf("secrets a day later = %d, want only the new", len(s))
		}
		list, err := b.svc.Webhooks.Subscriptions(ctx)
		if err != nil || len(list) != 1 || list[0].Secret != "" || list[0].PrevSecret != "" {
			t.Fatalf("Subscriptions = %+v, %v", list, err)
		}
		if err := b.svc.Webhooks.DeleteSubscription(ctx, sub.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		_, err = b.svc.Webhooks.Subscription(ctx, sub.ID)
		wantErr(t, err, crm.ENOTFOUND, "")
		wantErr(t, b.svc.Webhooks.DeleteSubscription(ctx, sub.ID), crm.ENOTFOUND, "")
	}},
	{"BadSubscriptions", func(t *testing.T, b *bundle) {
		ctx := as(b.admin)
		for name, in := range map[string]crm.SubscriptionInput{
			"not a URL":     {URL: "not a url", Events: []string{crm.WebhookSalePaid}},
			"http":          {URL: "http://hooks.example.com", Events: []string{crm.WebhookSalePaid}},
			"ftp":           {URL: "ftp://hooks.example.com", Events: []string{crm.WebhookSalePaid}},
			"unknown event": {URL: "https://hooks.example.com", Events: []string{"lead.created"}},
			"no events":     {URL: "https://hooks.example.com"},
			"unknown kind":  {Kind: "email", Events: []string{crm.WebhookSalePaid}},
			"bad token":     {Kind: crm.KindTelegram, TelegramToken: "nope", TelegramChatID: "42", Events: []string{crm.WebhookSalePaid}},
			"bad chat":      {Kind: crm.KindTelegram, TelegramToken: "123456:" + strings.Repeat("A", 35), TelegramChatID: "#x", Events: []string{crm.WebhookSalePaid}},
			"language":      {URL: "https://hooks.example.com", Events: []string{crm.WebhookSalePaid}, Language: "de"},
		} {
			_, _, err := b.svc.Webhooks.CreateSubscription(ctx, in)
			if e := wantErr(t, err, crm.EINVALID, crm.CodeValidation); e != nil && strings.Contains(e.Error(), "AAAAAAAA") {
				t.Errorf("%s: the error shows the bot token: %v", name, e)
			}
		}
		tg, secret, err := b.svc.Webhooks.CreateSubscription(ctx, crm.SubscriptionInput{Kind: crm.KindTelegram,
			TelegramToken: "123456:" + strings.Repeat("A", 35), TelegramChatID: "@crm_channel", Language: "uk",
			Events: []string{crm.WebhookSalePaid}})
		if err != nil || secret != "" || tg.TelegramToken != "" || !tg.HasToken {
			t.Fatalf("telegram target = %+v, %q, %v: want no secret, the token blanked", tg, secret, err)
		}
		_, err = b.svc.Webhooks.RotateSecret(ctx, tg.ID)
		wantErr(t, err, crm.ECONFLICT, "")
	}},
	{"EventsEnqueuedWithTheChange", func(t *testing.T, b *bundle) {
		sub := b.subscribe(t, crm.WebhookLeadTransferred, crm.WebhookSaleStageChanged, crm.WebhookSalePaid, crm.WebhookLeadLost)
		other := b.subscribe(t, crm.WebhookSaleLost) // wants none of these
		l := b.leadAt(t, crm.LeadQualified)
		b.analyze(t, as(b.mgr), l.ID, 0.9, crm.RecommendTransfer)
		sale, err := b.svc.Leads.Transfer(as(b.mgr), l.ID)
		if err != nil {
			t.Fatalf("Transfer: %v", err)
		}
		for _, st := range []crm.SaleStage{crm.SaleKYC, crm.SaleAgreement, crm.SalePaid} {
			if _, err := b.svc.Leads.MoveSale(as(b.mgr), sale.ID, st); err != nil {
				t.Fatalf("MoveSale(%s): %v", st, err)
			}
		}
		lost := b.leadAt(t, crm.LeadContacted)
		if _, err := b.svc.Leads.MoveLead(as(b.mgr), lost.ID, crm.LeadLost); err != nil {
			t.Fatalf("MoveLead(lost): %v", err)
		}
		// A refused change enqueues nothing.
		_, err = b.svc.Leads.MoveSale(as(b.mgr), sale.ID, crm.SaleLost)
		wantErr(t, err, crm.ECONFLICT, "")
		// transferred, 3 stage changes, paid, lost
		if n := len(jobArgs[crm.WebhookFanOutJob](t, b)); n != 6 {
			t.Fatalf("%d fan-out jobs, want 6", n)
		}
		jobs := b.fanOutAll(t)
		if len(jobs) != 6 {
			t.Fatalf("%d delivery jobs, want 6 (all to the first subscription)", len(jobs))
		}
		// Fanning out again (a retried job) adds nothing.
		if again := b.fanOutAll(t); len(again) != 6 {
			t.Errorf("%d delivery jobs after a second fan-out, want still 6", len(again))
		}
		var types []string
		for _, j := range jobs {
			d := b.delivery(t, j.DeliveryID)
			if d.SubscriptionID != sub.ID || d.Status != crm.DeliveryPending || d.Run != 1 {
				t.Errorf("delivery %+v: want pending, run 1, to the first subscription", d)
			}
			b.deliver(t, j)
			if d := b.delivery(t, j.DeliveryID); d.Status != crm.DeliverySucceeded || len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 200 {
				t.Errorf("after a 200: %+v", d)
			}
			types = append(types, d.EventType)
		}
		want := []string{crm.WebhookLeadTransferred, crm.WebhookSaleStageChanged, crm.WebhookSaleStageChanged,
			crm.WebhookSaleStageChanged, crm.WebhookSalePaid, crm.WebhookLeadLost}
		if !slices.Equal(types, want) {
			t.Errorf("event types %v, want %v", types, want)
		}
		sent := b.sender.Sent()
		if len(sent) != 6 {
			t.Fatalf("%d messages sent, want 6", len(sent))
		}
		first := sent[0]
		if first.Payload.Type != crm.WebhookLeadTransferred || first.Payload.Data.LeadID != l.ID ||
			first.Payload.Data.SaleID != sale.ID || first.Payload.Data.To != "transferred" ||
			first.Payload.Data.From != "qualified" || first.Payload.Data.ActorID != b.mgr.ID || first.Payload.Data.Contacts != nil {
			t.Errorf("lead.transferred payload = %+v", first.Payload)
		}
		var body map[string]any
		if err := json.Unmarshal(first.Body, &body); err != nil || body["type"] != crm.WebhookLeadTransferred || body["data"] == nil || body["timestamp"] == nil {
			t.Errorf("body %s: want {type, timestamp, data}", first.Body)
		}
		if len(first.Body) >= 20<<10 {
			t.Errorf("body of %d bytes, want under 20 KB", len(first.Body))
		}
		_ = other
	}},
	{"ContactsOnlyWhenAsked", func(t *testing.T, b *bundle) {
		ctx := as(b.admin)
		_, _, err := b.svc.Webhooks.CreateSubscription(ctx, crm.SubscriptionInput{URL: "https://hooks.example.com/a",
			Events: []string{crm.WebhookLeadLost}, IncludeContacts: true})
		if err != nil {
			t.Fatal(err)
		}
		l := b.newLead(t, as(b.mgr), crm.LeadInput{Source: crm.SourceManual, Name: "Olena", Company: "Acme", Email: "o@acme.example", Phone: "+380441234567"})
		if _, err := b.svc.Leads.MoveLead(as(b.mgr), l.ID, crm.LeadLost); err != nil {
			t.Fatal(err)
		}
		for _, j := range b.fanOutAll(t) {
			b.deliver(t, j)
		}
		sent := b.sender.Sent()
		if len(sent) != 1 || sent[0].Payload.Data.Contacts == nil || sent[0].Payload.Data.Contacts.Name != "Olena" ||
			sent[0].Payload.Data.Contacts.Email != "o@acme.example" {
			t.Fatalf("sent %+v: want one message with the lead's contacts", sent)
		}
	}},
	{"RetriesThenDead", func(t *testing.T, b *bundle) {
		sub := b.subscribe(t, crm.WebhookLeadLost)
		b.sender.Answer(crm.SendResult{StatusCode: 500, Response: "oops", RetryAfter: 0})
		l := b.leadAt(t, crm.LeadNew)
		if _, err := b.svc.Leads.MoveLead(as(b.mgr), l.ID, crm.LeadLost); err != nil {
			t.Fatal(err)
		}
		jobs := b.fanOutAll(t)
		if len(jobs) != 1 {
			t.Fatalf("%d delivery jobs, want 1", len(jobs))
		}
		for i := 1; i < len(TestSchedule); i++ {
			next := b.deliver(t, jobs[0])
			if !next.Retry || next.After != TestSchedule[i] {
				t.Fatalf("after attempt %d: %+v, want a retry after %s", i, next, TestSchedule[i])
			}
			d := b.delivery(t, jobs[0].DeliveryID)
			if d.Status != crm.DeliveryFailed || len(d.Attempts) != i || d.Attempts[i-1].StatusCode != 500 || d.Attempts[i-1].Response != "oops" {
				t.Fatalf("after attempt %d: %+v", i, d)
			}
		}
		if next := b.deliver(t, jobs[0]); next.Retry {
			t.Fatalf("after the last attempt: %+v, want no retry", next)
		}
		d := b.delivery(t, jobs[0].DeliveryID)
		if d.Status != crm.DeliveryDead || len(d.Attempts) != len(TestSchedule) {
			t.Fatalf("after the last attempt: %s with %d attempts, want dead with %d", d.Status, len(d.Attempts), len(TestSchedule))
		}
		ids := map[string]bool{}
		for _, m := range b.sender.Sent() {
			ids[m.ID] = true
		}
		if len(ids) != 1 {
			t.Errorf("%d distinct webhook-ids over the attempts, want 1", len(ids))
		}
		// Retry-After is honoured when it asks for longer.
		b.sender.Answer(crm.SendResult{StatusCode: 429, RetryAfter: 3 * time.Hour})
		replayed, err := b.svc.Webhooks.ReplayDelivery(as(b.admin), sub.ID, d.ID)
		if err != nil || replayed.Run != 2 || replayed.Status != crm.DeliveryPending {
			t.Fatalf("Replay = %+v, %v", replayed, err)
		}
		// The old run's job stops without sending.
		before := len(b.sender.Sent())
		if next := b.deliver(t, jobs[0]); next.Retry || len(b.sender.Sent()) != before {
			t.Errorf("a superseded job sent again or asked for a retry")
		}
		runs := jobArgs[crm.WebhookDeliverJob](t, b)
		if len(runs) != 2 || runs[1].Run != 2 || runs[1].DeliveryID != d.ID {
			t.Fatalf("delivery jobs %+v: want a second one for run 2", runs)
		}
		if next := b.deliver(t, runs[1]); !next.Retry || next.After != 3*time.Hour {
			t.Errorf("after a 429 with Retry-After 3h: %+v", next)
		}
		b.sender.Answer(crm.SendResult{StatusCode: 204})
		b.deliver(t, runs[1])
		d = b.delivery(t, d.ID)
		if d.Status != crm.DeliverySucceeded || len(d.Attempts) != len(TestSchedule)+2 {
			t.Errorf("after the replay: %s, %d attempts", d.Status, len(d.Attempts))
		}
		if m := b.sender.Sent(); m[len(m)-1].ID != m[0].ID {
			t.Errorf("the replay has webhook-id %s, want %s", m[len(m)-1].ID, m[0].ID)
		}
	}},
	{"GoneDisables", func(t *testing.T, b *bundle) {
		sub := b.subscribe(t, crm.WebhookLeadLost)
		b.sender.Answer(crm.SendResult{StatusCode: 410})
		for range 2 {
			l := b.leadAt(t, crm.LeadNew)
			if _, err := b.svc.Leads.MoveLead(as(b.mgr), l.ID, crm.LeadLost); err != nil {
				t.Fatal(err)
			}
		}
		jobs := b.fanOutAll(t)
		if len(jobs) != 2 {
			t.Fatalf("%d jobs, want 2", len(jobs))
		}
		if next := b.deliver(t, jobs[0]); next.Retry {
			t.Errorf("a 410 asked for a retry")
		}
		got, _ := b.svc.Webhooks.Subscription(as(b.admin), sub.ID)
		if got.Enabled || !strings.Contains(got.DisabledReason, "410") {
			t.Errorf("after a 410: enabled %v, reason %q", got.Enabled, got.DisabledReason)
		}
		if d := b.delivery(t, jobs[0].DeliveryID); d.Status != crm.DeliveryDead {
			t.Errorf("the 410 delivery is %s, want dead", d.Status)
		}
		sent := len(b.sender.Sent())
		b.deliver(t, jobs[1])
		if len(b.sender.Sent()) != sent {
			t.Errorf("a delivery to a disabled subscription was sent")
		}
		if d := b.delivery(t, jobs[1].DeliveryID); d.Status != crm.DeliveryDead {
			t.Errorf("the pending delivery of a disabled subscription is %s, want dead", d.Status)
		}
		// Nothing new fans out to it; replay and test are refused until enabled.
		_, err := b.svc.Webhooks.TestSubscription(as(b.admin), sub.ID)
		wantErr(t, err, crm.ECONFLICT, "")
		on := true
		if got, err := b.svc.Webhooks.UpdateSubscription(as(b.admin), sub.ID, crm.SubscriptionUpdate{Enabled: &on}); err != nil || got.DisabledReason != "" {
			t.Fatalf("enable: %+v, %v", got, err)
		}
		b.sender.Answer(crm.SendResult{StatusCode: 200})
		n, err := b.svc.Webhooks.ReplayFailed(as(b.admin), sub.ID, time.Time{})
		if err != nil || n != 2 {
			t.Fatalf("ReplayFailed = %d, %v; want both dead deliveries", n, err)
		}
	}},
	{"FailingFiveDaysDisables", func(t *testing.T, b *bundle) {
		sub := b.subscribe(t, crm.WebhookLeadLost)
		b.sender.Answer(crm.SendResult{Error: "timed out"})
		lose := func() crm.WebhookDeliverJob {
			l := b.leadAt(t, crm.LeadNew)
			if _, err := b.svc.Leads.MoveLead(as(b.mgr), l.ID, crm.LeadLost); err != nil {
				t.Fatal(err)
			}
			jobs := b.fanOutAll(t)
			return jobs[len(jobs)-1]
		}
		b.deliver(t, lose())
		b.clock.Advance(3 * 24 * time.Hour)
		b.deliver(t, lose())
		if got, _ := b.svc.Webhooks.Subscription(as(b.admin), sub.ID); !got.Enabled {
			t.Fatalf("disabled after 3 days of failures")
		}
		b.clock.Advance(2 * 24 * time.Hour)
		b.deliver(t, lose())
		got, _ := b.svc.Webhooks.Subscription(as(b.admin), sub.ID)
		if got.Enabled || !strings.Contains(got.DisabledReason, "5 days") {
			t.Errorf("after 5 days of failures: enabled %v, reason %q", got.Enabled, got.DisabledReason)
		}
	}},
	{"TestEventAndPaging", func(t *testing.T, b *bundle) {
		sub := b.subscribe(t, crm.WebhookSalePaid) // webhook.test is sent though not listed
		var ids []string
		for range 3 {
			d, err := b.svc.Webhooks.TestSubscription(as(b.admin), sub.ID)
			if err != nil {
				t.Fatalf("Test: %v", err)
			}
			ids = append(ids, d.ID)
		}
		_, err := b.svc.Webhooks.TestSubscription(as(b.mgr), sub.ID)
		wantErr(t, err, crm.EFORBIDDEN, "")
		for _, j := range jobArgs[crm.WebhookDeliverJob](t, b) {
			b.deliver(t, j)
		}
		if m := b.sender.Sent(); len(m) != 3 || m[0].Payload.Type != crm.WebhookTest || m[0].Payload.Data.SubscriptionID != sub.ID {
			t.Fatalf("sent %d, first %+v", len(m), m[0].Payload)
		}
		page1, next, err := b.svc.Webhooks.Deliveries(as(b.admin), crm.DeliveryFilter{SubscriptionID: sub.ID, Limit: 2})
		if err != nil || len(page1) != 2 || next == "" || page1[0].ID != ids[2] || page1[1].ID != ids[1] {
			t.Fatalf("page 1 = %d, next %q, %v", len(page1), next, err)
		}
		page2, next, err := b.svc.Webhooks.Deliveries(as(b.admin), crm.DeliveryFilter{SubscriptionID: sub.ID, Limit: 2, After: next})
		if err != nil || len(page2) != 1 || next != "" || page2[0].ID != ids[0] {
			t.Fatalf("page 2 = %d, next %q, %v", len(page2), next, err)
		}
		if page2[0].Status != crm.DeliverySucceeded || page2[0].EventType != crm.WebhookTest {
			t.Errorf("delivery %+v", page2[0])
		}
		_, _, err = b.svc.Webhooks.Deliveries(as(b.admin), crm.DeliveryFilter{SubscriptionID: crm.NewID()})
		wantErr(t, err, crm.ENOTFOUND, "")
	}},
}
