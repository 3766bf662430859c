package web

import (
	"context"
	"time"

	"github.com/crmleads/crm"
)

// Batch re-analyses through the provider's batch API (senior managers and
// admins): start one, follow its progress.

// Batch is the JSON form of a batch re-analysis.
type Batch struct {
	ID         string     `json:"id" format:"uuid"`
	Status     string     `json:"status" enum:"queued,running,done,failed" doc:"queued until sent (and while the monthly budget holds batch work), running until every result is stored, then done (even if some requests errored); failed when it could not be sent or read"`
	Total      int        `json:"total" doc:"Requests in the batch: the open leads chosen when it was sent (0 while queued)"`
	Done       int        `json:"done" doc:"Requests that succeeded, stored as analyses"`
	Failed     int        `json:"failed" doc:"Requests that errored (or whose answer failed validation); their leads are untouched"`
	Error      string     `json:"error,omitempty" doc:"Why the batch failed"`
	Stage      string     `json:"stage,omitempty" doc:"The selection: leads at this stage only"`
	Source     string     `json:"source,omitempty" doc:"The selection: leads from this source only"`
	OwnerID    string     `json:"owner_id,omitempty" doc:"The selection: this user's leads only"`
	Limit      int        `json:"limit" doc:"The selection: at most this many leads, newest first"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at" nullable:"true" doc:"null until done or failed"`
}

func batchOut(b *crm.AIBatch) Batch {
	out := Batch{ID: b.ID, Status: b.Status, Total: b.Total, Done: b.Done, Failed: b.Failed, Error: b.Error,
		Stage: string(b.Input.Stage), Source: string(b.Input.Source), OwnerID: b.Input.OwnerID, Limit: b.Input.Limit,
		CreatedAt: b.CreatedAt}
	if !b.FinishedAt.IsZero() {
		out.FinishedAt = &b.FinishedAt
	}
	return out
}

type batchCreateInput struct {
	Body struct {
		Stage   string `json:"stage,omitempty" enum:"new,contacted,qualified" doc:"Open stages only: closed leads are never re-analyzed"`
		Source  string `json:"source,omitempty" enum:"scanner,partner,manual"`
		OwnerID string `json:"owner_id,omitempty" format:"uuid"`
		Limit   int    `json:"limit,omitempty" minimum:"1" maximum:"10000" doc:"At most this many leads, newest first (10000 when left out)"`
	}
}

type batchIDResponse struct {
	Body struct {
		ID string `json:"id" format:"uuid"`
	}
}

func handleBatchCreate(d Deps) func(context.Context, *batchCreateInput) (*batchIDResponse, error) {
	return func(ctx context.Context, in *batchCreateInput) (*batchIDResponse, error) {
		b, err := d.Analyses.StartBatch(ctx, crm.BatchInput{Stage: crm.LeadStage(in.Body.Stage),
			Source: crm.Source(in.Body.Source), OwnerID: in.Body.OwnerID, Limit: in.Body.Limit})
		if err != nil {
			return nil, err
		}
		out := &batchIDResponse{}
		out.Body.ID = b.ID
		return out, nil
	}
}

type batchIDInput struct {
	ID string `path:"id" maxLength:"100"`
}

type batchResponse struct {
	Body Batch
}

func handleBatchGet(d Deps) func(context.Context, *batchIDInput) (*batchResponse, error) {
	return func(ctx context.Context, in *batchIDInput) (*batchResponse, error) {
		b, err := d.Analyses.Batch(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &batchResponse{Body: batchOut(b)}, nil
	}
}

type batchListResponse struct {
	Body []Batch
}

func handleBatchList(d Deps) func(context.Context, *struct{}) (*batchListResponse, error) {
	return func(ctx context.Context, _ *struct{}) (*batchListResponse, error) {
		bs, err := d.Analyses.Batches(ctx)
		if err != nil {
			return nil, err
		}
		out := &batchListResponse{Body: make([]Batch, len(bs))}
		for i, b := range bs {
			out.Body[i] = batchOut(b)
		}
		return out, nil
	}
}
