package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// WebhookSender reaches subscribers over the network (the webhook package).
type WebhookSender interface {
	// CheckTarget refuses, with EINVALID, a target the service must not
	// reach: a host that does not resolve, or resolves to any non-public
	// address (unless private targets are allowed).
	CheckTarget(ctx context.Context, s *Subscription) error
	// Send makes one attempt. The result never holds a secret or the bot
	// token, not even in its error text.
	Send(ctx context.Context, s *Subscription, m *WebhookMessage) SendResult
}

// WebhookMessage is what one attempt sends.
type WebhookMessage struct {
	ID        string    // webhook-id: the event's id
	Timestamp time.Time // webhook-timestamp: when this attempt is made
	Payload   WebhookPayload
	Body      []byte // Payload as JSON
}

// SendResult is what came of one attempt.
type SendResult struct {
	StatusCode int // 0 when no answer came
	Latency    time.Duration
	Error      string // transport failure, or what was wrong with the answer
	Response   string // at most MaxResponseKept bytes of the answer
	RetryAfter time.Duration
}

// DefaultSchedule is the delay before each attempt of a delivery: 8 attempts
// over 27 h 35 min, before jitter.
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Defaults of WebhookConfig.
const (
	DefaultRetryWindow  = 27 * time.Hour
	DefaultJitter       = 0.5
	DefaultDisableAfter = 5 * 24 * time.Hour
	MaxRetryAfter       = 24 * time.Hour
)

// WebhookConfig configures the WebhookService.
type WebhookConfig struct {
	Sender WebhookSender
	// AllowPrivate admits http:// and non-public targets (local testing).
	AllowPrivate bool
	// Schedule is the delay before each attempt (DefaultSchedule when nil).
	Schedule []time.Duration
	// RetryWindow: a delivery is dead only once it has made every attempt of
	// Schedule AND its first attempt is this long ago; until then one more
	// attempt is scheduled at the window's end. It keeps the promise of
	// "over 27 h" whatever the jitter drew. Negative: no window.
	RetryWindow time.Duration
	// Jitter spreads each delay by up to ±Jitter of itself (negative: none).
	Jitter float64
	// DisableAfter disables a subscription whose deliveries have all failed
	// for this long.
	DisableAfter time.Duration
	// Rand returns a number in [0, 1) (math/rand/v2 by default).
	Rand func() float64
}

// WebhookService holds webhook subscriptions and their deliveries: admins
// manage subscriptions; the job engine fans events out and delivers them.
type WebhookService struct {
	base
	sender       WebhookSender
	allowPrivate bool
	schedule     []time.Duration
	window       time.Duration
	jitter       float64
	disableAfter time.Duration
	rand         func() float64
}

func newWebhookService(b base, cfg WebhookConfig) *WebhookService {
	s := &WebhookService{base: b, sender: cfg.Sender, allowPrivate: cfg.AllowPrivate, schedule: cfg.Schedule,
		window: cfg.RetryWindow, jitter: cfg.Jitter, disableAfter: cfg.DisableAfter, rand: cfg.Rand}
	if len(s.schedule) == 0 {
		s.schedule = DefaultSchedule
		if s.window == 0 {
			s.window = DefaultRetryWindow
		}
	}
	switch {
	case s.window == 0:
		// A schedule of one's own (tests) has no window unless it says so.
	case s.window < 0:
		s.window = 0
	}
	switch {
	case s.jitter == 0:
		s.jitter = DefaultJitter
	case s.jitter < 0:
		s.jitter = 0
	}
	if s.disableAfter <= 0 {
		s.disableAfter = DefaultDisableAfter
	}
	if s.rand == nil {
		s.rand = rand.Float64
	}
	return s
}

// ---- events, recorded by the other services ----

// leadWebhook returns the event of a lead's change, made by a at now.
func leadWebhook(eventType string, a Actor, l *Lead, saleID, from, to string, now time.Time) *WebhookEvent {
	return &WebhookEvent{ID: NewID(), Type: eventType, CreatedAt: now,
		Data: WebhookData{LeadID: l.ID, SaleID: saleID, From: from, To: to, ActorID: a.UserID, At: now}}
}

// emitWebhooks records events in tx and enqueues, in the same transaction,
// the job that fans each out to its subscribers: no change without its
// events, no event without its change.
func emitWebhooks(ctx context.Context, tx Tx, events ...*WebhookEvent) error {
	jobs := make([]JobArgs, 0, len(events))
	for _, e := range events {
		if err := tx.InsertWebhookEvent(ctx, e); err != nil {
			return err
		}
		jobs = append(jobs, WebhookFanOutJob{EventID: e.ID})
	}
	return tx.Enqueue(ctx, jobs...)
}

// ---- subscriptions (admins only) ----

// CreateSubscription adds a subscription and returns it with its signing
// secret, which is shown this once (Telegram targets have none).
// Errors: EFORBIDDEN, EINVALID.
func (s *WebhookService) CreateSubscription(ctx context.Context, in SubscriptionInput) (*Subscription, string, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, "", err
	}
	now := s.timestamp()
	sub := &Subscription{ID: NewID(), Kind: strings.TrimSpace(in.Kind), URL: strings.TrimSpace(in.URL),
		Events: dedupe(in.Events), Description: strings.TrimSpace(in.Description), Enabled: true,
		IncludeContacts: in.IncludeContacts, Language: strings.TrimSpace(in.Language),
		TelegramToken: strings.TrimSpace(in.TelegramToken), TelegramChatID: strings.TrimSpace(in.TelegramChatID),
		CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	if sub.Kind == "" {
		sub.Kind = KindWebhook
	}
	if sub.Language == "" {
		sub.Language = "en"
	}
	if err := s.check(ctx, sub); err != nil {
		return nil, "", err
	}
	if sub.Kind == KindWebhook {
		sub.Secret = NewSecret()
	}
	if err := s.store.InTx(ctx, func(tx Tx) error { return tx.InsertSubscription(ctx, sub) }); err != nil {
		return nil, "", err
	}
	return sub.redacted(), sub.Secret, nil
}

// check validates a subscription and, for an endpoint, resolves its host.
func (s *WebhookService) check(ctx context.Context, sub *Subscription) error {
	if err := sub.validate(s.allowPrivate); err != nil {
		return err
	}
	if sub.Kind == KindWebhook && s.sender != nil {
		return s.sender.CheckTarget(ctx, sub)
	}
	return nil
}

// Subscriptions returns every subscription, oldest first. Errors: EFORBIDDEN.
func (s *WebhookService) Subscriptions(ctx context.Context) ([]*Subscription, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	subs, err := s.store.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Subscription, len(subs))
	for i, sub := range subs {
		out[i] = sub.redacted()
	}
	return out, nil
}

// Subscription returns one subscription. Errors: EFORBIDDEN, ENOTFOUND.
func (s *WebhookService) Subscription(ctx context.Context, id string) (*Subscription, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	sub, err := s.subscription(ctx, id)
	if err != nil {
		return nil, err
	}
	return sub.redacted(), nil
}

func (s *WebhookService) subscription(ctx context.Context, id string) (*Subscription, error) {
	id = NormalizeID(id)
	if !ValidID(id) {
		return nil, NotFound("webhook")
	}
	sub, err := s.store.Subscription(ctx, id)
	if IsKind(err, ENOTFOUND) {
		return nil, NotFound("webhook")
	}
	return sub, err
}

// changeSubscription runs change on the locked subscription and stores it.
func (s *WebhookService) changeSubscription(ctx context.Context, id string, change func(tx Tx, sub *Subscription) error) (*Subscription, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	id = NormalizeID(id)
	if !ValidID(id) {
		return nil, NotFound("webhook")
	}
	var out *Subscription
	err := s.store.InTx(ctx, func(tx Tx) error {
		sub, err := tx.LockSubscription(ctx, id)
		if IsKind(err, ENOTFOUND) {
			return NotFound("webhook")
		}
		if err != nil {
			return err
		}
		if err := change(tx, sub); err != nil {
			return err
		}
		sub.UpdatedAt = s.timestamp()
		out = sub
		return tx.UpdateSubscription(ctx, sub)
	})
	return out, err
}

// UpdateSubscription changes a subscription; enabling it clears the reason it
// was disabled for. Errors: EFORBIDDEN, ENOTFOUND, EINVALID.
func (s *WebhookService) UpdateSubscription(ctx context.Context, id string, u SubscriptionUpdate) (*Subscription, error) {
	// The host is resolved outside the transaction: a slow DNS answer must
	// not hold a row lock.
	if u.URL != nil {
		probe := &Subscription{Kind: KindWebhook, URL: strings.TrimSpace(*u.URL), Events: []string{WebhookTest}, Language: "en"}
		if err := s.check(ctx, probe); err != nil {
			return nil, err
		}
	}
	sub, err := s.changeSubscription(ctx, id, func(_ Tx, sub *Subscription) error {
		if u.URL != nil {
			if sub.Kind != KindWebhook {
				return Invalid(FieldError{Field: "url", Message: "is not given for a Telegram target"})
			}
			sub.URL = strings.TrimSpace(*u.URL)
		}
		if u.Events != nil {
			sub.Events = dedupe(u.Events)
		}
		if u.Description != nil {
			sub.Description = strings.TrimSpace(*u.Description)
		}
		if u.IncludeContacts != nil {
			sub.IncludeContacts = *u.IncludeContacts
		}
		if u.Language != nil {
			sub.Language = strings.TrimSpace(*u.Language)
		}
		if u.TelegramChatID != nil || u.TelegramToken != nil {
			if sub.Kind != KindTelegram {
				return Invalid(FieldError{Field: "telegram_chat_id", Message: "is given only for a Telegram target"})
			}
			if u.TelegramChatID != nil {
				sub.TelegramChatID = strings.TrimSpace(*u.TelegramChatID)
			}
			if u.TelegramToken != nil {
				sub.TelegramToken = strings.TrimSpace(*u.TelegramToken)
			}
		}
		if u.Enabled != nil && *u.Enabled != sub.Enabled {
			sub.Enabled = *u.Enabled
			sub.DisabledReason, sub.FailingSince = "", time.Time{}
		}
		return sub.validate(s.allowPrivate)
	})
	if err != nil {
		return nil, err
	}
	return sub.redacted(), nil
}

// DeleteSubscription removes a subscription and its delivery log; jobs still
// queued for it find nothing and stop. Errors: EFORBIDDEN, ENOTFOUND.
func (s *WebhookService) DeleteSubscription(ctx context.Context, id string) error {
	if _, err := requireAdmin(ctx); err != nil {
		return err
	}
	id = NormalizeID(id)
	if !ValidID(id) {
		return NotFound("webhook")
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LockSubscription(ctx, id); err != nil {
			if IsKind(err, ENOTFOUND) {
				return NotFound("webhook")
			}
			return err
		}
		return tx.DeleteSubscription(ctx, id)
	})
}

// RotateSecret gives a webhook a new signing secret and returns it; the old
// one keeps signing too for SecretOverlap, so receivers can switch without a
// gap. Errors: EFORBIDDEN, ENOTFOUND, ECONFLICT (a Telegram target has none).
func (s *WebhookService) RotateSecret(ctx context.Context, id string) (string, error) {
	var secret string
	_, err := s.changeSubscription(ctx, id, func(_ Tx, sub *Subscription) error {
		if sub.Kind != KindWebhook {
			return Errorf(ECONFLICT, CodeConflict, "a Telegram target has no signing secret")
		}
		secret = NewSecret()
		sub.PrevSecret, sub.PrevSecretUntil, sub.Secret = sub.Secret, s.timestamp().Add(SecretOverlap), secret
		return nil
	})
	return secret, err
}

// TestSubscription sends a webhook.test event to the subscription, whether or
// not it lists that type, and returns the delivery.
// Errors: EFORBIDDEN, ENOTFOUND, ECONFLICT (disabled).
func (s *WebhookService) TestSubscription(ctx context.Context, id string) (*Delivery, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	id = NormalizeID(id)
	if !ValidID(id) {
		return nil, NotFound("webhook")
	}
	var d *Delivery
	err = s.store.InTx(ctx, func(tx Tx) error {
		sub, err := tx.LockSubscription(ctx, id)
		if IsKind(err, ENOTFOUND) {
			return NotFound("webhook")
		}
		if err != nil {
			return err
		}
		if !sub.Enabled {
			return Errorf(ECONFLICT, CodeConflict, "the webhook is disabled; enable it first")
		}
		now := s.timestamp()
		ev := &WebhookEvent{ID: NewID(), Type: WebhookTest, CreatedAt: now,
			Data: WebhookData{ActorID: a.UserID, At: now, SubscriptionID: sub.ID}}
		if err := tx.InsertWebhookEvent(ctx, ev); err != nil {
			return err
		}
		d = newDelivery(sub, ev, now)
		if _, err := tx.InsertDelivery(ctx, d); err != nil {
			return err
		}
		return tx.Enqueue(ctx, WebhookDeliverJob{DeliveryID: d.ID, Run: d.Run})
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func newDelivery(sub *Subscription, ev *WebhookEvent, now time.Time) *Delivery {
	return &Delivery{ID: NewID(), SubscriptionID: sub.ID, EventID: ev.ID, EventType: ev.Type,
		Status: DeliveryPending, Run: 1, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
}

// Deliveries returns a page of a subscription's deliveries, newest first, and
// the cursor of the next page. Errors: EFORBIDDEN, ENOTFOUND, EINVALID.
func (s *WebhookService) Deliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, "", err
	}
	sub, err := s.subscription(ctx, f.SubscriptionID)
	if err != nil {
		return nil, "", err
	}
	f.SubscriptionID = sub.ID
	if err := checkCursor(f.After); err != nil {
		return nil, "", err
	}
	return page(f.Limit, func(n int) ([]*Delivery, error) {
		f.Limit = n
		return s.store.Deliveries(ctx, f)
	}, func(d *Delivery) string { return d.ID })
}

// ReplayDelivery sends a delivery again, from a new run of attempts, with the
// same webhook-id. A job of the superseded run stops when it wakes.
// Errors: EFORBIDDEN, ENOTFOUND, ECONFLICT (the subscription is disabled).
func (s *WebhookService) ReplayDelivery(ctx context.Context, subID, deliveryID string) (*Delivery, error) {
	ds, err := s.replay(ctx, subID, func(_ Tx) ([]string, error) {
		id := NormalizeID(deliveryID)
		if !ValidID(id) {
			return nil, NotFound("delivery")
		}
		return []string{id}, nil
	})
	if err != nil {
		return nil, err
	}
	return ds[0], nil
}

// MaxReplay bounds the deliveries ReplayFailed replays at once.
const MaxReplay = 1000

// ReplayFailed replays every failed or dead delivery of the subscription made
// since the given time (at most MaxReplay), and returns how many.
// Errors: as ReplayDelivery.
func (s *WebhookService) ReplayFailed(ctx context.Context, subID string, since time.Time) (int, error) {
	ds, err := s.replay(ctx, subID, func(_ Tx) ([]string, error) {
		found, err := s.store.Deliveries(ctx, DeliveryFilter{SubscriptionID: NormalizeID(subID),
			Statuses: []string{DeliveryFailed, DeliveryDead}, Since: since, Limit: MaxReplay})
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(found))
		for i, d := range found {
			ids[i] = d.ID
		}
		return ids, nil
	})
	return len(ds), err
}

func (s *WebhookService) replay(ctx context.Context, subID string, ids func(Tx) ([]string, error)) ([]*Delivery, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	subID = NormalizeID(subID)
	if !ValidID(subID) {
		return nil, NotFound("webhook")
	}
	var out []*Delivery
	err := s.store.InTx(ctx, func(tx Tx) error {
		// The subscription first, then its deliveries: the order Deliver
		// locks them in, so the two never deadlock.
		sub, err := tx.LockSubscription(ctx, subID)
		if IsKind(err, ENOTFOUND) {
			return NotFound("webhook")
		}
		if err != nil {
			return err
		}
		if !sub.Enabled {
			return Errorf(ECONFLICT, CodeConflict, "the webhook is disabled; enable it first")
		}
		list, err := ids(tx)
		if err != nil {
			return err
		}
		now := s.timestamp()
		jobs := make([]JobArgs, 0, len(list))
		for _, id := range list {
			d, err := tx.LockDelivery(ctx, id)
			if IsKind(err, ENOTFOUND) || (err == nil && d.SubscriptionID != sub.ID) {
				return NotFound("delivery")
			}
			if err != nil {
				return err
			}
			d.Run++
			d.Status, d.NextAttemptAt, d.UpdatedAt = DeliveryPending, now, now
			if err := tx.UpdateDelivery(ctx, d); err != nil {
				return err
			}
			jobs = append(jobs, WebhookDeliverJob{DeliveryID: d.ID, Run: d.Run})
			out = append(out, d)
		}
		return tx.Enqueue(ctx, jobs...)
	})
	return out, err
}

// ---- the engine's side ----

// FanOut creates one delivery of the event per enabled subscription that
// wants its type, and enqueues their jobs in the same transaction. A second
// run (River retrying after a crash) finds the deliveries made and adds none.
func (s *WebhookService) FanOut(ctx context.Context, job WebhookFanOutJob) error {
	ev, err := s.store.WebhookEvent(ctx, job.EventID)
	if IsKind(err, ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	subs, err := s.store.Subscriptions(ctx)
	if err != nil {
		return err
	}
	var want []*Subscription
	for _, sub := range subs {
		if sub.Enabled && sub.Wants(ev.Type) {
			want = append(want, sub)
		}
	}
	if len(want) == 0 {
		return nil
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		now := s.timestamp()
		jobs := make([]JobArgs, 0, len(want))
		for _, sub := range want {
			d := newDelivery(sub, ev, now)
			created, err := tx.InsertDelivery(ctx, d)
			if IsKind(err, ENOTFOUND) { // the subscription was deleted meanwhile
				continue
			}
			if err != nil {
				return err
			}
			if created {
				jobs = append(jobs, WebhookDeliverJob{DeliveryID: d.ID, Run: d.Run})
			}
		}
		return tx.Enqueue(ctx, jobs...)
	})
}

// Deliver makes one attempt of a delivery, records it, and says whether and
// when to try again. No transaction is open while the receiver is called.
// An error is the service's own failure; the job engine then retries.
func (s *WebhookService) Deliver(ctx context.Context, job WebhookDeliverJob) (DeliveryNext, error) {
	done := DeliveryNext{}
	d, err := s.store.Delivery(ctx, job.DeliveryID)
	if IsKind(err, ENOTFOUND) {
		return done, nil // deleted with its subscription
	}
	if err != nil {
		return done, err
	}
	if d.Run != job.Run || d.Status == DeliverySucceeded || d.Status == DeliveryDead {
		return done, nil // superseded by a replay, or already finished
	}
	sub, err := s.store.Subscription(ctx, d.SubscriptionID)
	if IsKind(err, ENOTFOUND) {
		return done, nil
	}
	if err != nil {
		return done, err
	}
	var res SendResult
	start := s.timestamp()
	if sub.Enabled {
		msg, err := s.message(ctx, sub, d)
		if err != nil {
			return done, err
		}
		res = s.sender.Send(ctx, sub, msg)
		if ctx.Err() != nil {
			// Cut off by a stop or the job's timeout, not answered: no
			// attempt is counted, and the engine runs the job again.
			return done, fmt.Errorf("delivery %s interrupted: %w", d.ID, ctx.Err())
		}
	}
	next := done
	err = s.store.InTx(ctx, func(tx Tx) error {
		sub, err := tx.LockSubscription(ctx, d.SubscriptionID)
		if err != nil {
			return err
		}
		d, err := tx.LockDelivery(ctx, d.ID)
		if err != nil {
			return err
		}
		if d.Run != job.Run || d.Status == DeliverySucceeded || d.Status == DeliveryDead {
			return nil // a replay began while this attempt was under way
		}
		now := s.timestamp()
		d.UpdatedAt, d.NextAttemptAt = now, time.Time{}
		if !sub.Enabled {
			d.Status = DeliveryDead
			if err := tx.UpdateDelivery(ctx, d); err != nil {
				return err
			}
			next.Status, next.EventType = d.Status, d.EventType
			return nil
		}
		d.Attempts = append(d.Attempts, DeliveryAttempt{Run: d.Run, At: start, StatusCode: res.StatusCode,
			LatencyMS: res.Latency.Milliseconds(), Error: res.Error, Response: res.Response})
		if n := len(d.Attempts); n > MaxAttemptsKept {
			d.Attempts = d.Attempts[n-MaxAttemptsKept:]
		}
		subChanged := false
		switch code := res.StatusCode; {
		case code >= 200 && code < 300:
			d.Status = DeliverySucceeded
			if !sub.FailingSince.IsZero() {
				sub.FailingSince, subChanged = time.Time{}, true
			}
		case code == 410:
			d.Status = DeliveryDead
			sub.Enabled, subChanged = false, true
			sub.DisabledReason = "the receiver answered 410 Gone at " + now.Format(time.RFC3339)
		default:
			if sub.FailingSince.IsZero() {
				sub.FailingSince, subChanged = start, true
			}
			if now.Sub(sub.FailingSince) >= s.disableAfter {
				d.Status = DeliveryDead
				sub.Enabled, subChanged = false, true
				sub.DisabledReason = fmt.Sprintf("every delivery failed for %d days, since %s",
					int(s.disableAfter.Hours()/24), sub.FailingSince.Format(time.RFC3339))
				break
			}
			after, again := s.nextDelay(d, now, res.RetryAfter)
			if !again {
				d.Status = DeliveryDead
				break
			}
			d.Status, d.NextAttemptAt = DeliveryFailed, now.Add(after)
			next = DeliveryNext{Retry: true, After: after}
		}
		if subChanged {
			sub.UpdatedAt = now
			if err := tx.UpdateSubscription(ctx, sub); err != nil {
				return err
			}
		}
		if err := tx.UpdateDelivery(ctx, d); err != nil {
			return err
		}
		next.Status, next.EventType = d.Status, d.EventType
		return nil
	})
	if IsKind(err, ENOTFOUND) {
		return done, nil
	}
	if err != nil {
		return done, err
	}
	return next, nil
}

// nextDelay returns the wait before the next attempt of d's run, or false
// when the run is over: every attempt of the schedule made and the retry
// window since its first attempt passed.
func (s *WebhookService) nextDelay(d *Delivery, now time.Time, retryAfter time.Duration) (time.Duration, bool) {
	var n int
	var first time.Time
	for _, a := range d.Attempts {
		if a.Run == d.Run {
			if n == 0 {
				first = a.At
			}
			n++
		}
	}
	var after time.Duration
	switch {
	case n < len(s.schedule):
		after = s.jittered(s.schedule[n], s.jitter)
	case now.Sub(first) < s.window:
		// Out of scheduled attempts before the window closed (the jitter
		// drew short): one more at its end, late rather than early.
		after = s.jittered(first.Add(s.window).Sub(now), 0) + time.Duration(s.rand()*float64(time.Minute))
	default:
		return 0, false
	}
	if retryAfter > 0 {
		after = max(after, min(retryAfter, MaxRetryAfter))
	}
	return after, true
}

func (s *WebhookService) jittered(d time.Duration, j float64) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(float64(d) * (1 + j*(2*s.rand()-1)))
}

// message builds the attempt's body: the event, with the lead's contacts
// only when the subscription asks for them (read now, not kept with the event).
func (s *WebhookService) message(ctx context.Context, sub *Subscription, d *Delivery) (*WebhookMessage, error) {
	ev, err := s.store.WebhookEvent(ctx, d.EventID)
	if err != nil {
		return nil, err
	}
	data := ev.Data
	data.Contacts = nil
	if sub.IncludeContacts && data.LeadID != "" {
		l, err := s.store.Lead(ctx, data.LeadID)
		if err != nil && !IsKind(err, ENOTFOUND) {
			return nil, err
		}
		if l != nil {
			data.Contacts = &WebhookContacts{Name: l.Name, Company: l.Company, Email: l.Email, Phone: l.Phone}
		}
	}
	p := WebhookPayload{Type: ev.Type, Timestamp: ev.CreatedAt, Data: data}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("webhook body: %w", err)
	}
	return &WebhookMessage{ID: ev.ID, Timestamp: s.now().UTC(), Payload: p, Body: body}, nil
}
