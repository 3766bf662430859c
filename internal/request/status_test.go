package request

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/crmleads/crm"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{crm.Invalid(crm.FieldError{Field: "x", Message: "bad"}), http.StatusUnprocessableEntity},
		{crm.NotFound("lead"), http.StatusNotFound},
		{crm.Errorf(crm.ECONFLICT, crm.CodeLeadClosed, "closed"), http.StatusConflict},
		{fmt.Errorf("wrapped: %w", crm.Errorf(crm.EFORBIDDEN, crm.CodeForbidden, "no")), http.StatusForbidden},
		{crm.Errorf(crm.EUNAUTHORIZED, crm.CodeUnauthorized, "who"), http.StatusUnauthorized},
		{crm.Errorf(crm.ETOOMANY, crm.CodeTooManyAttempts, "slow down"), http.StatusTooManyRequests},
		{crm.Errorf(crm.EBADGATEWAY, crm.CodeAIBadAnswer, "bad"), http.StatusBadGateway},
		{crm.Errorf(crm.EUNAVAILABLE, crm.CodeAIUnavailable, "down"), http.StatusServiceUnavailable},
		{crm.Errorf("ESOMETHINGNEW", "x", "unknown kind"), http.StatusInternalServerError},
		{errors.New("plain"), http.StatusInternalServerError},
	} {
		if got := Status(tc.err); got != tc.want {
			t.Errorf("Status(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
