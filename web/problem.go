package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/request"
)

// Problem is an RFC 9457 problem document with the service's extensions: a
// machine-readable code, the invalid fields and the transfer blockers.
type Problem struct {
	Type     string           `json:"type" doc:"URI reference identifying the problem type"`
	Title    string           `json:"title"`
	Status   int              `json:"status"`
	Detail   string           `json:"detail"`
	Code     string           `json:"code" doc:"Machine-readable code, e.g. validation_failed, invalid_transition, transfer_blocked, lead_closed"`
	Errors   []crm.FieldError `json:"errors,omitempty" doc:"The invalid fields, for validation errors"`
	Blockers []string         `json:"blockers,omitempty" doc:"Every unmet transfer condition, for transfer_blocked"`
	// Duplicates are the open leads a new one looks like, for possible_duplicate.
	Duplicates []DuplicateJSON `json:"duplicates,omitempty" doc:"The open leads the new one looks like (only those the user may see), for possible_duplicate"`
	RequestID  string          `json:"request_id,omitempty"`

	retryAfter time.Duration
}

func (p *Problem) Error() string  { return p.Code + ": " + p.Detail }
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes huma send problems as application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" || ct == "" {
		return "application/problem+json"
	}
	return ct
}

// GetHeaders adds Retry-After where the wait is known.
func (p *Problem) GetHeaders() http.Header {
	if p.retryAfter <= 0 {
		return nil
	}
	secs := int((p.retryAfter + time.Second - 1) / time.Second)
	return http.Header{"Retry-After": {strconv.Itoa(secs)}}
}

func problemType(code string) string { return "urn:crmleads:problem:" + code }

// problemFrom turns any error into a Problem. Only *crm.Error messages reach
// the client; anything else is internal and is described generically, its
// cause going to the access log through the request's info.
func problemFrom(ctx context.Context, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var e *crm.Error
	if !errors.As(err, &e) {
		e = &crm.Error{Kind: crm.EINTERNAL, Code: "internal", Message: "something went wrong on our side; it has been logged", Cause: err}
	}
	status := request.Status(e)
	if status >= 500 && e.Cause != nil {
		request.NoteError(ctx, e.Cause)
	} else if status == 500 {
		request.NoteError(ctx, e)
	}
	return &Problem{Type: problemType(e.Code), Title: http.StatusText(status), Status: status, Detail: e.Message,
		Code: e.Code, Errors: e.Fields, Blockers: e.Blockers, Duplicates: duplicatesOut(e.Duplicates),
		RequestID: request.ID(ctx), retryAfter: e.RetryAfter}
}

// DuplicateJSON is an open lead a new one looks like.
type DuplicateJSON struct {
	ID      string `json:"id" format:"uuid"`
	Name    string `json:"name"`
	Company string `json:"company"`
	OwnerID string `json:"owner_id"`
	Owner   string `json:"owner" doc:"The owner's name"`
}

func duplicatesOut(ds []crm.DuplicateLead) []DuplicateJSON {
	if len(ds) == 0 {
		return nil
	}
	out := make([]DuplicateJSON, len(ds))
	for i, d := range ds {
		out[i] = DuplicateJSON{ID: d.ID, Name: d.Name, Company: d.Company, OwnerID: d.OwnerID, Owner: d.Owner}
	}
	return out
}

// fieldOf turns a huma error location ("body.messages_count", "query.limit")
// into the field name a client sent.
func fieldOf(loc string) string {
	for _, p := range []string{"body.", "query.", "path.", "header."} {
		if strings.HasPrefix(loc, p) {
			return loc[len(p):]
		}
	}
	return loc
}

// requiredField names the missing property of huma's "expected required
// property X to be present", which huma locates at the enclosing object
// ("body"), so that errors[].field is the field the client left out.
func requiredField(field, msg string) string {
	const pre, post = "expected required property ", " to be present"
	if !strings.HasPrefix(msg, pre) || !strings.HasSuffix(msg, post) {
		return field
	}
	name := msg[len(pre) : len(msg)-len(post)]
	if field == "body" || field == "" {
		return name
	}
	return field + "." + name
}

// humaError replaces huma's error constructor so that every error huma writes
// (validation, malformed JSON, too large, unknown content type) and every
// error a handler returns is one of our problems. Malformed JSON and a missing
// body are 422 here, like every other invalid body.
func humaError(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
	var ctx context.Context = context.Background()
	if hctx != nil {
		ctx = hctx.Context()
	}
	for _, err := range errs {
		var e *crm.Error
		var p *Problem
		if errors.As(err, &e) || errors.As(err, &p) {
			return problemFrom(ctx, err)
		}
	}
	if status >= 500 {
		return problemFrom(ctx, errors.Join(append([]error{errors.New(msg)}, errs...)...))
	}
	code := crm.CodeValidation
	switch status {
	case http.StatusBadRequest:
		status = http.StatusUnprocessableEntity
	case http.StatusRequestEntityTooLarge:
		code = "body_too_large"
		msg = "the request body is larger than 1 MiB"
	case http.StatusUnsupportedMediaType:
		code = "unsupported_media_type"
	case http.StatusNotAcceptable:
		code = "not_acceptable"
	case http.StatusNotFound:
		code = crm.CodeNotFound
	}
	var fields []crm.FieldError
	for _, err := range errs {
		if err == nil {
			continue
		}
		var d huma.ErrorDetailer
		if errors.As(err, &d) {
			det := d.ErrorDetail()
			fields = append(fields, crm.FieldError{Field: requiredField(fieldOf(det.Location), det.Message), Message: det.Message})
		} else if status != http.StatusRequestEntityTooLarge {
			fields = append(fields, crm.FieldError{Field: "body", Message: err.Error()})
		}
	}
	if len(fields) == 0 && status == http.StatusUnprocessableEntity {
		// e.g. "request body is required": huma gives no detail, but a
		// validation problem always names what is wrong.
		fields = append(fields, crm.FieldError{Field: "body", Message: msg})
	}
	if len(fields) == 1 {
		msg = fields[0].Field + ": " + fields[0].Message
	} else if msg == "validation failed" {
		msg = "the request is invalid"
	}
	return &Problem{Type: problemType(code), Title: http.StatusText(status), Status: status, Detail: msg, Code: code,
		Errors: fields, RequestID: request.ID(ctx)}
}

func init() {
	huma.NewErrorWithContext = humaError
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return humaError(nil, status, msg, errs...)
	}
}

// writeProblem writes a problem outside huma (middleware, fallbacks).
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFrom(r.Context(), err)
	for k, v := range p.GetHeaders() {
		w.Header()[k] = v
	}
	writeJSON(w, p.Status, "application/problem+json", p)
}
