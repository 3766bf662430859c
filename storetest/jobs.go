package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

// JobCounter is implemented by the stores under test: it counts the job
// engine's jobs of a kind, whatever their state.
type JobCounter interface {
	CountJobs(ctx context.Context, kind string) (int, error)
	// JobArgs returns the JSON arguments of the jobs of a kind, oldest first.
	JobArgs(ctx context.Context, kind string) ([][]byte, error)
}

// testJob is a job kind no worker handles: the stores insert it like any.
type testJob struct {
	Note string `json:"note"`
}

func (testJob) Kind() string { return "storetest_job" }

func (b *bundle) jobs(t *testing.T, kind string) int {
	t.Helper()
	c, ok := b.st.(JobCounter)
	if !ok {
		t.Fatalf("%T does not implement storetest.JobCounter", b.st)
	}
	n, err := c.CountJobs(context.Background(), kind)
	if err != nil {
		t.Fatalf("CountJobs(%s): %v", kind, err)
	}
	return n
}

// A job exists if and only if the transaction that enqueued it committed.
var jobTests = []test{
	{"EnqueueCommits", func(t *testing.T, b *bundle) {
		bg := context.Background()
		err := b.st.InTx(bg, func(tx crm.Tx) error { return tx.Enqueue(bg, testJob{Note: "alone"}) })
		if err != nil {
			t.Fatalf("Enqueue alone: %v", err)
		}
		// With the writes of a change, before and after them.
		err = b.st.InTx(bg, func(tx crm.Tx) error {
			e := &crm.Event{ID: crm.NewID(), Action: "test.before", CreatedAt: time.Now().UTC()}
			if err := tx.InsertEvent(bg, e); err != nil {
				return err
			}
			if err := tx.Enqueue(bg, testJob{Note: "a"}, testJob{Note: "b"}); err != nil {
				return err
			}
			e2 := &crm.Event{ID: crm.NewID(), Action: "test.after", CreatedAt: time.Now().UTC()}
			return tx.InsertEvent(bg, e2)
		})
		if err != nil {
			t.Fatalf("Enqueue with writes: %v", err)
		}
		if n := b.jobs(t, testJob{}.Kind()); n != 3 {
			t.Errorf("%d jobs after three committed enqueues, want 3", n)
		}
	}},
	{"FailureAfterEnqueueLeavesNoJob", func(t *testing.T, b *bundle) {
		bg := context.Background()
		// fn fails after the enqueue.
		boom := errors.New("boom")
		err := b.st.InTx(bg, func(tx crm.Tx) error {
			if err := tx.Enqueue(bg, testJob{Note: "fn fails"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		// A write after the enqueue fails in the database (a duplicate id):
		// on PostgreSQL it is only sent at commit, after River's insert.
		l := b.leadAt(t, crm.LeadNew)
		err = b.st.InTx(bg, func(tx crm.Tx) error {
			if err := tx.Enqueue(bg, testJob{Note: "write fails"}); err != nil {
				return err
			}
			dup := *l
			return tx.InsertLead(bg, &dup)
		})
		wantErr(t, err, crm.ECONFLICT, "")
		// A locked read, the enqueue, then a failing update.
		err = b.st.InTx(bg, func(tx crm.Tx) error {
			locked, err := tx.LockLead(bg, l.ID)
			if err != nil {
				return err
			}
			if err := tx.Enqueue(bg, testJob{Note: "update fails"}); err != nil {
				return err
			}
			locked.MessagesCount = -1
			return tx.UpdateLead(bg, locked)
		})
		wantErr(t, err, crm.EINVALID, "")
		if n := b.jobs(t, testJob{}.Kind()); n != 0 {
			t.Errorf("%d jobs after three failed transactions, want 0", n)
		}
		// The store still works and enqueues afterwards.
		if err := b.st.InTx(bg, func(tx crm.Tx) error { return tx.Enqueue(bg, testJob{}) }); err != nil {
			t.Fatalf("Enqueue after failures: %v", err)
		}
		if n := b.jobs(t, testJob{}.Kind()); n != 1 {
			t.Errorf("%d jobs, want 1", n)
		}
	}},
}
