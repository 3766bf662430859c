package crm

import (
	"errors"
	"fmt"
	"time"
)

// Error kinds. Each maps to one HTTP status in the web package; anything that is
// not an *Error is internal.
const (
	EINVALID      = "invalid"      // 422: the input breaks a rule of its own
	ENOTFOUND     = "not_found"    // 404: unknown, or not visible to the actor
	ECONFLICT     = "conflict"     // 409: the input is fine but the current state forbids it
	EUNAUTHORIZED = "unauthorized" // 401
	EFORBIDDEN    = "forbidden"    // 403
	ETOOMANY      = "too_many"     // 429
	EBADGATEWAY   = "bad_gateway"  // 502: the AI answered badly
	EUNAVAILABLE  = "unavailable"  // 503: the AI or the database is unavailable
	EINTERNAL     = "internal"     // 500: a bug or an unexpected failure
)

// Machine-readable codes carried by errors (the problem's "code" member).
const (
	CodeValidation        = "validation_failed"
	CodeNotFound          = "not_found"
	CodeInvalidTransition = "invalid_transition"
	CodeTransferBlocked   = "transfer_blocked"
	CodeLeadClosed        = "lead_closed"
	CodeConflict          = "conflict"
	CodeUnauthorized      = "unauthorized"
	CodeForbidden         = "forbidden"
	CodeTooManyAttempts   = "too_many_attempts"
	CodeRateLimited       = "rate_limited"
	CodeQuotaExceeded     = "quota_exceeded"
	CodeAIBadAnswer       = "ai_bad_answer"
	CodeAIUnavailable     = "ai_unavailable"
	CodeAIRejected        = "ai_rejected"
	CodeDBUnavailable     = "database_unavailable"
	CodeLastAdmin         = "last_admin"
	CodeEmailTaken        = "email_taken"
)

// FieldError names one invalid field of an input.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a domain error: a kind (which decides the HTTP status), a
// machine-readable code and a message safe to show to the client. Cause is
// logged, never shown.
type Error struct {
	Kind       string
	Code       string
	Message    string
	Fields     []FieldError
	Blockers   []string
	Duplicates []DuplicateLead // for CodePossibleDuplicate
	RetryAfter time.Duration
	Cause      error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf returns an *Error of the given kind and code.
func Errorf(kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the kind of err, EINTERNAL when err is not an *Error.
func ErrorKind(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return EINTERNAL
}

// IsKind reports whether err is an *Error of the given kind.
func IsKind(err error, kind string) bool { return err != nil && ErrorKind(err) == kind }

// NotFound is the error for an unknown (or invisible) resource.
func NotFound(what string) *Error {
	return Errorf(ENOTFOUND, CodeNotFound, "%s not found", what)
}

// Invalid is a validation error listing the offending fields.
func Invalid(fields ...FieldError) *Error {
	msg := "the request is invalid"
	if len(fields) == 1 {
		msg = fields[0].Field + ": " + fields[0].Message
	}
	return &Error{Kind: EINVALID, Code: CodeValidation, Message: msg, Fields: fields}
}

// Unavailable wraps an outage of a dependency (database, AI provider).
func Unavailable(code, msg string, retryAfter time.Duration, cause error) *Error {
	return &Error{Kind: EUNAVAILABLE, Code: code, Message: msg, RetryAfter: retryAfter, Cause: cause}
}

// The errors a store returns for a failure of the database, one constructor
// each, so that every store gives the same kind, code and message for the
// same failure (the conformance suite checks all three). cause is the
// driver's error, kept for the logs.

// SaleExists is a second sale for one lead.
func SaleExists(cause error) *Error {
	return &Error{Kind: ECONFLICT, Code: CodeConflict, Message: "the lead already has a sale", Cause: cause}
}

// EmailTaken is a second user with one email.
func EmailTaken(cause error) *Error {
	return &Error{Kind: ECONFLICT, Code: CodeEmailTaken, Message: "a user with this email already exists", Cause: cause}
}

// Duplicate is any other unique violation: the record already exists.
func Duplicate(cause error) *Error {
	return &Error{Kind: ECONFLICT, Code: CodeConflict, Message: "the record already exists", Cause: cause}
}

// MissingReference is a foreign-key violation: the row names a record that
// does not exist.
func MissingReference(cause error) *Error {
	return &Error{Kind: EINVALID, Code: CodeValidation, Message: "a referenced record does not exist", Cause: cause}
}

// BrokenRule is any other integrity or data error (a CHECK, NOT NULL or type
// violation): input the domain should have refused, never a 500.
func BrokenRule(cause error) *Error {
	return &Error{Kind: EINVALID, Code: CodeValidation, Message: "the data breaks a rule of the database", Cause: cause}
}

// ConcurrentChange is the losing side of a race the database detected (a
// serialization failure or a deadlock).
func ConcurrentChange(cause error) *Error {
	return &Error{Kind: ECONFLICT, Code: CodeConflict, Message: "a concurrent change got in the way; try again", Cause: cause}
}

// DBUnavailable is a database that cannot be reached, or cannot take the
// work now (busy, full, read-only, shutting down).
func DBUnavailable(cause error) *Error {
	return Unavailable(CodeDBUnavailable, "the database is unavailable", time.Second, cause)
}

// DBNotMigrated is a database whose schema lacks some of the migrations this
// build embeds (the readiness check fails until they are applied).
func DBNotMigrated(cause error) *Error {
	return Unavailable(CodeDBUnavailable, "the database migrations are pending", time.Second, cause)
}

// ErrorCode returns the machine-readable code of err ("" for an error that is
// not a *Error).
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
