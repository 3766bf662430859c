package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/crmleads/crm"
)

// Webhook is a subscription as the API shows it: never its secret, never the
// Telegram bot token.
type Webhook struct {
	ID               string     `json:"id"`
	Kind             string     `json:"kind" enum:"webhook,telegram"`
	URL              string     `json:"url,omitempty" doc:"The endpoint (kind webhook)"`
	Events           []string   `json:"events" doc:"lead.transferred, lead.lost, sale.stage_changed, sale.paid, sale.lost, webhook.test"`
	Description      string     `json:"description"`
	Enabled          bool       `json:"enabled"`
	DisabledReason   string     `json:"disabled_reason,omitempty" doc:"Why the service disabled it (a 410, or 5 days of failures)"`
	IncludeContacts  bool       `json:"include_contacts" doc:"Whether events carry the lead's name, company, email and phone"`
	Language         string     `json:"language" enum:"en,uk" doc:"Language of Telegram messages"`
	TelegramChatID   string     `json:"telegram_chat_id,omitempty"`
	HasTelegramToken bool       `json:"has_telegram_token,omitempty" doc:"The bot token is stored (it is never shown)"`
	FailingSince     *time.Time `json:"failing_since,omitempty" doc:"First failure of the current run of failures"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

func webhookOut(s *crm.Subscription) Webhook {
	w := Webhook{ID: s.ID, Kind: s.Kind, URL: s.URL, Events: s.Events, Description: s.Description, Enabled: s.Enabled,
		DisabledReason: s.DisabledReason, IncludeContacts: s.IncludeContacts, Language: s.Language,
		TelegramChatID: s.TelegramChatID, HasTelegramToken: s.HasToken, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if w.Events == nil {
		w.Events = []string{}
	}
	if !s.FailingSince.IsZero() {
		t := s.FailingSince
		w.FailingSince = &t
	}
	return w
}

// Delivery is one event sent to one subscription, with its attempts.
type Delivery struct {
	ID            string            `json:"id"`
	WebhookID     string            `json:"webhook_id"`
	EventID       string            `json:"event_id" doc:"The webhook-id header: the same on every attempt and replay"`
	EventType     string            `json:"event_type"`
	Status        string            `json:"status" enum:"pending,succeeded,failed,dead"`
	Run           int               `json:"run" doc:"1, then one more per replay"`
	Attempts      []DeliveryAttempt `json:"attempts" doc:"Oldest first (the last 50)"`
	NextAttemptAt *time.Time        `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// DeliveryAttempt is one try of a delivery.
type DeliveryAttempt struct {
	Run        int       `json:"run"`
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code,omitempty" doc:"Absent when no answer came"`
	LatencyMS  int64     `json:"latency_ms"`
	Error      string    `json:"error,omitempty"`
	Response   string    `json:"response,omitempty" doc:"At most 1 KB of the answer"`
}

func deliveryOut(d *crm.Delivery) Delivery {
	out := Delivery{ID: d.ID, WebhookID: d.SubscriptionID, EventID: d.EventID, EventType: d.EventType, Status: d.Status,
		Run: d.Run, Attempts: make([]DeliveryAttempt, len(d.Attempts)), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	for i, a := range d.Attempts {
		out.Attempts[i] = DeliveryAttempt(a)
	}
	if !d.NextAttemptAt.IsZero() {
		t := d.NextAttemptAt
		out.NextAttemptAt = &t
	}
	return out
}

// ChatID is a Telegram chat: an integer id or an @channel name, accepted as a
// JSON number or string.
type ChatID string

// UnmarshalJSON accepts a string or an integer.
func (c *ChatID) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			*c = ChatID(n)
			return nil
		}
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*c = ChatID(s)
	return nil
}

// Schema documents both forms.
func (ChatID) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{OneOf: []*huma.Schema{{Type: "string", MaxLength: ptr(64)}, {Type: "integer", Format: "int64"}},
		Description: "A chat id (integer, or its digits as a string) or an @channel name"}
}

func ptr[T any](v T) *T { return &v }

type webhookResponse struct{ Body Webhook }

func webhookResult(s *crm.Subscription, err error) (*webhookResponse, error) {
	if err != nil {
		return nil, err
	}
	return &webhookResponse{Body: webhookOut(s)}, nil
}

type webhookCreateInput struct {
	Body struct {
		Kind             string   `json:"kind,omitempty" enum:"webhook,telegram" doc:"webhook when absent"`
		URL              string   `json:"url,omitempty" maxLength:"2000" doc:"https:// endpoint (kind webhook)"`
		Events           []string `json:"events" maxItems:"20" doc:"lead.transferred, lead.lost, sale.stage_changed, sale.paid, sale.lost, webhook.test"`
		Description      string   `json:"description,omitempty" maxLength:"500"`
		IncludeContacts  bool     `json:"include_contacts,omitempty" doc:"Send the lead's name, company, email and phone"`
		Language         string   `json:"language,omitempty" enum:"en,uk" doc:"Of Telegram messages; en when absent"`
		TelegramBotToken string   `json:"telegram_bot_token,omitempty" maxLength:"200" doc:"Kind telegram; stored, never shown"`
		TelegramChatID   ChatID   `json:"telegram_chat_id,omitempty"`
	}
}

type webhookCreated struct {
	Body struct {
		Webhook
		Secret string `json:"secret,omitempty" doc:"The signing secret (whsec_…), shown only this once (kind webhook)"`
	}
}

func handleWebhookCreate(d Deps) func(context.Context, *webhookCreateInput) (*webhookCreated, error) {
	return func(ctx context.Context, in *webhookCreateInput) (*webhookCreated, error) {
		b := in.Body
		s, secret, err := d.Webhooks.CreateSubscription(ctx, crm.SubscriptionInput{Kind: b.Kind, URL: b.URL,
			Events: b.Events, Description: b.Description, IncludeContacts: b.IncludeContacts, Language: b.Language,
			TelegramToken: b.TelegramBotToken, TelegramChatID: string(b.TelegramChatID)})
		if err != nil {
			return nil, err
		}
		out := &webhookCreated{}
		out.Body.Webhook, out.Body.Secret = webhookOut(s), secret
		return out, nil
	}
}

type webhooksResponse struct{ Body []Webhook }

func handleWebhookList(d Deps) func(context.Context, *struct{}) (*webhooksResponse, error) {
	return func(ctx context.Context, _ *struct{}) (*webhooksResponse, error) {
		subs, err := d.Webhooks.Subscriptions(ctx)
		if err != nil {
			return nil, err
		}
		out := &webhooksResponse{Body: make([]Webhook, len(subs))}
		for i, s := range subs {
			out.Body[i] = webhookOut(s)
		}
		return out, nil
	}
}

type webhookIDInput struct {
	ID string `path:"id"`
}

func handleWebhookGet(d Deps) func(context.Context, *webhookIDInput) (*webhookResponse, error) {
	return func(ctx context.Context, in *webhookIDInput) (*webhookResponse, error) {
		return webhookResult(d.Webhooks.Subscription(ctx, in.ID))
	}
}

type webhookUpdateInput struct {
	ID   string `path:"id"`
	Body struct {
		URL              *string  `json:"url,omitempty" maxLength:"2000"`
		Events           []string `json:"events,omitempty" maxItems:"20"`
		Enabled          *bool    `json:"enabled,omitempty" doc:"Enabling clears the reason it was disabled for"`
		Description      *string  `json:"description,omitempty" maxLength:"500"`
		IncludeContacts  *bool    `json:"include_contacts,omitempty"`
		Language         *string  `json:"language,omitempty" enum:"en,uk"`
		TelegramBotToken *string  `json:"telegram_bot_token,omitempty" maxLength:"200"`
		TelegramChatID   *ChatID  `json:"telegram_chat_id,omitempty"`
	}
}

func handleWebhookUpdate(d Deps) func(context.Context, *webhookUpdateInput) (*webhookResponse, error) {
	return func(ctx context.Context, in *webhookUpdateInput) (*webhookResponse, error) {
		b := in.Body
		u := crm.SubscriptionUpdate{URL: b.URL, Events: b.Events, Enabled: b.Enabled, Description: b.Description,
			IncludeContacts: b.IncludeContacts, Language: b.Language, TelegramToken: b.TelegramBotToken}
		if b.TelegramChatID != nil {
			s := string(*b.TelegramChatID)
			u.TelegramChatID = &s
		}
		return webhookResult(d.Webhooks.UpdateSubscription(ctx, in.ID, u))
	}
}

func handleWebhookDelete(d Deps) func(context.Context, *webhookIDInput) (*struct{}, error) {
	return func(ctx context.Context, in *webhookIDInput) (*struct{}, error) {
		return &struct{}{}, d.Webhooks.DeleteSubscription(ctx, in.ID)
	}
}

type deliveryResponse struct{ Body Delivery }

func handleWebhookTest(d Deps) func(context.Context, *webhookIDInput) (*deliveryResponse, error) {
	return func(ctx context.Context, in *webhookIDInput) (*deliveryResponse, error) {
		dl, err := d.Webhooks.TestSubscription(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &deliveryResponse{Body: deliveryOut(dl)}, nil
	}
}

type secretResponse struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		Secret string `json:"secret" doc:"The new signing secret; the previous one keeps signing for 24 h"`
	}
}

func handleWebhookRotate(d Deps) func(context.Context, *webhookIDInput) (*secretResponse, error) {
	return func(ctx context.Context, in *webhookIDInput) (*secretResponse, error) {
		secret, err := d.Webhooks.RotateSecret(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &secretResponse{CacheControl: "no-store"}
		out.Body.Secret = secret
		return out, nil
	}
}

type deliveriesInput struct {
	ID     string `path:"id"`
	Status string `query:"status" enum:"pending,succeeded,failed,dead"`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
	Cursor string `query:"cursor"`
}

type deliveriesResponse struct {
	Link string `header:"Link" doc:"<…>; rel=\"next\" when there is a next page"`
	Body []Delivery
}

func handleDeliveries(d Deps) func(context.Context, *deliveriesInput) (*deliveriesResponse, error) {
	return func(ctx context.Context, in *deliveriesInput) (*deliveriesResponse, error) {
		f := crm.DeliveryFilter{SubscriptionID: in.ID, After: in.Cursor, Limit: in.Limit}
		if in.Status != "" {
			f.Statuses = []string{in.Status}
		}
		ds, next, err := d.Webhooks.Deliveries(ctx, f)
		if err != nil {
			return nil, err
		}
		out := &deliveriesResponse{Body: make([]Delivery, len(ds))}
		for i, dl := range ds {
			out.Body[i] = deliveryOut(dl)
		}
		out.Link = nextLink("/webhooks/"+url.PathEscape(in.ID)+"/deliveries",
			url.Values{"status": {in.Status}, "limit": {strconv.Itoa(in.Limit)}}, next)
		return out, nil
	}
}

type replayInput struct {
	ID         string `path:"id"`
	DeliveryID string `path:"delivery_id"`
}

func handleReplay(d Deps) func(context.Context, *replayInput) (*deliveryResponse, error) {
	return func(ctx context.Context, in *replayInput) (*deliveryResponse, error) {
		dl, err := d.Webhooks.ReplayDelivery(ctx, in.ID, in.DeliveryID)
		if err != nil {
			return nil, err
		}
		return &deliveryResponse{Body: deliveryOut(dl)}, nil
	}
}

func accepted(op *huma.Operation) { op.DefaultStatus = http.StatusAccepted }

// webhookPayload documents the body of every webhook (crm.WebhookPayload).
type webhookPayload struct {
	Type      string      `json:"type" enum:"lead.transferred,lead.lost,sale.stage_changed,sale.paid,sale.lost,webhook.test"`
	Timestamp time.Time   `json:"timestamp" doc:"When the event happened"`
	Data      webhookData `json:"data"`
}

type webhookData struct {
	LeadID         string           `json:"lead_id,omitempty"`
	SaleID         string           `json:"sale_id,omitempty" doc:"Events of a sale, and lead.transferred"`
	From           string           `json:"from,omitempty" doc:"The stage before"`
	To             string           `json:"to,omitempty" doc:"The stage after"`
	ActorID        string           `json:"actor_id,omitempty" doc:"The user who made the change"`
	At             time.Time        `json:"at"`
	SubscriptionID string           `json:"subscription_id,omitempty" doc:"webhook.test only"`
	Contacts       *webhookContacts `json:"contacts,omitempty" doc:"Only for subscriptions with include_contacts"`
}

type webhookContacts struct {
	Name    string `json:"name"`
	Company string `json:"company"`
	Email   string `json:"email"`
	Phone   string `json:"phone"`
}

// describeWebhooks fills the OpenAPI 3.1 webhooks section: what the service
// POSTs to subscribers, one entry per event type.
func describeWebhooks(o *huma.OpenAPI) {
	schema := o.Components.Schemas.Schema(reflect.TypeFor[webhookPayload](), true, "WebhookPayload")
	header := func(name, doc string) *huma.Param {
		return &huma.Param{Name: name, In: "header", Required: true, Description: doc, Schema: &huma.Schema{Type: "string"}}
	}
	what := map[string]string{
		crm.WebhookLeadTransferred:  "A lead was transferred to sales; data has the new sale's id.",
		crm.WebhookLeadLost:         "A lead was moved to lost.",
		crm.WebhookSaleStageChanged: "A sale moved one stage (also sent for paid and lost).",
		crm.WebhookSalePaid:         "A sale reached paid.",
		crm.WebhookSaleLost:         "A sale was lost.",
		crm.WebhookTest:             "Sent by POST /webhooks/{id}/test.",
	}
	o.Webhooks = map[string]*huma.PathItem{}
	for _, t := range crm.WebhookEventTypes {
		o.Webhooks[t] = &huma.PathItem{Post: &huma.Operation{
			OperationID: "webhook-" + t,
			Summary:     t,
			Description: what[t] + " Signed with Standard Webhooks v1; see docs/WEBHOOKS.md for verification " +
				"and the retry schedule (8 attempts over more than 27 h).",
			Tags: []string{webhooksTag},
			Parameters: []*huma.Param{
				header("webhook-id", "The event's id: the same on every attempt and replay; deduplicate on it"),
				header("webhook-timestamp", "Unix seconds of this attempt"),
				header("webhook-signature", "v1,<base64 HMAC-SHA256 of id.timestamp.body>, space-separated when two secrets sign"),
			},
			RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
				"application/json": {Schema: schema}}},
			Responses: map[string]*huma.Response{
				"200": {Description: "Any 2xx: delivered"},
				"410": {Description: "Gone: the subscription is disabled at once"},
			},
		}}
	}
}
