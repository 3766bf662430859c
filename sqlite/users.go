package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crmleads/crm"
)

const userCols = `id, email, name, role, active, password_hash, token_version, created_at, updated_at`

const (
	qUser         = `SELECT ` + userCols + ` FROM users WHERE id = ?`
	qUserByEmail  = `SELECT ` + userCols + ` FROM users WHERE email = ?`
	qUsers        = `SELECT ` + userCols + ` FROM users ORDER BY email`
	qUserCount    = `SELECT count(*) FROM users`
	qUserIns      = `INSERT INTO users (` + userCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qUserUpd      = `UPDATE users SET name = ?, role = ?, active = ?, password_hash = ?, token_version = ?, updated_at = ? WHERE id = ?`
	qActiveAdmins = `SELECT count(*) FROM users WHERE role = 'admin' AND active = 1`

	qAttempts      = `SELECT id, client, at, failed FROM login_attempts WHERE email = ? AND at >= ? ORDER BY at, id`
	qClientTries   = `SELECT id, email, at, failed FROM login_attempts WHERE client = ? AND at >= ? ORDER BY at, id`
	qAttemptIns    = `INSERT INTO login_attempts (id, email, client, at) VALUES (?, ?, ?, ?)`
	qAttemptPrune  = `DELETE FROM login_attempts WHERE email = ? AND at < ?`
	qClientPrune   = `DELETE FROM login_attempts WHERE client = ? AND at < ?`
	qAttemptFail   = `UPDATE login_attempts SET failed = 1 WHERE id = ?`
	qAttemptDelete = `DELETE FROM login_attempts WHERE id IN (SELECT value FROM json_each(?))`
	qSettingIns    = `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`
	qSetting       = `SELECT value FROM settings WHERE key = ?`
	qSettingPut    = `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
)

// txQueries are the statements Tx runs, prepared ahead by prepareTx.
var txQueries = []string{qLead, qLeadIns, qLeadUpd, qSale, qSaleIns, qSaleUpd, qEventIns, qAnalysisIns,
	qUser, qUserIns, qUserUpd, qActiveAdmins, qAttempts, qClientTries, qAttemptIns, qAttemptPrune, qClientPrune, qOutcomeIns}

func scanUser(r scanner) (*crm.User, error) {
	var (
		u                crm.User
		active           int64
		created, updated string
	)
	if err := r.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &active, &u.PasswordHash, &u.TokenVersion, &created, &updated); err != nil {
		return nil, err
	}
	u.Active = active != 0
	var err error
	if u.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if u.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &u, nil
}

// User returns the user with the given id.
func (db *DB) User(ctx context.Context, id string) (*crm.User, error) {
	row, err := db.queryRow(ctx, qUser, id)
	if err != nil {
		return nil, mapErr("user", "user", err)
	}
	u, err := scanUser(row)
	return u, mapErr("user", "user", err)
}

// UserByEmail returns the user with the given (normalized) email.
func (db *DB) UserByEmail(ctx context.Context, email string) (*crm.User, error) {
	row, err := db.queryRow(ctx, qUserByEmail, email)
	if err != nil {
		return nil, mapErr("user by email", "user", err)
	}
	u, err := scanUser(row)
	return u, mapErr("user by email", "user", err)
}

// Users returns every user, by email.
func (db *DB) Users(ctx context.Context) ([]*crm.User, error) {
	return queryAll(ctx, db, "users", scanUser, qUsers)
}

// CountUsers returns the number of users.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	return db.count(ctx, "count users", qUserCount)
}

func (db *DB) count(ctx context.Context, op, query string, args ...any) (int, error) {
	row, err := db.queryRow(ctx, query, args...)
	if err != nil {
		return 0, mapErr(op, "", err)
	}
	var n int
	return n, mapErr(op, "", row.Scan(&n))
}

// LockUser reads a user inside the write transaction.
func (t *tx) LockUser(ctx context.Context, id string) (*crm.User, error) {
	u, err := scanUser(t.queryRow(ctx, qUser, id))
	return u, mapErr("lock user", "user", err)
}

// InsertUser adds a user; a taken email is ECONFLICT/CodeEmailTaken.
func (t *tx) InsertUser(ctx context.Context, u *crm.User) error {
	return mapErr("insert user", "", t.exec(ctx, qUserIns,
		u.ID, u.Email, u.Name, string(u.Role), boolInt(u.Active), u.PasswordHash, u.TokenVersion, fmtTime(u.CreatedAt), fmtTime(u.UpdatedAt)))
}

// UpdateUser writes the name, role, active flag, password hash, token
// version and updated_at of u.
func (t *tx) UpdateUser(ctx context.Context, u *crm.User) error {
	return mapErr("update user", "user", t.execOne(ctx, qUserUpd,
		u.Name, string(u.Role), boolInt(u.Active), u.PasswordHash, u.TokenVersion, fmtTime(u.UpdatedAt), u.ID))
}

// CountActiveAdmins counts active admins, as the transaction sees them.
func (t *tx) CountActiveAdmins(ctx context.Context) (int, error) {
	var n int
	err := t.queryRow(ctx, qActiveAdmins).Scan(&n)
	return n, mapErr("count active admins", "", err)
}

// LockLoginAttempts reads the email's attempts since the given time. The
// write transaction holds the database's one write lock (BEGIN IMMEDIATE), so
// it is already serialized against every other attempt.
func (t *tx) LockLoginAttempts(ctx context.Context, email string, since time.Time) ([]*crm.LoginAttempt, error) {
	return t.loginAttempts(ctx, qAttempts, email, since, func(a *crm.LoginAttempt, other string) {
		a.Email, a.Client = email, other
	})
}

// LockClientAttempts reads the client's attempts since the given time, under
// the same one write lock.
func (t *tx) LockClientAttempts(ctx context.Context, client string, since time.Time) ([]*crm.LoginAttempt, error) {
	return t.loginAttempts(ctx, qClientTries, client, since, func(a *crm.LoginAttempt, other string) {
		a.Email, a.Client = other, client
	})
}

func (t *tx) loginAttempts(ctx context.Context, query, key string, since time.Time, set func(a *crm.LoginAttempt, other string)) ([]*crm.LoginAttempt, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if s := t.stmt(ctx, query); s != nil {
		rows, err = s.QueryContext(ctx, key, fmtTime(since))
	} else {
		rows, err = t.tx.QueryContext(ctx, query, key, fmtTime(since))
	}
	if err != nil {
		return nil, mapErr("lock login attempts", "", err)
	}
	defer rows.Close()
	var out []*crm.LoginAttempt
	for rows.Next() {
		a := &crm.LoginAttempt{}
		var at, other string
		var failed int64
		if err := rows.Scan(&a.ID, &other, &at, &failed); err != nil {
			return nil, mapErr("lock login attempts", "", err)
		}
		if a.At, err = parseTime(at); err != nil {
			return nil, mapErr("lock login attempts", "", err)
		}
		set(a, other)
		a.Failed = failed != 0
		out = append(out, a)
	}
	return out, mapErr("lock login attempts", "", rows.Err())
}

// loginAttemptKeep is how long sign-in attempts are kept: longer than any
// lock-out window.
const loginAttemptKeep = 24 * time.Hour

// InsertLoginAttempt records an attempt and forgets that email's (and that
// client's) attempts older than a day, so the table stays small without a sweeper.
func (t *tx) InsertLoginAttempt(ctx context.Context, a *crm.LoginAttempt) error {
	if err := t.exec(ctx, qAttemptPrune, a.Email, fmtTime(a.At.Add(-loginAttemptKeep))); err != nil {
		return mapErr("prune login attempts", "", err)
	}
	if a.Client != "" {
		if err := t.exec(ctx, qClientPrune, a.Client, fmtTime(a.At.Add(-loginAttemptKeep))); err != nil {
			return mapErr("prune login attempts", "", err)
		}
	}
	return mapErr("insert login attempt", "", t.exec(ctx, qAttemptIns, a.ID, a.Email, a.Client, fmtTime(a.At)))
}

// FailLoginAttempt marks an attempt as failed.
func (db *DB) FailLoginAttempt(ctx context.Context, id string) error {
	return mapErr("fail login attempt", "", db.exec(ctx, qAttemptFail, id))
}

// DeleteLoginAttempts forgets the attempts with the given ids.
func (db *DB) DeleteLoginAttempts(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("sqlite: delete login attempts: %w", err)
	}
	return mapErr("delete login attempts", "", db.exec(ctx, qAttemptDelete, string(list)))
}

// EnsureSetting stores value under key unless the key exists and returns the
// stored value. Both statements run on the writer connection, so the read
// follows the insert of any concurrent caller in this process.
func (db *DB) EnsureSetting(ctx context.Context, key, value string) (string, error) {
	if err := db.exec(ctx, qSettingIns, key, value); err != nil {
		return "", mapErr("ensure setting", "", err)
	}
	s, err := db.stmt(ctx, true, qSetting)
	if err != nil {
		return "", mapErr("ensure setting", "setting", err)
	}
	var v string
	err = s.QueryRowContext(ctx, key).Scan(&v)
	return v, mapErr("ensure setting", "setting", err)
}

// Setting returns the value stored under key.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	s, err := db.stmt(ctx, false, qSetting)
	if err != nil {
		return "", mapErr("read setting", "setting", err)
	}
	var v string
	err = s.QueryRowContext(ctx, key).Scan(&v)
	return v, mapErr("read setting", "setting", err)
}

// PutSetting stores value under key, replacing any value.
func (t *tx) PutSetting(ctx context.Context, key, value string) error {
	return mapErr("put setting", "", t.exec(ctx, qSettingPut, key, value))
}
