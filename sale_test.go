package crm

import (
	"errors"
	"testing"
)

func TestSaleStageCheckMove(t *testing.T) {
	legal := map[[2]SaleStage]bool{
		{SaleNew, SaleKYC}:        true,
		{SaleNew, SaleLost}:       true,
		{SaleKYC, SaleAgreement}:  true,
		{SaleKYC, SaleLost}:       true,
		{SaleAgreement, SalePaid}: true,
		{SaleAgreement, SaleLost}: true,
	}
	stages := []SaleStage{SaleNew, SaleKYC, SaleAgreement, SalePaid, SaleLost, "won", ""}
	for _, from := range stages {
		for _, to := range stages {
			err := from.CheckMove(to)
			if legal[[2]SaleStage{from, to}] {
				if err != nil {
					t.Errorf("%q → %q: %v, want allowed", from, to, err)
				}
				continue
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != ECONFLICT || e.Code != CodeInvalidTransition {
				t.Errorf("%q → %q: %v, want %s/%s", from, to, err, ECONFLICT, CodeInvalidTransition)
			}
		}
	}
	for _, tc := range []struct {
		s            SaleStage
		valid, final bool
	}{
		{SaleNew, true, false}, {SaleKYC, true, false}, {SaleAgreement, true, false},
		{SalePaid, true, true}, {SaleLost, true, true}, {"won", false, false}, {"KYC", false, false},
	} {
		if tc.s.Valid() != tc.valid || tc.s.Final() != tc.final {
			t.Errorf("%q: Valid %v Final %v, want %v %v", tc.s, tc.s.Valid(), tc.s.Final(), tc.valid, tc.final)
		}
	}
}
