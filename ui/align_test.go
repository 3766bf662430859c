package ui_test

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// box measures what sel finds: its bottom edge and its height, in CSS pixels.
const box = `((sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return [r.bottom, r.height]; })`

// TestBrowserFilterAlignment: in the filter bars a text field and the select
// beside it are one height and end on one line (a reviewer saw the text
// fields a few pixels above the selects), in the lead list and the audit.
func TestBrowserFilterAlignment(t *testing.T) {
	ctx := browser(t, 2*time.Minute)
	b := setup(t)
	s := &steps{t: t, ctx: ctx, url: b.baseURL}
	s.signIn(b.admin.Email)
	measure := func(sel string) []float64 {
		t.Helper()
		v, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]float64](box+"("+strconv.Quote(sel)+")"))
		if err != nil {
			t.Fatalf("measure %s: %v", sel, err)
		}
		return v
	}
	for _, tc := range []struct{ path, text, sel string }{
		{"/app/leads", "#q", "#f-stage"},
		{"/app/leads", "#q", "#f-owner"},
		{"/app/audit", "#f-since", "#f-action"},
	} {
		s.open(tc.path)
		text, sel := measure(tc.text), measure(tc.sel)
		if math.Abs(text[0]-sel[0]) > 1 || math.Abs(text[1]-sel[1]) > 1 {
			t.Errorf("%s: %s ends at %.1f px and is %.1f px high, %s at %.1f px and %.1f px high",
				tc.path, tc.text, text[0], text[1], tc.sel, sel[0], sel[1])
		}
	}
}
