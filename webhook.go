package crm

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhook event types: what a subscription can ask for.
const (
	WebhookLeadTransferred  = "lead.transferred"
	WebhookLeadLost         = "lead.lost"
	WebhookSaleStageChanged = "sale.stage_changed"
	WebhookSalePaid         = "sale.paid"
	WebhookSaleLost         = "sale.lost"
	WebhookTest             = "webhook.test"
)

// WebhookEventTypes lists every event type, in documentation order.
var WebhookEventTypes = []string{WebhookLeadTransferred, WebhookLeadLost, WebhookSaleStageChanged,
	WebhookSalePaid, WebhookSaleLost, WebhookTest}

// Subscription kinds.
const (
	KindWebhook  = "webhook"
	KindTelegram = "telegram"
)

// Languages a Telegram message can be written in.
var WebhookLanguages = []string{"en", "uk"}

// Limits of a subscription's fields.
const (
	MaxWebhookURL         = 2000
	MaxWebhookDescription = 500
	// MaxAttemptsKept bounds a delivery's attempt log (replays add to it).
	MaxAttemptsKept = 50
	// MaxResponseKept is how much of a receiver's answer is read and kept.
	MaxResponseKept = 1024
)

// SecretPrefix starts every signing secret (the Standard Webhooks form).
const SecretPrefix = "whsec_"

// SecretOverlap is how long a rotated-out secret still signs.
const SecretOverlap = 24 * time.Hour

// Subscription is a target of webhook events: an HTTPS endpoint signed with
// Standard Webhooks, or a Telegram chat. Secret, PrevSecret and TelegramToken
// never leave the WebhookService (its answers have them blanked).
type Subscription struct {
	ID              string
	Kind            string
	URL             string // KindWebhook
	Events          []string
	Description     string
	Enabled         bool
	DisabledReason  string // why the service disabled it ("" when an admin did, or it is enabled)
	IncludeContacts bool
	Language        string // of Telegram messages: en or uk

	Secret          string
	PrevSecret      string
	PrevSecretUntil time.Time

	TelegramToken  string
	TelegramChatID string // a chat id ("-100…") or an @channel
	HasToken       bool   // set on answers, where the token is blanked

	// FailingSince is the first failed attempt of the current run of
	// failures, zero after a success.
	FailingSince time.Time
	CreatedBy    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Wants reports whether the subscription asked for the event type.
func (s *Subscription) Wants(eventType string) bool { return slices.Contains(s.Events, eventType) }

// Secrets returns the secrets that sign at t: the current one and, for
// SecretOverlap after a rotation, the previous one.
func (s *Subscription) Secrets(t time.Time) []string {
	out := []string{s.Secret}
	if s.PrevSecret != "" && t.Before(s.PrevSecretUntil) {
		out = append(out, s.PrevSecret)
	}
	return out
}

// redacted returns a copy without the secrets and the bot token.
func (s *Subscription) redacted() *Subscription {
	c := *s
	c.Events = slices.Clone(s.Events)
	c.HasToken = s.TelegramToken != ""
	c.Secret, c.PrevSecret, c.TelegramToken = "", "", ""
	return &c
}

// NewSecret returns a fresh signing secret: whsec_ and the base64 of 32
// random bytes (Standard Webhooks asks for 24 to 64).
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// SubscriptionInput creates a subscription. TelegramChatID arrives as text
// whether the client sent a string or an integer.
type SubscriptionInput struct {
	Kind            string
	URL             string
	Events          []string
	Description     string
	IncludeContacts bool
	Language        string
	TelegramToken   string
	TelegramChatID  string
}

// SubscriptionUpdate changes the fields that are set.
type SubscriptionUpdate struct {
	URL             *string
	Events          []string // nil: unchanged
	Enabled         *bool
	Description     *string
	IncludeContacts *bool
	Language        *string
	TelegramChatID  *string
	TelegramToken   *string
}

var (
	telegramToken  = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$`)
	telegramChatID = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,63})$`)
)

// validate checks a subscription as it would be stored; allowHTTP admits
// http:// targets (CRM_WEBHOOK_ALLOW_PRIVATE, for local testing).
func (s *Subscription) validate(allowHTTP bool) error {
	var errs []FieldError
	bad := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	switch s.Kind {
	case KindWebhook:
		if msg := checkWebhookURL(s.URL, allowHTTP); msg != "" {
			bad("url", msg)
		}
	case KindTelegram:
		if s.URL != "" {
			bad("url", "is not given for a Telegram target")
		}
		if !telegramToken.MatchString(s.TelegramToken) {
			// Never echo the token: the message names the field only.
			bad("telegram_bot_token", "must be a Telegram bot token (digits, a colon and the key)")
		}
		if !telegramChatID.MatchString(s.TelegramChatID) {
			bad("telegram_chat_id", "must be a chat id (an integer) or an @channel name")
		}
	default:
		bad("kind", "must be webhook or telegram")
	}
	if len(s.Events) == 0 {
		bad("events", "must list at least one event type")
	}
	for _, e := range s.Events {
		if !slices.Contains(WebhookEventTypes, e) {
			bad("events", "has an unknown event type; known: "+strings.Join(WebhookEventTypes, ", "))
			break
		}
	}
	if utf8.RuneCountInString(s.Description) > MaxWebhookDescription {
		bad("description", "must be at most 500 characters")
	}
	if !slices.Contains(WebhookLanguages, s.Language) {
		bad("language", "must be en or uk")
	}
	if len(errs) > 0 {
		return Invalid(errs...)
	}
	return nil
}

// checkWebhookURL returns what is wrong with a target URL, "" when nothing.
func checkWebhookURL(raw string, allowHTTP bool) string {
	if raw == "" {
		return "is required"
	}
	if len(raw) > MaxWebhookURL {
		return "must be at most 2000 characters"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
		return "must be an absolute URL"
	}
	if u.User != nil {
		return "must not hold a user name or password"
	}
	if u.Fragment != "" {
		return "must not have a fragment"
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	default:
		return "must be https"
	}
	return ""
}

// dedupe returns the event types without repeats, in their given order.
func dedupe(types []string) []string {
	var out []string
	for _, t := range types {
		t = strings.TrimSpace(t)
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// WebhookEvent is one thing that happened, as sent to subscribers: its ID is
// the webhook-id header, the same on every attempt and every replay.
type WebhookEvent struct {
	ID        string
	Type      string
	Data      WebhookData
	CreatedAt time.Time
}

// WebhookData is an event's data member. Contacts are sent only to
// subscriptions that ask for them.
type WebhookData struct {
	LeadID         string           `json:"lead_id,omitempty"`
	SaleID         string           `json:"sale_id,omitempty"`
	From           string           `json:"from,omitempty"`
	To             string           `json:"to,omitempty"`
	ActorID        string           `json:"actor_id,omitempty"`
	At             time.Time        `json:"at"`
	SubscriptionID string           `json:"subscription_id,omitempty"` // webhook.test
	Contacts       *WebhookContacts `json:"contacts,omitempty"`
}

// WebhookContacts are the lead's contact fields.
type WebhookContacts struct {
	Name    string `json:"name"`
	Company string `json:"company"`
	Email   string `json:"email"`
	Phone   string `json:"phone"`
}

// WebhookPayload is the JSON body of a webhook: {type, timestamp, data}.
type WebhookPayload struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"   // not attempted yet in its current run
	DeliveryFailed    = "failed"    // the last attempt failed; another is scheduled
	DeliverySucceeded = "succeeded" // a 2xx answer
	DeliveryDead      = "dead"      // no more attempts: out of them, 410, or the subscription disabled
)

// Delivery is one event sent to one subscription, with every attempt.
type Delivery struct {
	ID             string
	SubscriptionID string
	EventID        string
	EventType      string
	Status         string
	// Run counts the delivery's runs: 1, then one more per replay. A job
	// carries the run it was enqueued for and stops if a replay superseded it.
	Run           int
	Attempts      []DeliveryAttempt
	NextAttemptAt time.Time // zero when none is scheduled
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// DeliveryAttempt is one try of a delivery.
type DeliveryAttempt struct {
	Run        int       `json:"run"`
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code,omitempty"`
	LatencyMS  int64     `json:"latency_ms"`
	Error      string    `json:"error,omitempty"`
	Response   string    `json:"response,omitempty"` // at most MaxResponseKept bytes of the answer
}

// LastAttempt returns the latest attempt, nil when there is none.
func (d *Delivery) LastAttempt() *DeliveryAttempt {
	if len(d.Attempts) == 0 {
		return nil
	}
	return &d.Attempts[len(d.Attempts)-1]
}

// DeliveryFilter selects a subscription's deliveries, newest first. After is
// the id of the last delivery of the previous page.
type DeliveryFilter struct {
	SubscriptionID string
	Statuses       []string
	Since          time.Time
	After          string
	Limit          int
}
