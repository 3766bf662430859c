package crm

import (
	"slices"
	"time"
)

// SaleStage is a stage of a deal.
type SaleStage string

const (
	SaleNew       SaleStage = "new"
	SaleKYC       SaleStage = "kyc"
	SaleAgreement SaleStage = "agreement"
	SalePaid      SaleStage = "paid"
	SaleLost      SaleStage = "lost"
)

// SaleStages lists every sale stage in pipeline order.
var SaleStages = []SaleStage{SaleNew, SaleKYC, SaleAgreement, SalePaid, SaleLost}

var saleMoves = map[SaleStage][]SaleStage{
	SaleNew:       {SaleKYC, SaleLost},
	SaleKYC:       {SaleAgreement, SaleLost},
	SaleAgreement: {SalePaid, SaleLost},
}

// Valid reports whether s is a known stage.
func (s SaleStage) Valid() bool { return slices.Contains(SaleStages, s) }

// Final reports whether the deal is closed.
func (s SaleStage) Final() bool { return s == SalePaid || s == SaleLost }

// NextStages returns the stages a sale may move to from s.
func (s SaleStage) NextStages() []SaleStage { return slices.Clone(saleMoves[s]) }

// CheckMove returns nil when the sale may move from s to to, else a conflict.
func (s SaleStage) CheckMove(to SaleStage) error {
	if !slices.Contains(saleMoves[s], to) {
		return Errorf(ECONFLICT, CodeInvalidTransition, "a sale cannot move from %s to %s", s, to)
	}
	return nil
}

// Sale is the deal created when a lead is transferred to sales.
type Sale struct {
	ID            string
	LeadID        string
	Stage         SaleStage
	TransferredBy string // user id; "" for the system actor
	OwnerID       string // the lead's owner (read through the lead, not stored on the sale)
	// The deal's value; Currency is "" while no value is set (Amount is then 0).
	Amount    Amount
	Currency  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SaleFilter selects sales for a list, newest first.
type SaleFilter struct {
	Stage      SaleStage
	OwnerID    string
	Sort       Sort
	After      string // as in LeadFilter
	AfterValue any
	Limit      int
}

// HasValue reports whether the deal's value is set.
func (s *Sale) HasValue() bool { return s.Currency != "" }

// DealValue is a deal's value as a client gives it: a decimal string and an
// ISO 4217 code ("" for the default currency of the settings).
type DealValue struct {
	Amount   string
	Currency string
}

// Empty reports whether no value was given.
func (v DealValue) Empty() bool { return v.Amount == "" && v.Currency == "" }
