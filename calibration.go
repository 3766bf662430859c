package crm

import (
	"context"
	"math"
	"time"
)

// ---- a calibrated score beside the raw one ----

// CalibrationPlatt names Platt scaling, the one calibration method we fit.
//
// Why Platt scaling and not isotonic regression: calibration is fitted from
// 120 outcomes up, and with a few hundred outcomes isotonic regression
// overfits (Niculescu-Mizil and Caruana, 2005, find Platt better below about
// a thousand), and it is a step function, so it would turn distinct raw
// scores into ties and change the ranking the AUC measures. Platt scaling
// has two parameters, is strictly increasing (a > 0), so it keeps the order of
// the raw scores, and is cheap to refit and to apply. Its assumption — that
// the miscalibration is a sigmoid in the logit of the score — is what an
// over- or under-confident model shows.
const CalibrationPlatt = "platt"

// Calibration maps the raw scores of one provider, model and prompt version
// to calibrated ones: calibrated = 1 / (1 + exp(-(A*logit(raw) + B))).
type Calibration struct {
	Provider      string
	Model         string
	PromptVersion string
	Method        string
	A, B          float64
	Outcomes      int // the outcomes it was fitted on
	FittedAt      time.Time
}

// calibrationEps keeps raw scores of exactly 0 or 1 off the infinite logit.
const calibrationEps = 1e-3

func logit(p float64) float64 {
	p = min(max(p, calibrationEps), 1-calibrationEps)
	return math.Log(p / (1 - p))
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// Apply returns the calibrated score of a raw one, rounded to four decimals.
func (c *Calibration) Apply(raw float64) float64 {
	return math.Round(sigmoid(c.A*logit(raw)+c.B)*1e4) / 1e4
}

// FitPlatt fits Platt scaling to the outcomes by Newton's method on the
// log-loss, with Platt's smoothed targets ((N₊+1)/(N₊+2) for a positive,
// 1/(N₋+2) for a negative) so that a perfectly separated sample does not
// drive A to infinity. It starts from the identity (A = 1, B = 0). ok is
// false when one class is missing.
func FitPlatt(points []ScoreCount) (a, b float64, ok bool) {
	var nPos, nNeg float64
	for _, p := range points {
		nPos += float64(p.Positives)
		nNeg += float64(p.N - p.Positives)
	}
	if nPos == 0 || nNeg == 0 {
		return 0, 0, false
	}
	tPos, tNeg := (nPos+1)/(nPos+2), 1/(nNeg+2)
	loss := func(a, b float64) float64 {
		var l float64
		for _, p := range points {
			z := a*logit(p.Score) + b
			// log(1+e^z) computed stably
			softplus := math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z)))
			pos, neg := float64(p.Positives), float64(p.N-p.Positives)
			l += pos*(softplus-tPos*z) + neg*(softplus-tNeg*z)
		}
		return l
	}
	a, b = 1, 0
	cur := loss(a, b)
	for range 100 {
		var ga, gb, haa, hab, hbb float64
		for _, p := range points {
			x := logit(p.Score)
			q := sigmoid(a*x + b)
			pos, neg := float64(p.Positives), float64(p.N-p.Positives)
			g := pos*(q-tPos) + neg*(q-tNeg)
			w := float64(p.N) * q * (1 - q)
			ga += g * x
			gb += g
			haa += w * x * x
			hab += w * x
			hbb += w
		}
		haa += 1e-12
		hbb += 1e-12
		det := haa*hbb - hab*hab
		if det <= 0 || math.Abs(ga)+math.Abs(gb) < 1e-10 {
			break
		}
		da := (hbb*ga - hab*gb) / det
		db := (haa*gb - hab*ga) / det
		step := 1.0
		for ; step > 1e-8; step /= 2 {
			na, nb := a-step*da, b-step*db
			if l := loss(na, nb); l <= cur {
				a, b, cur = na, nb, l
				break
			}
		}
		if step <= 1e-8 || math.Abs(da)+math.Abs(db) < 1e-9 {
			break
		}
	}
	return a, b, true
}

// Recalibrate fits a calibration for every provider, model and prompt version
// with at least MinTrustworthyOutcomes outcomes, on all of them, and stores
// it (the periodic refit job calls it). It returns the calibrations stored.
// Errors: EFORBIDDEN unless an admin (or the system).
func (s *AnalysisService) Recalibrate(ctx context.Context) ([]*Calibration, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	points, err := s.store.OutcomeScores(ctx, OutcomeFilter{})
	if err != nil {
		return nil, err
	}
	keys, groups := splitGroups(points)
	now := s.timestamp()
	var out []*Calibration
	for _, k := range keys {
		g := groups[k]
		n := 0
		for _, p := range g {
			n += p.N
		}
		if n < MinTrustworthyOutcomes {
			continue
		}
		a, b, ok := FitPlatt(g)
		if !ok || !(a > 0) || math.IsNaN(b) || math.IsInf(b, 0) {
			// A fit that would reverse the order of the scores (a ≤ 0) says
			// the scores do not rank at all; calibrating them would hide it.
			continue
		}
		out = append(out, &Calibration{Provider: k.provider, Model: k.model, PromptVersion: k.promptVersion,
			Method: CalibrationPlatt, A: a, B: b, Outcomes: n, FittedAt: now})
	}
	if len(out) == 0 {
		return out, nil
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		for _, c := range out {
			if err := tx.PutCalibration(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// calibrated returns the calibrated score of an answer, nil when no
// calibration is fitted for its provider, model and prompt version.
func (s *AnalysisService) calibrated(ctx context.Context, c Call, score float64) (*float64, error) {
	cal, err := s.store.Calibration(ctx, c.Provider, c.Model, c.PromptVersion)
	if IsKind(err, ENOTFOUND) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v := cal.Apply(score)
	return &v, nil
}
