package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/crmleads/crm"
)

const subCols = `id, kind, url, events, description, enabled, disabled_reason, include_contacts, language,
	secret, prev_secret, prev_secret_until, telegram_token, telegram_chat_id, failing_since, created_by,
	created_at, updated_at`

const (
	qSub    = `SELECT ` + subCols + ` FROM webhook_subscriptions WHERE id = ?`
	qSubs   = `SELECT ` + subCols + ` FROM webhook_subscriptions ORDER BY id`
	qSubIns = `INSERT INTO webhook_subscriptions (` + subCols + `) VALUES
		(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qSubUpd = `UPDATE webhook_subscriptions SET url = ?, events = ?, description = ?, enabled = ?,
		disabled_reason = ?, include_contacts = ?, language = ?, secret = ?, prev_secret = ?, prev_secret_until = ?,
		telegram_token = ?, telegram_chat_id = ?, failing_since = ?, updated_at = ? WHERE id = ?`
	qSubDel        = `DELETE FROM webhook_subscriptions WHERE id = ?`
	qWebhookEvent  = `SELECT id, type, data, created_at FROM webhook_events WHERE id = ?`
	qWebhookEvtIns = `INSERT INTO webhook_events (id, type, data, created_at) VALUES (?, ?, ?, ?)`
	deliveryCols   = `id, subscription_id, event_id, event_type, status, run, attempts, next_attempt_at,
	created_at, updated_at`
	qDelivery    = `SELECT ` + deliveryCols + ` FROM webhook_deliveries WHERE id = ?`
	qDeliveryIns = `INSERT INTO webhook_deliveries (` + deliveryCols + `)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = ?)
		ON CONFLICT (event_id, subscription_id) DO NOTHING`
	qDeliveryUpd = `UPDATE webhook_deliveries SET status = ?, run = ?, attempts = ?, next_attempt_at = ?,
		updated_at = ? WHERE id = ?`
)

func nullTimeText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

func parseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}

func scanSub(r scanner) (*crm.Subscription, error) {
	var (
		s                  crm.Subscription
		events             string
		enabled, contacts  int64
		prevUntil, failing sql.NullString
		by                 sql.NullString
		created, updated   string
	)
	if err := r.Scan(&s.ID, &s.Kind, &s.URL, &events, &s.Description, &enabled, &s.DisabledReason, &contacts,
		&s.Language, &s.Secret, &s.PrevSecret, &prevUntil, &s.TelegramToken, &s.TelegramChatID, &failing, &by,
		&created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &s.Events); err != nil {
		return nil, fmt.Errorf("bad stored events: %w", err)
	}
	s.Enabled, s.IncludeContacts, s.CreatedBy = enabled == 1, contacts == 1, by.String
	var err error
	if s.PrevSecretUntil, err = parseNullTime(prevUntil); err != nil {
		return nil, err
	}
	if s.FailingSince, err = parseNullTime(failing); err != nil {
		return nil, err
	}
	if s.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if s.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &s, nil
}

func eventsText(events []string) string {
	b, _ := json.Marshal(events) // cannot fail: strings
	return string(b)
}

// Subscription returns a webhook subscription.
func (db *DB) Subscription(ctx context.Context, id string) (*crm.Subscription, error) {
	row, err := db.queryRow(ctx, qSub, id)
	if err != nil {
		return nil, mapErr("get webhook", "webhook", err)
	}
	s, err := scanSub(row)
	return s, mapErr("get webhook", "webhook", err)
}

// Subscriptions returns every subscription, oldest first.
func (db *DB) Subscriptions(ctx context.Context) ([]*crm.Subscription, error) {
	out, err := queryAll(ctx, db, "list webhooks", scanSub, qSubs)
	if out == nil && err == nil {
		out = []*crm.Subscription{}
	}
	return out, err
}

func (t *tx) LockSubscription(ctx context.Context, id string) (*crm.Subscription, error) {
	s, err := scanSub(t.queryRow(ctx, qSub, id))
	return s, mapErr("lock webhook", "webhook", err)
}

func (t *tx) InsertSubscription(ctx context.Context, s *crm.Subscription) error {
	return mapErr("insert webhook", "", t.exec(ctx, qSubIns, s.ID, s.Kind, s.URL, eventsText(s.Events),
		s.Description, boolInt(s.Enabled), s.DisabledReason, boolInt(s.IncludeContacts), s.Language, s.Secret,
		s.PrevSecret, nullTimeText(s.PrevSecretUntil), s.TelegramToken, s.TelegramChatID,
		nullTimeText(s.FailingSince), nullStr(s.CreatedBy), fmtTime(s.CreatedAt), fmtTime(s.UpdatedAt)))
}

func (t *tx) UpdateSubscription(ctx context.Context, s *crm.Subscription) error {
	return mapErr("update webhook", "webhook", t.execOne(ctx, qSubUpd, s.URL, eventsText(s.Events),
		s.Description, boolInt(s.Enabled), s.DisabledReason, boolInt(s.IncludeContacts), s.Language, s.Secret,
		s.PrevSecret, nullTimeText(s.PrevSecretUntil), s.TelegramToken, s.TelegramChatID,
		nullTimeText(s.FailingSince), fmtTime(s.UpdatedAt), s.ID))
}

func (t *tx) DeleteSubscription(ctx context.Context, id string) error {
	return mapErr("delete webhook", "webhook", t.execOne(ctx, qSubDel, id))
}

func (t *tx) InsertWebhookEvent(ctx context.Context, e *crm.WebhookEvent) error {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return mapErr("insert webhook event", "", fmt.Errorf("encode: %w", err))
	}
	return mapErr("insert webhook event", "", t.exec(ctx, qWebhookEvtIns, e.ID, e.Type, string(data), fmtTime(e.CreatedAt)))
}

// WebhookEvent returns a webhook event.
func (db *DB) WebhookEvent(ctx context.Context, id string) (*crm.WebhookEvent, error) {
	row, err := db.queryRow(ctx, qWebhookEvent, id)
	if err != nil {
		return nil, mapErr("get webhook event", "webhook event", err)
	}
	var (
		e             crm.WebhookEvent
		data, created string
	)
	if err := row.Scan(&e.ID, &e.Type, &data, &created); err != nil {
		return nil, mapErr("get webhook event", "webhook event", err)
	}
	if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
		return nil, mapErr("get webhook event", "", fmt.Errorf("bad stored data: %w", err))
	}
	e.Data.At = e.Data.At.UTC()
	e.CreatedAt, err = parseTime(created)
	return &e, mapErr("get webhook event", "", err)
}

func scanDelivery(r scanner) (*crm.Delivery, error) {
	var (
		d                         crm.Delivery
		attempts, created, update string
		next                      sql.NullString
	)
	if err := r.Scan(&d.ID, &d.SubscriptionID, &d.EventID, &d.EventType, &d.Status, &d.Run, &attempts, &next,
		&created, &update); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(attempts), &d.Attempts); err != nil {
		return nil, fmt.Errorf("bad stored attempts: %w", err)
	}
	for i := range d.Attempts {
		d.Attempts[i].At = d.Attempts[i].At.UTC()
	}
	var err error
	if d.NextAttemptAt, err = parseNullTime(next); err != nil {
		return nil, err
	}
	if d.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if d.UpdatedAt, err = parseTime(update); err != nil {
		return nil, err
	}
	return &d, nil
}

func attemptsText(as []crm.DeliveryAttempt) string {
	if as == nil {
		as = []crm.DeliveryAttempt{}
	}
	b, _ := json.Marshal(as) // cannot fail: plain fields
	return string(b)
}

// Delivery returns a delivery.
func (db *DB) Delivery(ctx context.Context, id string) (*crm.Delivery, error) {
	row, err := db.queryRow(ctx, qDelivery, id)
	if err != nil {
		return nil, mapErr("get delivery", "delivery", err)
	}
	d, err := scanDelivery(row)
	return d, mapErr("get delivery", "delivery", err)
}

// Deliveries returns a subscription's deliveries, newest first.
func (db *DB) Deliveries(ctx context.Context, f crm.DeliveryFilter) ([]*crm.Delivery, error) {
	conds, args := []string{"subscription_id = ?"}, []any{f.SubscriptionID}
	if len(f.Statuses) > 0 {
		conds = append(conds, "status IN (?"+strings.Repeat(", ?", len(f.Statuses)-1)+")")
		for _, s := range f.Statuses {
			args = append(args, s)
		}
	}
	if !f.Since.IsZero() {
		conds, args = append(conds, "created_at >= ?"), append(args, fmtTime(f.Since))
	}
	if f.After != "" {
		conds, args = append(conds, "id < ?"), append(args, f.After)
	}
	n := f.Limit
	if n <= 0 {
		n = crm.DefaultPageSize
	}
	args = append(args, n)
	out, err := queryAll(ctx, db, "list deliveries", scanDelivery,
		`SELECT `+deliveryCols+` FROM webhook_deliveries`+whereSQL(conds)+` ORDER BY id DESC LIMIT ?`, args...)
	if out == nil && err == nil {
		out = []*crm.Delivery{}
	}
	return out, err
}

func (t *tx) InsertDelivery(ctx context.Context, d *crm.Delivery) (bool, error) {
	var (
		res sql.Result
		err error
	)
	args := []any{d.ID, d.SubscriptionID, d.EventID, d.EventType, d.Status, d.Run, attemptsText(d.Attempts),
		nullTimeText(d.NextAttemptAt), fmtTime(d.CreatedAt), fmtTime(d.UpdatedAt), d.SubscriptionID}
	if s := t.stmt(ctx, qDeliveryIns); s != nil {
		res, err = s.ExecContext(ctx, args...)
	} else {
		res, err = t.tx.ExecContext(ctx, qDeliveryIns, args...)
	}
	if err != nil {
		return false, mapErr("insert delivery", "", err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr("insert delivery", "", err)
}

func (t *tx) LockDelivery(ctx context.Context, id string) (*crm.Delivery, error) {
	d, err := scanDelivery(t.queryRow(ctx, qDelivery, id))
	return d, mapErr("lock delivery", "delivery", err)
}

func (t *tx) UpdateDelivery(ctx context.Context, d *crm.Delivery) error {
	return mapErr("update delivery", "delivery", t.execOne(ctx, qDeliveryUpd, d.Status, d.Run,
		attemptsText(d.Attempts), nullTimeText(d.NextAttemptAt), fmtTime(d.UpdatedAt), d.ID))
}
