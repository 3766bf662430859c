package request

import (
	"errors"
	"net/http"

	"github.com/crmleads/crm"
)

// statusOf is the one table from a domain error kind to its HTTP status; the
// JSON API's problems and the pages' error pages both read it.
var statusOf = map[string]int{
	crm.EINVALID:      http.StatusUnprocessableEntity,
	crm.ENOTFOUND:     http.StatusNotFound,
	crm.ECONFLICT:     http.StatusConflict,
	crm.EUNAUTHORIZED: http.StatusUnauthorized,
	crm.EFORBIDDEN:    http.StatusForbidden,
	crm.ETOOMANY:      http.StatusTooManyRequests,
	crm.EBADGATEWAY:   http.StatusBadGateway,
	crm.EUNAVAILABLE:  http.StatusServiceUnavailable,
	crm.EINTERNAL:     http.StatusInternalServerError,
}

// Status returns the HTTP status of err: its kind's when it is a *crm.Error,
// 500 for anything else.
func Status(err error) int {
	var e *crm.Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError
	}
	if s := statusOf[e.Kind]; s != 0 {
		return s
	}
	return http.StatusInternalServerError
}
