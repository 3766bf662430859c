package ui

import (
	"net/http"
	"strings"
	"time"

	"github.com/crmleads/crm"
)

// webhookRow is one subscription on the admin page with its latest deliveries.
type webhookRow struct {
	*crm.Subscription
	Deliveries []*crm.Delivery
	Failures   int // failed or dead among them
}

type webhookForm struct {
	Kind, URL, Description, ChatID, Language string
	Events                                   []string
	IncludeContacts                          bool
}

// Has reports whether the form lists the event type (for its checkboxes).
func (f webhookForm) Has(t string) bool {
	for _, e := range f.Events {
		if e == t {
			return true
		}
	}
	return false
}

type webhooksData struct {
	Hooks      []webhookRow
	EventTypes []string
	Form       webhookForm
	Errors     map[string]string
	// Secret is shown once, right after a create or a rotation; the page is
	// then rendered directly (no redirect, no cookie carries it).
	Secret, SecretFor string
}

// webhooksShown is how many deliveries of each subscription the page lists.
const webhooksShown = 5

func (a *App) webhooksPage(w http.ResponseWriter, r *http.Request, v *view) {
	a.showWebhooks(w, r, v, webhooksData{Form: webhookForm{Kind: crm.KindWebhook, Language: v.L.Lang}}, http.StatusOK)
}

func (a *App) showWebhooks(w http.ResponseWriter, r *http.Request, v *view, d webhooksData, status int) {
	if !v.IsAdmin() {
		a.renderError(w, r, v, http.StatusForbidden)
		return
	}
	ctx := r.Context()
	subs, err := a.deps.Webhooks.Subscriptions(ctx)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	for _, s := range subs {
		ds, _, err := a.deps.Webhooks.Deliveries(ctx, crm.DeliveryFilter{SubscriptionID: s.ID, Limit: webhooksShown})
		if err != nil {
			a.fail(w, r, v, err)
			return
		}
		row := webhookRow{Subscription: s, Deliveries: ds}
		for _, dl := range ds {
			if dl.Status == crm.DeliveryFailed || dl.Status == crm.DeliveryDead {
				row.Failures++
			}
		}
		d.Hooks = append(d.Hooks, row)
	}
	d.EventTypes = crm.WebhookEventTypes
	v.Title, v.Nav, v.Data = v.L.T("webhooks.title"), "admin", d
	if d.Secret != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	a.render(w, r, v, "webhooks", status)
}

func (a *App) webhookCreate(w http.ResponseWriter, r *http.Request, v *view) {
	_ = r.ParseForm()
	f := webhookForm{Kind: r.PostFormValue("kind"), URL: r.PostFormValue("url"), Description: r.PostFormValue("description"),
		ChatID: r.PostFormValue("telegram_chat_id"), Language: r.PostFormValue("language"), Events: r.PostForm["events"],
		IncludeContacts: r.PostFormValue("include_contacts") == "true"}
	in := crm.SubscriptionInput{Kind: f.Kind, Events: f.Events, Description: f.Description,
		IncludeContacts: f.IncludeContacts, Language: f.Language}
	if f.Kind == crm.KindTelegram {
		in.TelegramToken, in.TelegramChatID = r.PostFormValue("telegram_bot_token"), f.ChatID
	} else {
		in.URL = f.URL
	}
	sub, secret, err := a.deps.Webhooks.CreateSubscription(r.Context(), in)
	if errs, invalid := fieldErrors(v.L, err); invalid {
		v.Flash = bad(v.L.T("error.form"))
		a.showWebhooks(w, r, v, webhooksData{Form: f, Errors: errs}, http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	if secret == "" { // a Telegram target has no secret to show
		a.redirect(w, r, "/app/admin/webhooks", ok(v.L.T("flash.webhook_created")))
		return
	}
	v.Flash = ok(v.L.T("flash.webhook_created"))
	a.showWebhooks(w, r, v, webhooksData{Form: webhookForm{Kind: crm.KindWebhook, Language: v.L.Lang},
		Secret: secret, SecretFor: sub.ID}, http.StatusOK)
}

func (a *App) webhookTest(w http.ResponseWriter, r *http.Request, v *view) {
	if _, err := a.deps.Webhooks.TestSubscription(r.Context(), r.PathValue("id")); err != nil {
		a.webhookFail(w, r, v, err)
		return
	}
	a.redirect(w, r, "/app/admin/webhooks", ok(v.L.T("flash.webhook_test_sent")))
}

func (a *App) webhookEnabled(w http.ResponseWriter, r *http.Request, v *view) {
	on := r.PostFormValue("enabled") == "true"
	if _, err := a.deps.Webhooks.UpdateSubscription(r.Context(), r.PathValue("id"), crm.SubscriptionUpdate{Enabled: &on}); err != nil {
		a.webhookFail(w, r, v, err)
		return
	}
	key := "flash.webhook_disabled"
	if on {
		key = "flash.webhook_enabled"
	}
	a.redirect(w, r, "/app/admin/webhooks", ok(v.L.T(key)))
}

func (a *App) webhookRotate(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.PathValue("id")
	secret, err := a.deps.Webhooks.RotateSecret(r.Context(), id)
	if err != nil {
		a.webhookFail(w, r, v, err)
		return
	}
	v.Flash = ok(v.L.T("flash.webhook_rotated"))
	a.showWebhooks(w, r, v, webhooksData{Form: webhookForm{Kind: crm.KindWebhook, Language: v.L.Lang},
		Secret: secret, SecretFor: id}, http.StatusOK)
}

func (a *App) webhookDelete(w http.ResponseWriter, r *http.Request, v *view) {
	if err := a.deps.Webhooks.DeleteSubscription(r.Context(), r.PathValue("id")); err != nil {
		a.webhookFail(w, r, v, err)
		return
	}
	a.redirect(w, r, "/app/admin/webhooks", ok(v.L.T("flash.webhook_deleted")))
}

func (a *App) webhookReplay(w http.ResponseWriter, r *http.Request, v *view) {
	if _, err := a.deps.Webhooks.ReplayDelivery(r.Context(), r.PathValue("id"), r.PostFormValue("delivery_id")); err != nil {
		a.webhookFail(w, r, v, err)
		return
	}
	a.redirect(w, r, "/app/admin/webhooks", ok(v.L.T("flash.webhook_replayed", 1)))
}

// webhookReplayFailed replays every failed or dead delivery since the time
// given (a datetime-local field, read as UTC; empty means all).
func (a *App) webhookReplayFailed(w http.ResponseWriter, r *http.Request, v *view) {
	var since time.Time
	if s := strings.TrimSpace(r.PostFormValue("since")); s != "" {
		t, readable := ReadDateTime(s)
		if !readable {
			a.redirect(w, r, "/app/admin/webhooks", bad(v.L.T("fe.webhook_since")))
			return
		}
		since = t
	}
	n, err := a.deps.Webhooks.ReplayFailed(r.Context(), r.PathValue("id"), since)
	if err != nil {
		a.webhookFail(w, r, v, err)
		return
	}
	a.redirect(w, r, "/app/admin/webhooks", ok(v.L.T("flash.webhook_replayed", n)))
}

// webhookFail shows a refusal (a disabled subscription) as a message on the
// page; anything else as the error page.
func (a *App) webhookFail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	if crm.IsKind(err, crm.ECONFLICT) {
		a.redirect(w, r, "/app/admin/webhooks", bad(v.L.T("webhooks.conflict")))
		return
	}
	a.fail(w, r, v, err)
}

// webhookMessage translates the subscription's field errors.
func webhookMessage(l *Locale, f crm.FieldError) (string, bool) {
	switch f.Field {
	case "url":
		switch {
		case f.Message == "must be https":
			return l.T("fe.webhook_https"), true
		case strings.Contains(f.Message, "resolve"), strings.Contains(f.Message, "private"):
			return l.T("fe.webhook_private"), true
		case f.Message == "is required", strings.HasPrefix(f.Message, "must be an absolute"),
			strings.HasPrefix(f.Message, "must not"), strings.HasPrefix(f.Message, "must be at most"):
			return l.T("fe.webhook_url"), true
		}
	case "events":
		return l.T("fe.webhook_events"), true
	case "telegram_bot_token":
		return l.T("fe.webhook_token"), true
	case "telegram_chat_id":
		return l.T("fe.webhook_chat"), true
	case "kind":
		return l.T("fe.webhook_kind"), true
	case "language":
		return l.T("fe.webhook_language"), true
	}
	return "", false
}
