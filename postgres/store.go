package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/pgsql"
)

// querier is what the pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ---- ids ----

// nullID maps "" to NULL for nullable uuid columns.
func nullID(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkIDs returns EINVALID unless every non-empty id is a canonical uuid: an
// id pgx cannot encode would otherwise fail in the driver as an internal error.
func checkIDs(field string, ids ...string) error {
	for _, id := range ids {
		if id != "" && !crm.ValidID(id) {
			return crm.Invalid(crm.FieldError{Field: field, Message: "must be an id"})
		}
	}
	return nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func limit(n int) int {
	if n <= 0 {
		return crm.DefaultPageSize
	}
	return n
}

// ---- leads ----

func (db *DB) Lead(ctx context.Context, id string) (*crm.Lead, error) {
	return getLead(ctx, db.q, id, "")
}

func getLead(ctx context.Context, q querier, id, suffix string) (*crm.Lead, error) {
	if !crm.ValidID(id) {
		return nil, crm.NotFound("lead")
	}
	l, err := pgsql.ScanLead(q.QueryRow(ctx, pgsql.LeadByID+suffix, id))
	if err != nil {
		return nil, classify("get lead", err, "lead")
	}
	return l, nil
}

func (db *DB) Leads(ctx context.Context, f crm.LeadFilter) ([]*crm.Lead, error) {
	sql, args, empty, err := leadsQuery(f)
	if err != nil {
		return nil, err
	}
	if empty {
		return []*crm.Lead{}, nil
	}
	rows, err := db.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, classify("list leads", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*crm.Lead, error) { return pgsql.ScanLead(r) })
	if err != nil {
		return nil, classify("list leads", err, "")
	}
	return out, nil
}

// leadsQuery is the statement of Leads for f (the EXPLAIN test reads its plan
// for every filter and sort); empty: no lead can match.
func leadsQuery(f crm.LeadFilter) (sql string, args []any, empty bool, err error) {
	if f.After != "" && !crm.ValidID(f.After) {
		return "", nil, false, crm.Invalid(crm.FieldError{Field: "cursor", Message: "is not a cursor this service gave out"})
	}
	if f.OwnerID != "" && !crm.ValidID(f.OwnerID) {
		return "", nil, true, nil // no lead has an owner with such an id
	}
	var w where
	if f.Stage != "" {
		w.add("stage = $", string(f.Stage))
	}
	if f.Source != "" {
		w.add("source = $", string(f.Source))
	}
	if f.OwnerID != "" {
		w.add("owner_id = $", f.OwnerID)
	}
	if f.Q != "" {
		n := w.arg("%" + likeEscape(f.Q) + "%")
		// The columns joined are what the trigram index (leads_search_idx)
		// answers; any lead with one column matching matches them joined.
		w.conds = append(w.conds, fmt.Sprintf(
			"(name || ' ' || email || ' ' || phone || ' ' || company || ' ' || note) ILIKE %[1]s"+
				" AND (name ILIKE %[1]s OR email ILIKE %[1]s OR phone ILIKE %[1]s OR company ILIKE %[1]s OR note ILIKE %[1]s)", n))
	}
	if f.NoNextStep {
		w.conds = append(w.conds, "open_tasks = 0 AND "+openStages)
	}
	order := w.keyset(leadSortExpr[f.Sort.Key], "id", f.Sort, f.After, f.AfterValue)
	sql = `SELECT ` + pgsql.LeadCols + ` FROM leads` + w.sql() + order + ` LIMIT ` + w.arg(limit(f.Limit))
	return sql, w.args, false, nil
}

// The Lock* reads take FOR NO KEY UPDATE, not FOR UPDATE: we never change a
// key, and the weaker lock does not conflict with the KEY SHARE locks that
// foreign-key checks take. Two changes of one row still exclude each other,
// but an admin editing user U no longer blocks an event row that merely
// names U as its actor — which let two admins editing each other deadlock.
func (t *tx) LockLead(ctx context.Context, id string) (*crm.Lead, error) {
	q, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	return getLead(ctx, q, id, " FOR NO KEY UPDATE")
}

func (t *tx) InsertLead(ctx context.Context, l *crm.Lead) error {
	if err := checkIDs("owner_id", l.ID, l.OwnerID); err != nil {
		return err
	}
	t.write("insert lead", "", pgsql.LeadInsert, pgsql.LeadArgs(l)...)
	return nil
}

func (t *tx) UpdateLead(ctx context.Context, l *crm.Lead) error {
	if !crm.ValidID(l.ID) {
		return crm.NotFound("lead")
	}
	if err := checkIDs("owner_id", l.OwnerID); err != nil {
		return err
	}
	t.write("update lead", "lead", pgsql.LeadUpdate, pgsql.LeadUpdateArgs(l)...)
	return nil
}

// likeEscape escapes the LIKE wildcards (and the escape character itself) so
// a search for "50%" finds the text "50%", not everything starting with 50.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// where builds a WHERE clause with numbered parameters.
type where struct {
	conds []string
	args  []any
}

// arg appends a parameter and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

// add appends a condition ending in "$" completed by the placeholder of v.
func (w *where) add(cond string, v any) { w.conds = append(w.conds, cond+w.arg(v)[1:]) }

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// ---- sales ----

// saleSelect reads a sale with its lead's owner, which is not stored on it.
const saleSelect = `SELECT s.id, s.lead_id, s.stage, s.transferred_by, l.owner_id, s.created_at, s.updated_at,
	s.amount, s.currency
	FROM sales s JOIN leads l ON l.id = s.lead_id`

func scanSale(row pgx.Row) (*crm.Sale, error) {
	var s crm.Sale
	var by, owner, currency *string
	var amount *int64
	if err := row.Scan(&s.ID, &s.LeadID, &s.Stage, &by, &owner, &s.CreatedAt, &s.UpdatedAt, &amount, &currency); err != nil {
		return nil, err
	}
	s.TransferredBy, s.OwnerID, s.Currency = str(by), str(owner), str(currency)
	if amount != nil {
		s.Amount = crm.Amount(*amount)
	}
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return &s, nil
}

func getSale(ctx context.Context, q querier, col, id, suffix string) (*crm.Sale, error) {
	if !crm.ValidID(id) {
		return nil, crm.NotFound("sale")
	}
	s, err := scanSale(q.QueryRow(ctx, saleSelect+` WHERE s.`+col+` = $1`+suffix, id))
	if err != nil {
		return nil, classify("get sale", err, "sale")
	}
	return s, nil
}

func (db *DB) Sale(ctx context.Context, id string) (*crm.Sale, error) {
	return getSale(ctx, db.q, "id", id, "")
}

func (db *DB) SaleByLead(ctx context.Context, leadID string) (*crm.Sale, error) {
	return getSale(ctx, db.q, "lead_id", leadID, "")
}

func (db *DB) Sales(ctx context.Context, f crm.SaleFilter) ([]*crm.Sale, error) {
	if f.After != "" && !crm.ValidID(f.After) {
		return nil, crm.Invalid(crm.FieldError{Field: "cursor", Message: "is not a cursor this service gave out"})
	}
	if f.OwnerID != "" && !crm.ValidID(f.OwnerID) {
		return []*crm.Sale{}, nil
	}
	var w where
	if f.Stage != "" {
		w.add("s.stage = $", string(f.Stage))
	}
	if f.OwnerID != "" {
		w.add("l.owner_id = $", f.OwnerID)
	}
	order := w.keyset(saleSortExpr[f.Sort.Key], "s.id", f.Sort, f.After, f.AfterValue)
	rows, err := db.q.Query(ctx, saleSelect+w.sql()+order+` LIMIT `+w.arg(limit(f.Limit)), w.args...)
	if err != nil {
		return nil, classify("list sales", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*crm.Sale, error) { return scanSale(r) })
	if err != nil {
		return nil, classify("list sales", err, "")
	}
	return out, nil
}

func (t *tx) LockSale(ctx context.Context, id string) (*crm.Sale, error) {
	// OF s: the sale is locked, its lead is only read.
	q, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	return getSale(ctx, q, "id", id, " FOR NO KEY UPDATE OF s")
}

func (t *tx) InsertSale(ctx context.Context, s *crm.Sale) error {
	if err := checkIDs("lead_id", s.ID, s.LeadID, s.TransferredBy); err != nil {
		return err
	}
	t.write("insert sale", "", `INSERT INTO sales (id, lead_id, stage, transferred_by, created_at, updated_at, amount, currency)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		s.ID, s.LeadID, string(s.Stage), nullID(s.TransferredBy), s.CreatedAt, s.UpdatedAt, saleAmount(s), nullID(s.Currency))
	return nil
}

func (t *tx) UpdateSale(ctx context.Context, s *crm.Sale) error {
	if !crm.ValidID(s.ID) {
		return crm.NotFound("sale")
	}
	t.write("update sale", "sale", `UPDATE sales SET stage = $2, updated_at = $3, amount = $4, currency = $5 WHERE id = $1`,
		s.ID, string(s.Stage), s.UpdatedAt, saleAmount(s), nullID(s.Currency))
	return nil
}

// ---- events ----

const eventCols = pgsql.EventCols

func scanEvent(row pgx.Row) (*crm.Event, error) {
	var e crm.Event
	var lead, sale, user, actor *string
	if err := row.Scan(&e.ID, &lead, &sale, &user, &e.Action, &e.From, &e.To, &actor, &e.RequestID,
		&e.Data, &e.CreatedAt); err != nil {
		return nil, err
	}
	e.LeadID, e.SaleID, e.UserID, e.ActorID = str(lead), str(sale), str(user), str(actor)
	e.CreatedAt = e.CreatedAt.UTC()
	return &e, nil
}

func (t *tx) InsertEvent(ctx context.Context, e *crm.Event) error {
	if err := checkIDs("id", e.ID, e.LeadID, e.SaleID, e.UserID, e.ActorID); err != nil {
		return err
	}
	t.write("insert event", "", pgsql.EventInsert, pgsql.EventArgs(e)...)
	return nil
}

func (db *DB) Events(ctx context.Context, f crm.EventFilter) ([]*crm.Event, error) {
	if f.After != "" && !crm.ValidID(f.After) {
		return nil, crm.Invalid(crm.FieldError{Field: "cursor", Message: "is not a cursor this service gave out"})
	}
	if (f.LeadID != "" && !crm.ValidID(f.LeadID)) || (f.ActorID != "" && !crm.ValidID(f.ActorID)) {
		return []*crm.Event{}, nil // nothing refers to such an id
	}
	var w where
	order := " ORDER BY id DESC"
	if f.LeadID != "" {
		// A lead's trail is read whole, oldest first.
		w.add("lead_id = $", f.LeadID)
		order = " ORDER BY id ASC"
	} else {
		if f.ActorID != "" {
			w.add("actor_id = $", f.ActorID)
		}
		if f.Action != "" {
			w.add("action = $", f.Action)
		}
		if !f.Since.IsZero() {
			w.add("created_at >= $", f.Since)
		}
		if !f.Until.IsZero() {
			w.add("created_at < $", f.Until)
		}
		if f.After != "" {
			w.add("id < $", f.After)
		}
	}
	rows, err := db.q.Query(ctx, `SELECT `+eventCols+` FROM events`+w.sql()+order+` LIMIT `+w.arg(limit(f.Limit)), w.args...)
	if err != nil {
		return nil, classify("list events", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*crm.Event, error) { return scanEvent(r) })
	if err != nil {
		return nil, classify("list events", err, "")
	}
	return out, nil
}

// ---- analyses ----

const analysisCols = `id, lead_id, actor_id, source, stage, messages_count, has_business_domain, provider, model,
	prompt_version, score, recommendation, reason, raw_output, error_code, error_message, input_tokens,
	output_tokens, latency_ms, cost_usd, created_at, score_calibrated, factors, batch_id, reason_uk`

func (t *tx) InsertAnalysis(ctx context.Context, a *crm.AnalysisRecord) error {
	if err := checkIDs("lead_id", a.ID, a.LeadID, a.ActorID, a.BatchID); err != nil {
		return err
	}
	t.write("insert analysis", "", `INSERT INTO analyses (`+analysisCols+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`,
		a.ID, a.LeadID, nullID(a.ActorID), string(a.Facts.Source), string(a.Facts.Stage), a.Facts.MessagesCount,
		a.Facts.HasBusinessDomain, a.Provider, a.Model, a.PromptVersion, a.Score, string(a.Recommendation),
		a.Reason, a.RawOutput, a.ErrorCode, a.ErrorMessage, a.InputTokens, a.OutputTokens, a.LatencyMS,
		a.CostUSD, a.CreatedAt, a.ScoreCalibrated, pgsql.FactorsJSON(a.Factors), nullID(a.BatchID), nullID(a.ReasonUK))
	return nil
}

func (db *DB) Analyses(ctx context.Context, leadID string, n int) ([]*crm.AnalysisRecord, error) {
	if !crm.ValidID(leadID) {
		return []*crm.AnalysisRecord{}, nil
	}
	rows, err := db.q.Query(ctx, `SELECT `+analysisCols+` FROM analyses WHERE lead_id = $1
		ORDER BY id DESC LIMIT $2`, leadID, limit(n))
	if err != nil {
		return nil, classify("list analyses", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*crm.AnalysisRecord, error) {
		var a crm.AnalysisRecord
		var actor, batch, uk *string
		if err := r.Scan(&a.ID, &a.LeadID, &actor, &a.Facts.Source, &a.Facts.Stage, &a.Facts.MessagesCount,
			&a.Facts.HasBusinessDomain, &a.Provider, &a.Model, &a.PromptVersion, &a.Score, &a.Recommendation,
			&a.Reason, &a.RawOutput, &a.ErrorCode, &a.ErrorMessage, &a.InputTokens, &a.OutputTokens,
			&a.LatencyMS, &a.CostUSD, &a.CreatedAt, &a.ScoreCalibrated, &a.Factors, &batch, &uk); err != nil {
			return nil, err
		}
		a.ActorID, a.BatchID, a.ReasonUK = str(actor), str(batch), str(uk)
		a.CreatedAt = a.CreatedAt.UTC()
		return &a, nil
	})
	if err != nil {
		return nil, classify("list analyses", err, "")
	}
	return out, nil
}

// ---- users ----

const userCols = `id, email, name, role, active, password_hash, token_version, created_at, updated_at`

func scanUser(row pgx.Row) (*crm.User, error) {
	var u crm.User
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Active, &u.PasswordHash, &u.TokenVersion, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

func getUser(ctx context.Context, q querier, id, suffix string) (*crm.User, error) {
	if !crm.ValidID(id) {
		return nil, crm.NotFound("user")
	}
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`+suffix, id))
	if err != nil {
		return nil, classify("get user", err, "user")
	}
	return u, nil
}

func (db *DB) User(ctx context.Context, id string) (*crm.User, error) {
	return getUser(ctx, db.q, id, "")
}

func (db *DB) UserByEmail(ctx context.Context, email string) (*crm.User, error) {
	u, err := scanUser(db.q.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE email = $1`, email))
	if err != nil {
		return nil, classify("get user by email", err, "user")
	}
	return u, nil
}

func (db *DB) Users(ctx context.Context) ([]*crm.User, error) {
	rows, err := db.q.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY email`)
	if err != nil {
		return nil, classify("list users", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*crm.User, error) { return scanUser(r) })
	if err != nil {
		return nil, classify("list users", err, "")
	}
	return out, nil
}

func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.q.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, classify("count users", err, "")
	}
	return n, nil
}

func (t *tx) LockUser(ctx context.Context, id string) (*crm.User, error) {
	q, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	return getUser(ctx, q, id, " FOR NO KEY UPDATE")
}

func (t *tx) InsertUser(ctx context.Context, u *crm.User) error {
	if err := checkIDs("id", u.ID); err != nil {
		return err
	}
	t.write("insert user", "", `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		u.ID, u.Email, u.Name, string(u.Role), u.Active, u.PasswordHash, u.TokenVersion, u.CreatedAt, u.UpdatedAt)
	return nil
}

func (t *tx) UpdateUser(ctx context.Context, u *crm.User) error {
	if !crm.ValidID(u.ID) {
		return crm.NotFound("user")
	}
	t.write("update user", "user", `UPDATE users SET name = $2, role = $3, active = $4, password_hash = $5,
		token_version = $6, updated_at = $7 WHERE id = $1`,
		u.ID, u.Name, string(u.Role), u.Active, u.PasswordHash, u.TokenVersion, u.UpdatedAt)
	return nil
}

// CountActiveAdmins first takes a transaction-scoped advisory lock, then
// counts in a second statement (so under READ COMMITTED the count sees every
// change committed by whoever held the lock before). Two admins demoting each
// other at once thus serialize: the second sees the first's change and gets
// CodeLastAdmin. Locking the admin rows instead would deadlock against the
// rows the callers already locked with LockUser.
func (t *tx) CountActiveAdmins(ctx context.Context) (int, error) {
	q, err := t.conn(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('crm.active_admins'))`); err != nil {
		return 0, classify("lock admins", err, "")
	}
	var n int
	err = q.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND active`).Scan(&n)
	if err != nil {
		return 0, classify("count admins", err, "")
	}
	return n, nil
}

// ---- sign-in throttling ----

// LockLoginAttempts takes a transaction-scoped advisory lock on the email,
// then reads its attempts in a second statement: under READ COMMITTED that
// read sees every attempt committed by whoever held the lock before, so a
// burst at one email is counted one attempt at a time, on every replica. (A
// lock on the attempt rows could not serialize the first attempts, which
// find no row to lock.)
func (t *tx) LockLoginAttempts(ctx context.Context, email string, since time.Time) ([]*crm.LoginAttempt, error) {
	return t.loginAttempts(ctx, "crm.login:", `SELECT id, client, at, failed FROM login_attempts
		WHERE email = $1 AND at >= $2 ORDER BY at, id`, email, since, func(a *crm.LoginAttempt, other string) {
		a.Email, a.Client = email, other
	})
}

// LockClientAttempts is LockLoginAttempts for a client address, under a lock
// of its own (taken after the email's).
func (t *tx) LockClientAttempts(ctx context.Context, client string, since time.Time) ([]*crm.LoginAttempt, error) {
	return t.loginAttempts(ctx, "crm.login-client:", `SELECT id, email, at, failed FROM login_attempts
		WHERE client = $1 AND at >= $2 ORDER BY at, id`, client, since, func(a *crm.LoginAttempt, other string) {
		a.Email, a.Client = other, client
	})
}

func (t *tx) loginAttempts(ctx context.Context, lock, query, key string, since time.Time, set func(a *crm.LoginAttempt, other string)) ([]*crm.LoginAttempt, error) {
	q, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1 || $2, 0))`, lock, key); err != nil {
		return nil, classify("lock login attempts", err, "")
	}
	rows, err := q.Query(ctx, query, key, since)
	if err != nil {
		return nil, classify("lock login attempts", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*crm.LoginAttempt, error) {
		a := &crm.LoginAttempt{}
		var other string
		if err := r.Scan(&a.ID, &other, &a.At, &a.Failed); err != nil {
			return nil, err
		}
		set(a, other)
		a.At = a.At.UTC()
		return a, nil
	})
	if err != nil {
		return nil, classify("lock login attempts", err, "")
	}
	return out, nil
}

// InsertLoginAttempt also prunes the email's (and the client's) attempts
// older than a day, in the same statement, so the table stays small without
// a sweeper.
func (t *tx) InsertLoginAttempt(ctx context.Context, a *crm.LoginAttempt) error {
	if err := checkIDs("id", a.ID); err != nil {
		return err
	}
	t.write("insert login attempt", "", `WITH old AS (
			DELETE FROM login_attempts WHERE (email = $2 OR ($3 <> '' AND client = $3)) AND at < $5
		)
		INSERT INTO login_attempts (id, email, client, at) VALUES ($1, $2, $3, $4)`,
		a.ID, a.Email, a.Client, a.At, a.At.Add(-24*time.Hour))
	return nil
}

func (db *DB) FailLoginAttempt(ctx context.Context, id string) error {
	if !crm.ValidID(id) {
		return nil // no attempt has such an id
	}
	_, err := db.q.Exec(ctx, `UPDATE login_attempts SET failed = true WHERE id = $1`, id)
	return classify("fail login attempt", err, "")
}

func (db *DB) DeleteLoginAttempts(ctx context.Context, ids []string) error {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if crm.ValidID(id) {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return nil
	}
	_, err := db.q.Exec(ctx, `DELETE FROM login_attempts WHERE id = ANY($1::uuid[])`, valid)
	return classify("delete login attempts", err, "")
}

// ---- settings ----

// EnsureSetting inserts then reads in two statements: the read gets a fresh
// snapshot, so it sees a value a concurrent caller committed while the insert
// waited on it (a single CTE statement would not).
func (db *DB) EnsureSetting(ctx context.Context, key, value string) (string, error) {
	if _, err := db.q.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
		key, value); err != nil {
		return "", classify("ensure setting", err, "")
	}
	var v string
	if err := db.q.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v); err != nil {
		return "", classify("ensure setting", err, "setting")
	}
	return v, nil
}

// Setting returns the value stored under key.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	if err := db.q.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v); err != nil {
		return "", classify("read setting", err, "setting")
	}
	return v, nil
}

// PutSetting stores value under key, replacing any value.
func (t *tx) PutSetting(ctx context.Context, key, value string) error {
	t.write("put setting", "", `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return nil
}
