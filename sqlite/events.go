package sqlite

import (
	"context"
	"database/sql"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/sqlitesql"
)

const eventCols = sqlitesql.EventCols

const qEventIns = sqlitesql.EventInsert

func scanEvent(r scanner) (*crm.Event, error) {
	var (
		e                       crm.Event
		lead, sale, user, actor sql.NullString
		data                    sql.NullString
		created                 string
	)
	if err := r.Scan(&e.ID, &lead, &sale, &user, &e.Action, &e.From, &e.To, &actor, &e.RequestID, &data, &created); err != nil {
		return nil, err
	}
	e.LeadID, e.SaleID, e.UserID, e.ActorID = lead.String, sale.String, user.String, actor.String
	var err error
	if e.Data, err = parseJSON(data); err != nil {
		return nil, err
	}
	if e.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &e, nil
}

// Events returns up to f.Limit events: a lead's trail oldest first when
// f.LeadID is set, otherwise newest first.
func (db *DB) Events(ctx context.Context, f crm.EventFilter) ([]*crm.Event, error) {
	var (
		query string
		args  []any
	)
	if f.LeadID != "" {
		query = `SELECT ` + eventCols + ` FROM events WHERE lead_id = ? ORDER BY id LIMIT ?`
		args = []any{f.LeadID, f.Limit}
	} else {
		var where []string
		if f.ActorID != "" {
			where, args = append(where, "actor_id = ?"), append(args, f.ActorID)
		}
		if f.Action != "" {
			where, args = append(where, "action = ?"), append(args, f.Action)
		}
		if !f.Since.IsZero() {
			where, args = append(where, "created_at >= ?"), append(args, fmtTime(f.Since))
		}
		if !f.Until.IsZero() {
			where, args = append(where, "created_at < ?"), append(args, fmtTime(f.Until))
		}
		if f.After != "" {
			where, args = append(where, "id < ?"), append(args, f.After)
		}
		query = `SELECT ` + eventCols + ` FROM events` + whereSQL(where) + ` ORDER BY id DESC LIMIT ?`
		args = append(args, f.Limit)
	}
	return queryAll(ctx, db, "events", scanEvent, query, args...)
}

// InsertEvent appends an event to the audit trail.
func (t *tx) InsertEvent(ctx context.Context, e *crm.Event) error {
	args, err := sqlitesql.EventArgs(e)
	if err != nil {
		return mapErr("insert event", "", err)
	}
	return mapErr("insert event", "", t.exec(ctx, qEventIns, args...))
}
