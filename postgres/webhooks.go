package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmleads/crm"
)

// ---- webhook subscriptions ----

const subCols = `id, kind, url, events, description, enabled, disabled_reason, include_contacts, language,
	secret, prev_secret, prev_secret_until, telegram_token, telegram_chat_id, failing_since, created_by,
	created_at, updated_at`

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func timeOf(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

func scanSub(row pgx.Row) (*crm.Subscription, error) {
	var s crm.Subscription
	var prevUntil, failing *time.Time
	var by *string
	if err := row.Scan(&s.ID, &s.Kind, &s.URL, &s.Events, &s.Description, &s.Enabled, &s.DisabledReason,
		&s.IncludeContacts, &s.Language, &s.Secret, &s.PrevSecret, &prevUntil, &s.TelegramToken,
		&s.TelegramChatID, &failing, &by, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return nil, err
	}
	s.PrevSecretUntil, s.FailingSince, s.CreatedBy = timeOf(prevUntil), timeOf(failing), str(by)
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return &s, nil
}

func subArgs(s *crm.Subscription) []any {
	return []any{s.ID, s.Kind, s.URL, s.Events, s.Description, s.Enabled, s.DisabledReason, s.IncludeContacts,
		s.Language, s.Secret, s.PrevSecret, nullTime(s.PrevSecretUntil), s.TelegramToken, s.TelegramChatID,
		nullTime(s.FailingSince), nullID(s.CreatedBy), s.CreatedAt, s.UpdatedAt}
}

func getSub(ctx context.Context, q querier, id, suffix string) (*crm.Subscription, error) {
	if !crm.ValidID(id) {
		return nil, crm.NotFound("webhook")
	}
	s, err := scanSub(q.QueryRow(ctx, `SELECT `+subCols+` FROM webhook_subscriptions WHERE id = $1`+suffix, id))
	if err != nil {
		return nil, classify("get webhook", err, "webhook")
	}
	return s, nil
}

func (db *DB) Subscription(ctx context.Context, id string) (*crm.Subscription, error) {
	return getSub(ctx, db.q, id, "")
}

func (db *DB) Subscriptions(ctx context.Context) ([]*crm.Subscription, error) {
	rows, err := db.q.Query(ctx, `SELECT `+subCols+` FROM webhook_subscriptions ORDER BY id`)
	if err != nil {
		return nil, classify("list webhooks", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*crm.Subscription, error) { return scanSub(r) })
	if err != nil {
		return nil, classify("list webhooks", err, "")
	}
	if out == nil {
		out = []*crm.Subscription{}
	}
	return out, nil
}

func (t *tx) LockSubscription(ctx context.Context, id string) (*crm.Subscription, error) {
	q, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	return getSub(ctx, q, id, " FOR NO KEY UPDATE")
}

func (t *tx) InsertSubscription(ctx context.Context, s *crm.Subscription) error {
	if err := checkIDs("id", s.ID, s.CreatedBy); err != nil {
		return err
	}
	t.write("insert webhook", "", `INSERT INTO webhook_subscriptions (`+subCols+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`, subArgs(s)...)
	return nil
}

func (t *tx) UpdateSubscription(ctx context.Context, s *crm.Subscription) error {
	if !crm.ValidID(s.ID) {
		return crm.NotFound("webhook")
	}
	t.write("update webhook", "webhook", `UPDATE webhook_subscriptions SET url = $3, events = $4,
		description = $5, enabled = $6, disabled_reason = $7, include_contacts = $8, language = $9, secret = $10,
		prev_secret = $11, prev_secret_until = $12, telegram_token = $13, telegram_chat_id = $14,
		failing_since = $15, updated_at = $16 WHERE id = $1 AND kind = $2`, append(subArgs(s)[:15], s.UpdatedAt)...)
	return nil
}

func (t *tx) DeleteSubscription(ctx context.Context, id string) error {
	if !crm.ValidID(id) {
		return crm.NotFound("webhook")
	}
	t.write("delete webhook", "webhook", `DELETE FROM webhook_subscriptions WHERE id = $1`, id)
	return nil
}

// ---- events and deliveries ----

func (t *tx) InsertWebhookEvent(ctx context.Context, e *crm.WebhookEvent) error {
	if err := checkIDs("id", e.ID); err != nil {
		return err
	}
	t.write("insert webhook event", "", `INSERT INTO webhook_events (id, type, data, created_at) VALUES ($1, $2, $3, $4)`,
		e.ID, e.Type, e.Data, e.CreatedAt)
	return nil
}

func (db *DB) WebhookEvent(ctx context.Context, id string) (*crm.WebhookEvent, error) {
	if !crm.ValidID(id) {
		return nil, crm.NotFound("webhook event")
	}
	var e crm.WebhookEvent
	err := db.q.QueryRow(ctx, `SELECT id, type, data, created_at FROM webhook_events WHERE id = $1`, id).
		Scan(&e.ID, &e.Type, &e.Data, &e.CreatedAt)
	if err != nil {
		return nil, classify("get webhook event", err, "webhook event")
	}
	e.CreatedAt = e.CreatedAt.UTC()
	e.Data.At = e.Data.At.UTC()
	return &e, nil
}

const deliveryCols = `id, subscription_id, event_id, event_type, status, run, attempts, next_attempt_at,
	created_at, updated_at`

func scanDelivery(row pgx.Row) (*crm.Delivery, error) {
	var d crm.Delivery
	var next *time.Time
	if err := row.Scan(&d.ID, &d.SubscriptionID, &d.EventID, &d.EventType, &d.Status, &d.Run, &d.Attempts,
		&next, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = timeOf(next), d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	for i := range d.Attempts {
		d.Attempts[i].At = d.Attempts[i].At.UTC()
	}
	return &d, nil
}

func getDelivery(ctx context.Context, q querier, id, suffix string) (*crm.Delivery, error) {
	if !crm.ValidID(id) {
		return nil, crm.NotFound("delivery")
	}
	d, err := scanDelivery(q.QueryRow(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`+suffix, id))
	if err != nil {
		return nil, classify("get delivery", err, "delivery")
	}
	return d, nil
}

func (db *DB) Delivery(ctx context.Context, id string) (*crm.Delivery, error) {
	return getDelivery(ctx, db.q, id, "")
}

func (db *DB) Deliveries(ctx context.Context, f crm.DeliveryFilter) ([]*crm.Delivery, error) {
	if !crm.ValidID(f.SubscriptionID) || (f.After != "" && !crm.ValidID(f.After)) {
		return []*crm.Delivery{}, nil
	}
	var w where
	w.add("subscription_id = $", f.SubscriptionID)
	if len(f.Statuses) > 0 {
		w.add("status = ANY($", f.Statuses)
		w.conds[len(w.conds)-1] += ")"
	}
	if !f.Since.IsZero() {
		w.add("created_at >= $", f.Since)
	}
	if f.After != "" {
		w.add("id < $", f.After)
	}
	rows, err := db.q.Query(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries`+w.sql()+
		` ORDER BY id DESC LIMIT `+w.arg(limit(f.Limit)), w.args...)
	if err != nil {
		return nil, classify("list deliveries", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*crm.Delivery, error) { return scanDelivery(r) })
	if err != nil {
		return nil, classify("list deliveries", err, "")
	}
	if out == nil {
		out = []*crm.Delivery{}
	}
	return out, nil
}

// InsertDelivery needs its answer (inserted or not), so it runs in the real
// transaction rather than the queue.
func (t *tx) InsertDelivery(ctx context.Context, d *crm.Delivery) (bool, error) {
	if err := checkIDs("id", d.ID, d.SubscriptionID, d.EventID); err != nil {
		return false, err
	}
	q, err := t.conn(ctx)
	if err != nil {
		return false, err
	}
	attempts := d.Attempts
	if attempts == nil {
		attempts = []crm.DeliveryAttempt{}
	}
	// The subscription is checked in the statement: a failed foreign-key
	// check would abort the whole transaction, and with it the fan-out's
	// other deliveries.
	tag, err := q.Exec(ctx, `INSERT INTO webhook_deliveries (`+deliveryCols+`)
		SELECT $1::uuid, $2::uuid, $3::uuid, $4::text, $5::text, $6::integer, $7::jsonb, $8::timestamptz,
			$9::timestamptz, $10::timestamptz
		WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = $2::uuid)
		ON CONFLICT (event_id, subscription_id) DO NOTHING`,
		d.ID, d.SubscriptionID, d.EventID, d.EventType, d.Status, d.Run, attempts, nullTime(d.NextAttemptAt),
		d.CreatedAt, d.UpdatedAt)
	if err != nil {
		return false, classify("insert delivery", err, "")
	}
	return tag.RowsAffected() == 1, nil
}

func (t *tx) LockDelivery(ctx context.Context, id string) (*crm.Delivery, error) {
	q, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	return getDelivery(ctx, q, id, " FOR UPDATE")
}

func (t *tx) UpdateDelivery(ctx context.Context, d *crm.Delivery) error {
	if !crm.ValidID(d.ID) {
		return crm.NotFound("delivery")
	}
	attempts := d.Attempts
	if attempts == nil {
		attempts = []crm.DeliveryAttempt{}
	}
	t.write("update delivery", "delivery", `UPDATE webhook_deliveries SET status = $2, run = $3, attempts = $4,
		next_attempt_at = $5, updated_at = $6 WHERE id = $1`,
		d.ID, d.Status, d.Run, attempts, nullTime(d.NextAttemptAt), d.UpdatedAt)
	return nil
}
