package jobs_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/jobs"
)

// recorder is a jobs.Observer that keeps what it is told.
type recorder struct {
	mu         sync.Mutex
	jobs       []string // kind/outcome
	deliveries []string // event/result
}

func (r *recorder) JobEnded(kind, outcome string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = append(r.jobs, kind+"/"+outcome)
}

func (r *recorder) WebhookDelivered(event, result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries = append(r.deliveries, event+"/"+result)
}

func (r *recorder) seen() ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.jobs), slices.Clone(r.deliveries)
}

// brokenHooks fail every delivery with the service's own error (the
// database, say), which River retries.
type brokenHooks struct{}

func (brokenHooks) FanOut(context.Context, crm.WebhookFanOutJob) error { return nil }
func (brokenHooks) Deliver(context.Context, crm.WebhookDeliverJob) (crm.DeliveryNext, error) {
	return crm.DeliveryNext{}, errors.New("the database is down")
}

// TestObserverFailedJob: a real job whose worker fails is observed as
// failed (River retries it: its state is retryable), and no delivery result
// is counted for an attempt that was never made.
func TestObserverFailedJob(t *testing.T) {
	onEachStore(t, func(t *testing.T, ctx context.Context, st store, newEngine engineFor) {
		rec := &recorder{}
		e, err := newEngine(jobs.Config{Webhooks: brokenHooks{}, Observer: rec, PollInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Stop(context.Background()) })
		if err := st.InTx(ctx, func(tx crm.Tx) error {
			return tx.Enqueue(ctx, crm.WebhookDeliverJob{DeliveryID: crm.NewID(), Run: 1})
		}); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			got, _ := rec.seen()
			if slices.Contains(got, "webhook_deliver/failed") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 30 s the observer saw %q, want webhook_deliver/failed", got)
			}
		}
		if _, d := rec.seen(); len(d) != 0 {
			t.Errorf("delivery results counted for no attempt: %q", d)
		}
	})
}
