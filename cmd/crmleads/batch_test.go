package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai"
	"github.com/crmleads/crm/ai/fakeclaude"
	"github.com/crmleads/crm/internal/testdb"
)

// TestBatchStatus: `crmleads batch status ID` prints a batch's progress
// from the database, on both stores; an unknown id is an error.
func TestBatchStatus(t *testing.T) {
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			fake := fakeclaude.New()
			t.Cleanup(fake.Close)
			env := map[string]string{"DATABASE_URL": testdb.URL(t, kind), "ANTHROPIC_API_KEY": "test-key",
				"ANTHROPIC_BASE_URL": fake.URL()}
			getenv := func(k string) string { return env[k] }
			if err := run(ctx, []string{"crmleads", "migrate", "up"}, getenv, nil, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			st, err := openStore(ctx, env["DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			batcher, err := ai.NewBatcher(ai.Config{APIKey: "test-key", BaseURL: fake.URL()})
			if err != nil {
				t.Fatal(err)
			}
			svc := crm.NewServices(crm.Config{Store: st, Batches: batcher})
			b, err := svc.Analyses.StartBatch(crm.WithActor(ctx, crm.System), crm.BatchInput{Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := run(ctx, []string{"crmleads", "batch", "status", b.ID}, getenv, nil, &out, io.Discard); err != nil {
				t.Fatalf("batch status: %v", err)
			}
			if got := out.String(); !strings.Contains(got, b.ID+" queued: 0 of 0 done, 0 failed (0%)") {
				t.Errorf("batch status printed %q", got)
			}
			err = run(ctx, []string{"crmleads", "batch", "status", crm.NewID()}, getenv, nil, io.Discard, io.Discard)
			if !crm.IsKind(err, crm.ENOTFOUND) {
				t.Errorf("unknown batch: %v, want not found", err)
			}
		})
	}
}

func TestBatchStatusLine(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	b := &crm.AIBatch{ID: "b1", Status: crm.BatchDone, Total: 4, Done: 3, Failed: 1, CreatedAt: at, FinishedAt: at.Add(time.Minute)}
	want := "batch b1 done: 3 of 4 done, 1 failed (100%); created 2026-12-01T09:00:00Z, finished 2026-12-01T09:01:00Z"
	if got := batchStatus(b); got != want {
		t.Errorf("batchStatus = %q, want %q", got, want)
	}
}
