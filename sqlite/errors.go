package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/crmleads/crm"
)

// mapErr turns a database error into the *crm.Error the Store contract
// promises. op names the operation (kept in Cause for the logs); what names
// the resource for a not-found error.
func mapErr(op, what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		if what == "" {
			what = "row"
		}
		return crm.NotFound(what)
	}
	var ce *crm.Error
	if errors.As(err, &ce) {
		return err
	}
	cause := fmt.Errorf("sqlite: %s: %w", op, err)
	// A cancelled request is not a database outage; leave it uncoded so the
	// caller sees the context error it caused.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return cause
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code()
		switch code & 0xff { // the primary result code
		case sqlite3.SQLITE_CONSTRAINT:
			switch code {
			case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
				// The message names the columns: "UNIQUE constraint failed: users.email".
				if strings.Contains(se.Error(), "users.email") {
					return crm.EmailTaken(cause)
				}
				if strings.Contains(se.Error(), "sales.lead_id") {
					return crm.SaleExists(cause)
				}
				return crm.Duplicate(cause)
			case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
				return crm.MissingReference(cause)
			default: // CHECK, NOT NULL, STRICT datatype: input the domain should have refused
				return crm.BrokenRule(cause)
			}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return crm.DBUnavailable(cause)
		}
		return cause
	}
	// database/sql's "database is closed" error is not exported.
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		strings.Contains(err.Error(), "sql: database is closed") {
		return crm.DBUnavailable(cause)
	}
	return cause
}
