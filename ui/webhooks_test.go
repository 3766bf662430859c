package ui_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

var secretOnPage = regexp.MustCompile(`<code id="webhook-secret">(whsec_[A-Za-z0-9+/=]+)</code>`)

func TestAdminManagesWebhooks(t *testing.T) {
	b := setup(t)
	c := b.client(t)
	c.login(b.admin.Email)
	if p := c.get("/app/admin/users"); !strings.Contains(p.body, `href="/app/admin/webhooks"`) {
		t.Error("the admin page does not link to the webhooks")
	}
	p := c.get("/app/admin/webhooks")
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, `id="webhook-new-form"`) || !strings.Contains(p.body, `id="no-webhooks"`) {
		t.Fatalf("empty webhooks page:\n%s", p.body)
	}

	// Bad input: the fields say what is wrong, the form keeps what was typed.
	p = c.post("/app/admin/webhooks", url.Values{"kind": {"webhook"}, "url": {"http://erp.example.com/hooks"}})
	checkPage(t, p, http.StatusUnprocessableEntity)
	for _, want := range []string{"Use an https:// URL.", "Choose at least one event.", `value="http://erp.example.com/hooks"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("422 page lacks %q", want)
		}
	}

	// Create: the secret is shown on this answer only.
	p = c.post("/app/admin/webhooks", url.Values{"kind": {"webhook"}, "url": {"https://erp.example.com/hooks"},
		"events": {"lead.transferred", "sale.paid"}, "description": {"ERP"}, "language": {"en"}})
	checkPage(t, p, http.StatusOK)
	m := secretOnPage.FindStringSubmatch(html.UnescapeString(p.body))
	if m == nil || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("no secret shown once (Cache-Control %q):\n%s", p.header.Get("Cache-Control"), p.body)
	}
	subs, err := b.svc.Webhooks.Subscriptions(as(b.admin))
	if err != nil || len(subs) != 1 {
		t.Fatalf("subscriptions = %d, %v", len(subs), err)
	}
	id := subs[0].ID
	p = c.get("/app/admin/webhooks")
	checkPage(t, p, http.StatusOK)
	if strings.Contains(p.body, m[1]) || strings.Contains(p.body, "whsec_") {
		t.Error("the secret shows again on the list")
	}
	if !strings.Contains(p.body, "https://erp.example.com/hooks") || !strings.Contains(p.body, "lead.transferred, sale.paid") {
		t.Errorf("the list lacks the subscription:\n%s", p.body)
	}

	// Test, then the delivery is listed; replay it; replay the failed ones.
	p = c.post("/app/admin/webhooks/"+id+"/test", url.Values{})
	if p.status != http.StatusSeeOther {
		t.Fatalf("test = %d\n%s", p.status, p.body)
	}
	p = c.get("/app/admin/webhooks")
	if !strings.Contains(p.body, "Test event sent.") || !strings.Contains(p.body, "webhook.test") || !strings.Contains(p.body, "pending") {
		t.Errorf("after the test:\n%s", p.body)
	}
	ds, _, _ := b.svc.Webhooks.Deliveries(as(b.admin), crm.DeliveryFilter{SubscriptionID: id})
	if len(ds) != 1 {
		t.Fatalf("deliveries = %d", len(ds))
	}
	if p = c.post("/app/admin/webhooks/"+id+"/replay", url.Values{"delivery_id": {ds[0].ID}}); p.status != http.StatusSeeOther {
		t.Fatalf("replay = %d\n%s", p.status, p.body)
	}
	if d, _, _ := b.svc.Webhooks.Deliveries(as(b.admin), crm.DeliveryFilter{SubscriptionID: id}); d[0].Run != 2 {
		t.Errorf("after replay: run %d, want 2", d[0].Run)
	}
	since := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
	if p = c.post("/app/admin/webhooks/"+id+"/replay-failed", url.Values{"since": {since}}); p.status != http.StatusSeeOther {
		t.Fatalf("replay failed = %d\n%s", p.status, p.body)
	}
	if p = c.get("/app/admin/webhooks"); !strings.Contains(p.body, "Replaying 0 deliveries.") {
		t.Errorf("replay-failed flash missing:\n%s", p.body)
	}

	// Rotate: a new secret, shown once.
	p = c.post("/app/admin/webhooks/"+id+"/rotate", url.Values{})
	checkPage(t, p, http.StatusOK)
	if m2 := secretOnPage.FindStringSubmatch(html.UnescapeString(p.body)); m2 == nil || m2[1] == m[1] {
		t.Errorf("rotation shows no new secret")
	}

	// Disable: test is refused with a message; enable again.
	if p = c.post("/app/admin/webhooks/"+id+"/enabled", url.Values{"enabled": {"false"}}); p.status != http.StatusSeeOther {
		t.Fatalf("disable = %d", p.status)
	}
	c.post("/app/admin/webhooks/"+id+"/test", url.Values{})
	if p = c.get("/app/admin/webhooks"); !strings.Contains(p.body, "The subscription is disabled: enable it first.") || !strings.Contains(p.body, `id="enable-`+id+`"`) {
		t.Errorf("disabled subscription page:\n%s", p.body)
	}
	c.post("/app/admin/webhooks/"+id+"/enabled", url.Values{"enabled": {"true"}})

	// Telegram target, in Ukrainian: no secret, the token never on the page.
	uk := b.client(t)
	uk.lang = "uk"
	uk.login(b.admin.Email)
	p = uk.post("/app/admin/webhooks", url.Values{"kind": {"telegram"}, "telegram_bot_token": {"nope"},
		"telegram_chat_id": {"#chat"}, "events": {"lead.lost"}})
	checkPage(t, p, http.StatusUnprocessableEntity)
	body := html.UnescapeString(p.body)
	for _, want := range []string{"Вкажіть токен від BotFather", "Вкажіть id чату"} {
		if !strings.Contains(body, want) {
			t.Errorf("uk 422 page lacks %q", want)
		}
	}
	token := "123456789:" + strings.Repeat("Z", 35)
	p = uk.post("/app/admin/webhooks", url.Values{"kind": {"telegram"}, "telegram_bot_token": {token},
		"telegram_chat_id": {"@crm_sales"}, "events": {"lead.lost"}, "language": {"uk"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("telegram create = %d\n%s", p.status, p.body)
	}
	p = uk.get("/app/admin/webhooks")
	checkPage(t, p, http.StatusOK)
	if strings.Contains(p.body, "ZZZZZZZZ") || !strings.Contains(p.body, "Telegram @crm_sales") || !strings.Contains(p.body, "Вебхуки і Telegram") {
		t.Errorf("uk list:\n%s", p.body)
	}

	// Delete.
	if p = c.post("/app/admin/webhooks/"+id+"/delete", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("delete = %d", p.status)
	}
	if subs, _ := b.svc.Webhooks.Subscriptions(as(b.admin)); len(subs) != 1 {
		t.Errorf("after delete: %d subscriptions, want the Telegram one", len(subs))
	}

	// Others: 403.
	for _, u := range []*crm.User{b.alice, b.senior} {
		o := b.client(t)
		o.login(u.Email)
		checkPage(t, o.get("/app/admin/webhooks"), http.StatusForbidden)
		if p := o.post("/app/admin/webhooks", url.Values{"url": {"https://x.example.com"}, "events": {"sale.paid"}}); p.status != http.StatusForbidden {
			t.Errorf("%s create = %d, want 403", u.Role, p.status)
		}
	}
}
