package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// ---- deal value ----

// CodeSaleClosed is the code of a change refused because the sale is paid or lost.
const CodeSaleClosed = "sale_closed"

// ActionSaleValue records a change of a deal's value.
const ActionSaleValue = "sale.value_set"

// dealValue checks a deal value against the currency list; an empty currency
// is keep (the sale's own, when it has one) or else the default of the
// settings. An empty v is no value (zero, "").
func (s *LeadService) dealValue(ctx context.Context, v DealValue, keep string) (Amount, string, error) {
	if v.Empty() {
		return 0, "", nil
	}
	if v.Amount == "" {
		return 0, "", Invalid(FieldError{Field: "amount", Message: "is required with a currency"})
	}
	currency := strings.ToUpper(strings.TrimSpace(v.Currency))
	if currency == "" {
		currency = keep
	}
	if currency == "" {
		var err error
		if currency, err = s.DefaultCurrency(ctx); err != nil {
			return 0, "", err
		}
	}
	if !ValidCurrency(currency) {
		return 0, "", Invalid(FieldError{Field: "currency", Message: "must be an ISO 4217 currency code such as UAH, EUR or USD"})
	}
	a, err := ParseAmount(v.Amount, currency)
	if err != nil {
		return 0, "", err
	}
	return a, currency, nil
}

// SetSaleValue sets the value of a sale the actor may see. The value of a
// paid or lost deal is what it closed at and stays.
// Errors: ENOTFOUND, EINVALID, ECONFLICT (CodeSaleClosed).
func (s *LeadService) SetSaleValue(ctx context.Context, id string, v DealValue) (*Sale, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if v.Amount == "" {
		return nil, Invalid(FieldError{Field: "amount", Message: "is required"})
	}
	id = NormalizeID(id)
	if !ValidID(id) {
		return nil, NotFound("sale")
	}
	cur, err := s.Sale(ctx, id)
	if err != nil {
		return nil, err
	}
	amount, currency, err := s.dealValue(ctx, v, cur.Currency)
	if err != nil {
		return nil, err
	}
	var out *Sale
	err = s.store.InTx(ctx, func(tx Tx) error {
		sale, err := tx.LockSale(ctx, id)
		if err != nil {
			return err
		}
		if !a.CanSeeOwner(sale.OwnerID) {
			return NotFound("sale")
		}
		out = sale
		if sale.Stage.Final() {
			return Errorf(ECONFLICT, CodeSaleClosed, "the sale is %s; its value is what it closed at", sale.Stage)
		}
		if sale.Amount == amount && sale.Currency == currency {
			return nil
		}
		e := s.event(a, ActionSaleValue, nil)
		e.LeadID, e.SaleID = sale.LeadID, sale.ID
		e.Data = map[string]any{"amount": amount.Format(currency), "currency": currency}
		if sale.HasValue() {
			e.Data["from"] = map[string]any{"amount": sale.Amount.Format(sale.Currency), "currency": sale.Currency}
		}
		sale.Amount, sale.Currency, sale.UpdatedAt = amount, currency, s.timestamp()
		if err := tx.UpdateSale(ctx, sale); err != nil {
			return err
		}
		return tx.InsertEvent(ctx, e)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ---- boards: counts, totals, forecast ----

// LeadCount is a store's count of leads at one stage, with or without an open task.
type LeadCount struct {
	Stage      LeadStage
	NoNextStep bool // open and without an open task
	Count      int
}

// SaleTotal is a store's count and sum of the sales at one stage in one
// currency ("" for the sales without a value, whose Sum is 0).
type SaleTotal struct {
	Stage    SaleStage
	Currency string
	Count    int
	Sum      Amount
}

// SaleScore is a store's sum of the open sales' values in one currency whose
// leads have one raw and calibrated score (Calibrated nil where the feedback
// loop had no calibration for the analysis).
type SaleScore struct {
	Currency   string
	Score      float64
	Calibrated *float64
	Count      int
	Sum        Amount
}

// StageSummary is one column of a board.
type StageSummary struct {
	Stage  string
	Count  int
	Totals []CurrencyTotal // sales only; by currency, sorted
}

// CurrencyTotal is a sum of money in one currency.
type CurrencyTotal struct {
	Currency string
	Amount   Amount
}

// LeadBoard is the counts of the leads board.
type LeadBoard struct {
	Stages     []StageSummary
	NoNextStep int
}

// LeadSummary counts the leads the actor may see per stage, and the open ones
// without a next step.
func (s *LeadService) LeadSummary(ctx context.Context) (LeadBoard, error) {
	owner, err := boardOwner(ctx)
	if err != nil {
		return LeadBoard{}, err
	}
	rows, err := s.store.LeadCounts(ctx, owner)
	if err != nil {
		return LeadBoard{}, err
	}
	var b LeadBoard
	for _, st := range LeadStages {
		c := StageSummary{Stage: string(st)}
		for _, r := range rows {
			if r.Stage == st {
				c.Count += r.Count
				if r.NoNextStep {
					b.NoNextStep += r.Count
				}
			}
		}
		b.Stages = append(b.Stages, c)
	}
	return b, nil
}

// Forecast is the expected value of the open deals in one currency: each
// deal's value weighted by the probability its lead's score stands for.
type Forecast struct {
	Currency   string
	Amount     Amount
	Open       Amount // the unweighted value of the same deals
	Deals      int
	Calibrated int // deals weighed by a calibrated probability; the others by the raw score
}

// Weighting says what the forecast was weighed by: "calibrated", "raw" or
// "mixed".
func (f Forecast) Weighting() string {
	switch f.Calibrated {
	case f.Deals:
		return "calibrated"
	case 0:
		return "raw"
	}
	return "mixed"
}

// SaleBoard is the sales board's columns and the forecast.
type SaleBoard struct {
	Stages   []StageSummary
	Forecast []Forecast // by currency, sorted
}

// SaleSummary counts and sums the sales the actor may see per stage and
// currency, and forecasts the open ones: each weighed by its lead's
// calibrated score where the feedback loop gave the analysis one, by the raw
// score otherwise (Forecast.Weighting says which). Money is summed as
// integers by the store and weighed in big integers: no float touches an amount.
func (s *LeadService) SaleSummary(ctx context.Context) (SaleBoard, error) {
	owner, err := boardOwner(ctx)
	if err != nil {
		return SaleBoard{}, err
	}
	totals, err := s.store.SaleTotals(ctx, owner)
	if err != nil {
		return SaleBoard{}, err
	}
	var b SaleBoard
	for _, st := range SaleStages {
		c := StageSummary{Stage: string(st), Totals: []CurrencyTotal{}}
		for _, t := range totals {
			if t.Stage != st {
				continue
			}
			c.Count += t.Count
			if t.Currency != "" {
				c.Totals = append(c.Totals, CurrencyTotal{Currency: t.Currency, Amount: t.Sum})
			}
		}
		slices.SortFunc(c.Totals, func(x, y CurrencyTotal) int { return strings.Compare(x.Currency, y.Currency) })
		b.Stages = append(b.Stages, c)
	}
	scores, err := s.store.SaleScores(ctx, owner)
	if err != nil {
		return SaleBoard{}, err
	}
	byCur := map[string]*Forecast{}
	for _, g := range scores {
		p, calibrated := g.Score, g.Calibrated != nil
		if calibrated {
			p = *g.Calibrated
		}
		f := byCur[g.Currency]
		if f == nil {
			f = &Forecast{Currency: g.Currency}
			byCur[g.Currency] = f
		}
		f.Amount += g.Sum.Weighted(ProbabilityTicks(p))
		f.Open += g.Sum
		f.Deals += g.Count
		if calibrated {
			f.Calibrated += g.Count
		}
	}
	for _, f := range byCur {
		b.Forecast = append(b.Forecast, *f)
	}
	slices.SortFunc(b.Forecast, func(x, y Forecast) int { return strings.Compare(x.Currency, y.Currency) })
	return b, nil
}

// boardOwner is the owner a summary is limited to: the actor for a manager,
// nobody (all) for senior managers and admins.
func boardOwner(ctx context.Context) (string, error) {
	a, err := actor(ctx)
	if err != nil {
		return "", err
	}
	if a.Role.SeesAll() {
		return "", nil
	}
	return a.UserID, nil
}

// ReasonCount is how many leads were lost for one reason ("" for none given).
type ReasonCount struct {
	Reason string
	Count  int
}

// LostReasons counts the lost leads the actor may see by reason, most first.
func (s *LeadService) LostReasons(ctx context.Context) ([]ReasonCount, error) {
	owner, err := boardOwner(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.LostReasons(ctx, owner)
}

// ---- settings of the pipeline ----

// Settings keys.
const (
	SettingDefaultCurrency = "default_currency"
	SettingLostReasons     = "lost_reasons"
)

// DefaultLostReasons are offered when losing a lead until an admin configures
// the list.
var DefaultLostReasons = []string{"No budget", "Chose a competitor", "No response", "Not a fit", "Timing"}

// DefaultCurrency returns the currency of a value given without one.
func (s *LeadService) DefaultCurrency(ctx context.Context) (string, error) {
	v, err := s.store.Setting(ctx, SettingDefaultCurrency)
	if IsKind(err, ENOTFOUND) {
		return DefaultCurrency, nil
	}
	return v, err
}

// LostReasonOptions returns the reasons the page offers when a lead is lost.
func (s *LeadService) LostReasonOptions(ctx context.Context) ([]string, error) {
	v, err := s.store.Setting(ctx, SettingLostReasons)
	if IsKind(err, ENOTFOUND) {
		return slices.Clone(DefaultLostReasons), nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return nil, fmt.Errorf("lost reasons: stored value is not a JSON list: %w", err)
	}
	return out, nil
}

// PipelineSettings is a partial edit of the pipeline's settings; nil fields
// stay as they are.
type PipelineSettings struct {
	DefaultCurrency *string
	LostReasons     []string // nil: unchanged
}

// SetPipelineSettings changes the default currency and the lost-reason list.
// Errors: EFORBIDDEN (not an admin), EINVALID.
func (s *LeadService) SetPipelineSettings(ctx context.Context, p PipelineSettings) error {
	a, err := requireAdmin(ctx)
	if err != nil {
		return err
	}
	changes := map[string]any{}
	puts := map[string]string{}
	if p.DefaultCurrency != nil {
		c := strings.ToUpper(strings.TrimSpace(*p.DefaultCurrency))
		if !ValidCurrency(c) {
			return Invalid(FieldError{Field: "default_currency", Message: "must be an ISO 4217 currency code such as UAH, EUR or USD"})
		}
		old, err := s.DefaultCurrency(ctx)
		if err != nil {
			return err
		}
		changes["default_currency"] = map[string]any{"from": old, "to": c}
		puts[SettingDefaultCurrency] = c
	}
	if p.LostReasons != nil {
		reasons := make([]string, 0, len(p.LostReasons))
		for _, r := range p.LostReasons {
			r = strings.TrimSpace(r)
			if !ValidText(r) {
				return Invalid(FieldError{Field: "lost_reasons", Message: "each reason " + MsgBadText})
			}
			if r == "" || utf8.RuneCountInString(r) > 100 || slices.Contains(reasons, r) {
				return Invalid(FieldError{Field: "lost_reasons", Message: "each reason must be 1 to 100 characters, listed once"})
			}
			reasons = append(reasons, r)
		}
		if len(reasons) > 30 {
			return Invalid(FieldError{Field: "lost_reasons", Message: "must list at most 30 reasons"})
		}
		old, err := s.LostReasonOptions(ctx)
		if err != nil {
			return err
		}
		v, _ := json.Marshal(reasons)
		changes["lost_reasons"] = map[string]any{"from": old, "to": reasons}
		puts[SettingLostReasons] = string(v)
	}
	if len(puts) == 0 {
		return nil
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		for k, v := range puts {
			if err := tx.PutSetting(ctx, k, v); err != nil {
				return err
			}
		}
		e := s.event(a, ActionSettingsUpdated, nil)
		e.Data = map[string]any{"changes": changes}
		return tx.InsertEvent(ctx, e)
	})
}
