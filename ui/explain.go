package ui

import (
	"errors"
	"strings"

	"github.com/crmleads/crm"
)

// explain says in the user's language what went wrong. The service's own
// messages are English; the codes and kinds are what we translate.
func (a *App) explain(l *Locale, err error) string {
	var e *crm.Error
	if !errors.As(err, &e) {
		return l.T("error.internal")
	}
	switch e.Code {
	case crm.CodeTransferBlocked:
		parts := make([]string, len(e.Blockers))
		for i, b := range e.Blockers {
			parts[i] = l.T("blocker." + b)
		}
		return l.T("error.transfer_blocked") + " " + strings.Join(parts, " ")
	case crm.CodeValidation:
		parts := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			parts[i] = l.TOr("field."+f.Field, f.Field) + ": " + fieldMessage(l, f)
		}
		return l.T("error.validation") + " " + strings.Join(parts, "; ")
	}
	if key := "code." + e.Code; l.Has(key) {
		return l.T(key)
	}
	if key := "kind." + e.Kind; l.Has(key) {
		return l.T(key)
	}
	return l.T("error.internal")
}

// fieldMessages maps the service's field messages to catalog keys. A message
// not listed here is shown as the service wrote it.
var fieldMessages = map[string]string{
	"must be one of scanner, partner, manual":                   "fe.source",
	"must be between 0 and 1000000":                             "fe.messages_count",
	"must be at most 200 characters":                            "fe.max200",
	"must be at most 5000 characters":                           "fe.max5000",
	"must be an email address like name@example.com":            "fe.email",
	"must be 10 to 200 characters":                              "fe.password",
	"must be at most 72 bytes":                                  "fe.password_bytes",
	"must be one of manager, senior_manager, admin":             "fe.role",
	"must be the id of an active user":                          "fe.owner",
	"must be a decimal string ≥ 0 such as \"1250.00\"":          "fe.amount",
	"must be an ISO 4217 currency code such as UAH, EUR or USD": "fe.currency",
	"must be 1 to 100 characters":                               "fe.len100",
}

// fieldMessage translates one field error.
func fieldMessage(l *Locale, f crm.FieldError) string {
	if key, ok := fieldMessages[f.Message]; ok {
		return l.T(key)
	}
	if msg, ok := domainsMessage(l, f); ok {
		return msg
	}
	if msg, ok := webhookMessage(l, f); ok {
		return msg
	}
	if f.Field == "amount" && strings.HasPrefix(f.Message, "is required") {
		return l.T("fe.amount")
	}
	if f.Field == "business_domain" && strings.HasPrefix(f.Message, "must be one of") {
		return l.T("fe.business_domain")
	}
	if strings.HasPrefix(f.Message, "ui:") { // our own, already a catalog key
		return l.T(strings.TrimPrefix(f.Message, "ui:"))
	}
	return f.Message
}

// fieldErrors returns the invalid fields of err translated, keyed by field
// name, and whether err was a validation error at all.
func fieldErrors(l *Locale, err error) (map[string]string, bool) {
	var e *crm.Error
	if !errors.As(err, &e) || e.Kind != crm.EINVALID || len(e.Fields) == 0 {
		return nil, false
	}
	m := map[string]string{}
	for _, f := range e.Fields {
		if m[f.Field] == "" {
			m[f.Field] = fieldMessage(l, f)
		}
	}
	return m, true
}
