package sqlite

import (
	"context"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/riverjobs"
)

// QueuedJobs lists River's jobs of a kind, in any state, oldest first (for
// tests and tools).
func (db *DB) QueuedJobs(ctx context.Context, kind string) ([]crm.QueuedJob, error) {
	res, err := db.jobs.JobList(ctx, riverjobs.ListParams(kind))
	if err != nil {
		return nil, mapErr("list jobs", "", err)
	}
	return riverjobs.Queued(res), nil
}
