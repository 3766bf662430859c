package ui_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/demo"
)

// TestBatchProgress starts a batch re-analysis from the page, lets the
// batch's job run (sent, polled, its results landed, one request errored),
// and watches the page's bar follow it without a reload: app.js polls the
// batch's progress; the page is the same document throughout.
func TestBatchProgress(t *testing.T) {
	ctx := browser(t, 3*time.Minute)
	b := setup(t)
	s := &steps{t: t, ctx: ctx, url: b.baseURL}
	for _, n := range []string{"Taras Hnatyuk", "Lesya Ukrainka"} {
		if _, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	b.fake.SetBatchOutcomes(func(i int) string {
		if i == 0 {
			return "errored"
		}
		return "succeeded"
	})
	s.signIn(b.admin.Email)
	s.open("/app/ai/batches")
	s.click("#batch-start")
	s.wantText(".batch-status", "Queued")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.sameDocument = true`)); err != nil {
		t.Fatal(err)
	}

	bs, err := b.svc.Analyses.Batches(as(b.admin))
	if err != nil || len(bs) != 1 {
		t.Fatalf("batches: %v, %v", bs, err)
	}
	for range 3 { // send, poll in progress, poll ended and land
		if _, err := b.svc.Analyses.RunBatch(context.Background(), crm.AIBatchJob{BatchID: bs[0].ID}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(s.text(".batch-text"), "1 of 2 done, 1 failed") {
		if time.Now().After(deadline) {
			t.Fatalf("the page still shows %q", s.text(".batch-text"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.wantText(".batch-status", "Done")
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.sameDocument === true`))
	if err != nil {
		t.Fatal(err)
	}
	value, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector(".batch progress").value`))
	if err != nil {
		t.Fatal(err)
	}
	if !same || value != 2 {
		t.Errorf("same document %v, bar at %v; want the bar at 2 without a reload", same, value)
	}
}

// TestQualityScreenshots shows the AI quality page on demo data (package
// demo: a known ground truth, the baseline miscalibrated on purpose, a
// calibration fitted), with a batch re-analysis run through the fake API,
// and saves the screenshots of the README (CRM_UPDATE_SCREENSHOTS=1 writes
// them to docs/screenshots). It checks that the figures and the chart are
// there, in both widths.
func TestQualityScreenshots(t *testing.T) {
	ctx := browser(t, 3*time.Minute)
	b := setup(t)
	s := &steps{t: t, ctx: ctx, url: b.baseURL}
	var loader crm.BulkLoader = b.db
	sum, err := demo.Generate(demo.Config{Leads: 4000, Seed: 11, Owners: []string{b.alice.ID}, Now: time.Now()},
		func(bl *crm.Bulk) error { return loader.BulkLoad(context.Background(), bl) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Analyses.Recalibrate(as(b.admin)); err != nil {
		t.Fatal(err)
	}
	bt, err := b.svc.Analyses.StartBatch(as(b.admin), crm.BatchInput{Stage: crm.LeadQualified, Limit: 40})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := b.svc.Analyses.RunBatch(context.Background(), crm.AIBatchJob{BatchID: bt.ID}); err != nil {
			t.Fatal(err)
		}
	}
	s.signIn(b.admin.Email)
	s.resize(1280, 1100, false)
	s.open("/app/ai")
	if !s.present(".quality-group svg.reliability-chart circle.point") || !s.present(".q-brier") {
		t.Fatal("the quality page shows no chart or figures on demo data")
	}
	if got := digits(s.text(".q-count")); got != strconv.Itoa(sum.Outcomes) {
		t.Errorf("the page counts %s outcomes, the demo made %d", got, sum.Outcomes)
	}
	s.shot("ai-quality")
	s.open("/app/ai/batches")
	s.wantText(".batch-status", "Done")
	s.shot("ai-batches")
	s.resize(390, 844, true)
	s.open("/app/ai")
	s.shot("ai-quality-phone")
}

// digits keeps the digits of s (the page groups thousands).
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
