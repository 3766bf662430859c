package ui

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/crmleads/crm"
)

// The AI quality page: for senior managers and admins, the figures of GET
// /ai/quality with a reliability diagram, and the costs of GET /ai/costs.

// chart geometry, in SVG user units: a square plot of chartSize with a margin
// for the axis labels.
const (
	chartSize   = 240
	chartMargin = 36
)

type chartPoint struct {
	X, Y   float64 // SVG coordinates
	R      float64 // radius, by the band's share of outcomes
	Label  string  // for the tooltip and screen readers
	Band   string
	Width  float64 // of the band's bar along the x axis
	BarX   float64
	BarTop float64 // where the observed rate's bar ends
	Height float64 // of that bar
}

type qualityGroupView struct {
	crm.QualityGroup
	ID      string // for element ids
	Points  []chartPoint
	Ticks   []chartTick
	View    float64 // the SVG's width and height
	X0, X1  float64 // the plot's left and right
	Y0, Y1  float64 // the plot's top and bottom
	AUCText string
}

// chartTick is a grid line at value t: horizontal at Y (labelled left) and
// a label under the x axis at X.
type chartTick struct {
	X, Y  float64
	Label string
}

type qualityData struct {
	Groups []qualityGroupView
	Costs  *crm.CostReport
	Per1K  string // the cost per 1,000 calls, to four decimals
}

func (a *App) qualityPage(w http.ResponseWriter, r *http.Request, v *view) {
	ctx := r.Context()
	rep, err := a.deps.Analyses.Quality(ctx, crm.OutcomeFilter{})
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	costs, err := a.deps.Analyses.Costs(ctx, crm.CostFilter{})
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	d := qualityData{Costs: costs, Per1K: strconv.FormatFloat(costs.CostPer1KUSD, 'f', 4, 64)}
	for _, g := range rep.Groups {
		d.Groups = append(d.Groups, groupView(v.L, g))
	}
	v.Title, v.Nav, v.Data = v.L.T("nav.quality"), "quality", d
	a.render(w, r, v, "quality", http.StatusOK)
}

// groupView lays out a group's reliability diagram: each non-empty band is a
// dot at (mean predicted, observed rate), sized by its share of outcomes,
// over a bar of the observed rate; the diagonal is perfect calibration.
func groupView(l *Locale, g crm.QualityGroup) qualityGroupView {
	const top = 12
	gv := qualityGroupView{QualityGroup: g, ID: idSafe(g.Provider + "-" + g.Model + "-" + g.PromptVersion),
		View: chartMargin + chartSize + top, X0: chartMargin, X1: chartMargin + chartSize, Y0: top, Y1: top + chartSize,
		AUCText: "—"}
	if g.AUC != nil {
		gv.AUCText = l.Num(*g.AUC)
	}
	x := func(p float64) float64 { return chartMargin + p*chartSize }
	y := func(p float64) float64 { return top + (1-p)*chartSize }
	for _, t := range []float64{0, 0.2, 0.4, 0.6, 0.8, 1} {
		gv.Ticks = append(gv.Ticks, chartTick{X: x(t), Y: y(t), Label: l.Num(t)})
	}
	for _, b := range g.Bands {
		if b.Count == 0 || b.MeanPredicted == nil || b.ObservedRate == nil {
			continue
		}
		share := float64(b.Count) / float64(max(g.Count, 1))
		gv.Points = append(gv.Points, chartPoint{
			X: x(*b.MeanPredicted), Y: y(*b.ObservedRate), R: 3 + 9*share,
			Label: l.T("quality.point", l.Num(*b.MeanPredicted), l.Num(*b.ObservedRate), l.Int(b.Count)),
			Band:  fmt.Sprintf("%s–%s", l.Num(b.From), l.Num(b.To)),
			BarX:  x(b.From) + 2, Width: (b.To-b.From)*chartSize - 4, BarTop: y(*b.ObservedRate),
			Height: y(0) - y(*b.ObservedRate),
		})
	}
	return gv
}

// idSafe keeps the letters, digits and dashes of s, for an element id.
func idSafe(s string) string {
	b := []byte(s)
	out := b[:0]
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
			out = append(out, c)
		default:
			out = append(out, '-')
		}
	}
	return string(out)
}
