package jobs

import (
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// TestOutcome: a failed run is told apart by the state River recorded, which
// the worker's error alone cannot say (retried or out of attempts).
func TestOutcome(t *testing.T) {
	for _, c := range []struct {
		kind  river.EventKind
		state rivertype.JobState
		want  string
	}{
		{river.EventKindJobCompleted, rivertype.JobStateCompleted, "completed"},
		{river.EventKindJobSnoozed, rivertype.JobStateScheduled, "snoozed"},
		{river.EventKindJobCancelled, rivertype.JobStateCancelled, "cancelled"},
		{river.EventKindJobFailed, rivertype.JobStateRetryable, "failed"},
		{river.EventKindJobFailed, rivertype.JobStateAvailable, "failed"},
		{river.EventKindJobFailed, rivertype.JobStateDiscarded, "discarded"},
		{river.EventKindJobFailed, rivertype.JobStateCancelled, "cancelled"},
	} {
		if got := outcome(&river.Event{Kind: c.kind, Job: &rivertype.JobRow{State: c.state}}); got != c.want {
			t.Errorf("outcome(%s, %s) = %s, want %s", c.kind, c.state, got, c.want)
		}
	}
}
