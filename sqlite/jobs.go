package sqlite

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/crmleads/crm"
)

// insertParams are River's insert parameters of the jobs: a crm.ScheduledJob
// waits for its time.
func insertParams(jobs []crm.JobArgs) []river.InsertManyParams {
	params := make([]river.InsertManyParams, len(jobs))
	for i, j := range jobs {
		params[i] = river.InsertManyParams{Args: j}
		if s, ok := j.(crm.ScheduledJob); ok {
			params[i].InsertOpts = &river.InsertOpts{ScheduledAt: s.RunAt()}
		}
	}
	return params
}

// QueuedJobs lists River's jobs of a kind, in any state, oldest first (for
// tests and tools).
func (db *DB) QueuedJobs(ctx context.Context, kind string) ([]crm.QueuedJob, error) {
	res, err := db.jobs.JobList(ctx, river.NewJobListParams().Kinds(kind).First(10000))
	if err != nil {
		return nil, mapErr("list jobs", "", err)
	}
	out := make([]crm.QueuedJob, len(res.Jobs))
	for i, j := range res.Jobs {
		out[i] = crm.QueuedJob{Kind: j.Kind, Args: string(j.EncodedArgs), State: string(j.State), ScheduledAt: j.ScheduledAt}
	}
	return out, nil
}
