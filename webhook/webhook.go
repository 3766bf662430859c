// Package webhook sends the service's events to subscribers: HTTPS endpoints,
// signed with Standard Webhooks (github.com/standard-webhooks/standard-webhooks),
// and Telegram chats through the Bot API. It implements crm.WebhookSender.
//
// What it guarantees, and how:
//   - 15 s per attempt, redirects never followed (a 3xx is an answer, and a
//     failed one), at most 1 KB of the answer read and kept.
//   - No request reaches a non-public address (see Public), unless private
//     targets are allowed for local testing: the host is resolved when a
//     subscription is created or changed (CheckTarget), and every connection
//     is checked again on the address actually dialled (a net.Dialer Control
//     hook), so DNS rebinding cannot reach the inside. No proxy is used: one
//     would dial for us, past that check.
//   - A bot token travels only in the Bot API's URL; every error text is
//     built without the URL and scrubbed of the token, so neither the log nor
//     the delivery log nor an API answer ever shows it.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/crmleads/crm"
)

// DefaultTelegramAPI is the public Bot API.
const DefaultTelegramAPI = "https://api.telegram.org"

// Timeout bounds one attempt, from dial to the last byte read.
const Timeout = 15 * time.Second

// Config configures a Sender.
type Config struct {
	// AllowPrivate lets targets resolve to non-public addresses (local
	// testing only: CRM_WEBHOOK_ALLOW_PRIVATE).
	AllowPrivate bool
	// TelegramAPI is the Bot API's base URL (DefaultTelegramAPI when empty);
	// it is the operator's, so it is not held to the public-address rule.
	TelegramAPI string
	// Timeout overrides Timeout (tests).
	Timeout time.Duration
	// Resolver resolves target hosts (net.DefaultResolver when nil).
	Resolver *net.Resolver
}

// Sender is a crm.WebhookSender.
type Sender struct {
	hooks    *http.Client // endpoints: the public-address check on every dial
	telegram *http.Client // the operator's Bot API
	tgBase   string
	allow    bool
	resolver *net.Resolver
}

var _ crm.WebhookSender = (*Sender)(nil)

// New returns a Sender.
func New(cfg Config) *Sender {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = Timeout
	}
	s := &Sender{tgBase: strings.TrimRight(cfg.TelegramAPI, "/"), allow: cfg.AllowPrivate, resolver: cfg.Resolver}
	if s.tgBase == "" {
		s.tgBase = DefaultTelegramAPI
	}
	if s.resolver == nil {
		s.resolver = net.DefaultResolver
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !cfg.AllowPrivate {
		dialer.Control = control
	}
	s.hooks = newClient(dialer, timeout)
	s.telegram = newClient(&net.Dialer{Timeout: 5 * time.Second}, timeout)
	return s
}

func newClient(d *net.Dialer, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       60 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// CheckTarget refuses an endpoint whose host does not resolve or resolves to
// any non-public address. Errors: EINVALID on the url field.
func (s *Sender) CheckTarget(ctx context.Context, sub *crm.Subscription) error {
	if sub.Kind != crm.KindWebhook || s.allow {
		return nil
	}
	bad := func(msg string) error { return crm.Invalid(crm.FieldError{Field: "url", Message: msg}) }
	u, err := url.Parse(sub.URL)
	if err != nil {
		return bad("must be an absolute URL")
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if !Public(ip) {
			return bad("must not point at a private, loopback, link-local or reserved address")
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := s.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return bad("has a host name that does not resolve")
	}
	for _, a := range addrs {
		if !Public(a) {
			return bad("has a host name that resolves to a private, loopback, link-local or reserved address")
		}
	}
	return nil
}

// Send makes one attempt.
func (s *Sender) Send(ctx context.Context, sub *crm.Subscription, m *crm.WebhookMessage) crm.SendResult {
	if sub.Kind == crm.KindTelegram {
		return s.sendTelegram(ctx, sub, m)
	}
	return s.sendWebhook(ctx, sub, m)
}

// Headers returns the Standard Webhooks headers of a message: one v1
// signature per secret that signs at the message's time.
func Headers(sub *crm.Subscription, m *crm.WebhookMessage) (http.Header, error) {
	var sigs []string
	for _, secret := range sub.Secrets(m.Timestamp) {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			return nil, errors.New("the stored signing secret is malformed")
		}
		sig, err := wh.Sign(m.ID, m.Timestamp, m.Body)
		if err != nil {
			return nil, errors.New("signing failed")
		}
		sigs = append(sigs, sig)
	}
	h := http.Header{}
	h.Set(standardwebhooks.HeaderWebhookID, m.ID)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(m.Timestamp.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, strings.Join(sigs, " "))
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "crmleads-webhooks/1")
	return h, nil
}

func (s *Sender) sendWebhook(ctx context.Context, sub *crm.Subscription, m *crm.WebhookMessage) crm.SendResult {
	h, err := Headers(sub, m)
	if err != nil {
		return crm.SendResult{Error: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(m.Body))
	if err != nil {
		return crm.SendResult{Error: "the target URL is not usable"}
	}
	req.Header = h
	return s.do(s.hooks, req, "")
}

// do sends req and reads at most MaxResponseKept bytes of the answer; secret
// is scrubbed from any error text.
func (s *Sender) do(c *http.Client, req *http.Request, secret string) crm.SendResult {
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return crm.SendResult{Latency: time.Since(start), Error: scrub(transportError(err), secret)}
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, crm.MaxResponseKept))
	res := crm.SendResult{StatusCode: resp.StatusCode, Latency: time.Since(start),
		Response:   scrub(strings.ToValidUTF8(string(body), "\uFFFD"), secret),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.Error = "redirects are not followed"
	case rerr != nil && resp.StatusCode >= 200 && resp.StatusCode < 300:
		// The status decides; a body cut short is only noted.
		res.Error = scrub("reading the answer: "+transportError(rerr), secret)
	}
	return res
}

// transportError describes a failed request without its URL (which, for
// Telegram, holds the bot token).
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, errNonPublic):
		return errNonPublic.Error()
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "the host name does not resolve"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		if opErr.Op == "dial" {
			return "could not connect: " + opErr.Err.Error()
		}
		return "connection failed: " + opErr.Err.Error()
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func scrub(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// ---- Telegram ----

func (s *Sender) sendTelegram(ctx context.Context, sub *crm.Subscription, m *crm.WebhookMessage) crm.SendResult {
	chat := any(sub.TelegramChatID)
	if n, err := strconv.ParseInt(sub.TelegramChatID, 10, 64); err == nil {
		chat = n
	}
	body, _ := json.Marshal(map[string]any{"chat_id": chat, "text": Text(sub.Language, m.Payload),
		"disable_web_page_preview": true})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tgBase+"/bot"+sub.TelegramToken+"/sendMessage",
		bytes.NewReader(body))
	if err != nil {
		return crm.SendResult{Error: "the Telegram API URL is not usable"}
	}
	req.Header.Set("Content-Type", "application/json")
	res := s.do(s.telegram, req, sub.TelegramToken)
	if res.StatusCode == http.StatusTooManyRequests && res.RetryAfter == 0 {
		// The Bot API says when in its body: {"parameters": {"retry_after": N}}.
		var answer struct {
			Parameters struct {
				RetryAfter int `json:"retry_after"`
			} `json:"parameters"`
		}
		if json.Unmarshal([]byte(res.Response), &answer) == nil && answer.Parameters.RetryAfter > 0 {
			res.RetryAfter = time.Duration(answer.Parameters.RetryAfter) * time.Second
		}
	}
	if res.StatusCode == http.StatusGone {
		// 410 means "stop sending" for an endpoint; the Bot API never means
		// that by it, so it is one more failure, not a reason to disable.
		res.StatusCode = http.StatusBadGateway
		res.Error = "the Telegram API answered 410"
	}
	return res
}

// Text is the Telegram message for an event, in lang (en or uk).
func Text(lang string, p crm.WebhookPayload) string {
	t, ok := texts[lang]
	if !ok {
		t = texts["en"]
	}
	var b strings.Builder
	b.WriteString(t.title[p.Type])
	if b.Len() == 0 {
		b.WriteString(p.Type)
	}
	d := p.Data
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(&b, "\n%s: %s", label, v)
		}
	}
	if d.From != "" || d.To != "" {
		line(t.stage, t.stageName(d.From)+" → "+t.stageName(d.To))
	}
	if c := d.Contacts; c != nil {
		line(t.name, c.Name)
		line(t.company, c.Company)
		line(t.email, c.Email)
		line(t.phone, c.Phone)
	}
	line(t.lead, d.LeadID)
	line(t.sale, d.SaleID)
	line(t.at, d.At.UTC().Format("2006-01-02 15:04 UTC"))
	return b.String()
}

type words struct {
	title                                          map[string]string
	stages                                         map[string]string
	stage, name, company, email, phone, lead, sale string
	at                                             string
}

func (w words) stageName(s string) string {
	if v, ok := w.stages[s]; ok {
		return v
	}
	return s
}

var texts = map[string]words{
	"en": {
		title: map[string]string{
			crm.WebhookLeadTransferred:  "🤝 A lead was handed over to sales",
			crm.WebhookLeadLost:         "❌ A lead was lost",
			crm.WebhookSaleStageChanged: "➡️ A deal moved to another stage",
			crm.WebhookSalePaid:         "💰 A deal was paid",
			crm.WebhookSaleLost:         "❌ A deal was lost",
			crm.WebhookTest:             "✅ Test message from CRM Leads: this chat receives its notifications",
		},
		stages: map[string]string{"new": "new", "contacted": "contacted", "qualified": "qualified",
			"transferred": "transferred", "lost": "lost", "kyc": "KYC", "agreement": "agreement", "paid": "paid"},
		stage: "Stage", name: "Name", company: "Company", email: "Email", phone: "Phone", lead: "Lead",
		sale: "Deal", at: "When",
	},
	"uk": {
		title: map[string]string{
			crm.WebhookLeadTransferred:  "🤝 Лід передано у продажі",
			crm.WebhookLeadLost:         "❌ Лід втрачено",
			crm.WebhookSaleStageChanged: "➡️ Угода перейшла на інший етап",
			crm.WebhookSalePaid:         "💰 Угоду оплачено",
			crm.WebhookSaleLost:         "❌ Угоду втрачено",
			crm.WebhookTest:             "✅ Тестове повідомлення від CRM Leads: цей чат отримує сповіщення",
		},
		stages: map[string]string{"new": "новий", "contacted": "контакт", "qualified": "кваліфікований",
			"transferred": "переданий", "lost": "втрачений", "kyc": "KYC", "agreement": "договір", "paid": "оплачено"},
		stage: "Етап", name: "Ім'я", company: "Компанія", email: "Email", phone: "Телефон", lead: "Лід",
		sale: "Угода", at: "Коли",
	},
}
