// Package riverjobs is what both stores do alike with River: turn the domain's
// jobs into River's insert parameters, and River's job list into the domain's
// QueuedJob. Each store keeps only its own driver and error mapping.
package riverjobs

import (
	"github.com/riverqueue/river"

	"github.com/crmleads/crm"
)

// InsertParams are River's insert parameters of the jobs: a crm.ScheduledJob
// waits for its time.
func InsertParams(jobs []crm.JobArgs) []river.InsertManyParams {
	params := make([]river.InsertManyParams, len(jobs))
	for i, j := range jobs {
		params[i] = river.InsertManyParams{Args: j}
		if s, ok := j.(crm.ScheduledJob); ok {
			params[i].InsertOpts = &river.InsertOpts{ScheduledAt: s.RunAt()}
		}
	}
	return params
}

// ListParams selects every job of a kind, in any state, oldest first.
func ListParams(kind string) *river.JobListParams {
	return river.NewJobListParams().Kinds(kind).First(10000)
}

// Queued is the domain's view of a River job list.
func Queued(res *river.JobListResult) []crm.QueuedJob {
	out := make([]crm.QueuedJob, len(res.Jobs))
	for i, j := range res.Jobs {
		out[i] = crm.QueuedJob{Kind: j.Kind, Args: string(j.EncodedArgs), State: string(j.State), ScheduledAt: j.ScheduledAt}
	}
	return out
}
