package ai

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/anthropics/anthropic-sdk-go"

	"github.com/crmleads/crm"
)

// NewBatcher returns the batch scorer of cfg: Claude's Message Batches API
// through the SDK (Messages.Batches: create, retrieve, results as JSONL),
// nil for the baseline, which has no batch API (it is free and instant
// anyway).
func NewBatcher(cfg Config) (crm.BatchScorer, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	c, ok := s.(*claude)
	if !ok {
		return nil, nil
	}
	return &batcher{c: c}, nil
}

// batcher scores through the Message Batches API: every request is the one
// a single analysis sends (same prompt, model and schema), under the key the
// domain chose as its custom_id, and each result is judged as a single answer
// is, priced at the batch price (BatchCost).
type batcher struct{ c *claude }

// customID is what the API accepts as a custom_id.
var customID = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// SubmitBatch creates the batch. Errors: as Score's.
func (b *batcher) SubmitBatch(ctx context.Context, reqs []crm.BatchRequest) (string, error) {
	params := anthropic.MessageBatchNewParams{Requests: make([]anthropic.MessageBatchNewParamsRequest, len(reqs))}
	for i, r := range reqs {
		if !customID.MatchString(r.Key) {
			return "", fmt.Errorf("ai: batch key %q is not a valid custom_id", r.Key)
		}
		user, err := json.Marshal(wireFacts(r.Facts))
		if err != nil {
			return "", fmt.Errorf("ai: encode facts: %w", err)
		}
		p := b.c.params(user)
		params.Requests[i] = anthropic.MessageBatchNewParamsRequest{CustomID: r.Key,
			Params: anthropic.MessageBatchNewParamsRequestParams{Model: p.Model, MaxTokens: p.MaxTokens,
				System: p.System, Messages: p.Messages, Thinking: p.Thinking, OutputConfig: p.OutputConfig}}
	}
	ctx, cancel := context.WithTimeout(ctx, b.c.callTimeout)
	defer cancel()
	res, err := b.c.client.Messages.Batches.New(ctx, params)
	if err != nil {
		return "", failure(err, &watch{}, &crm.Call{})
	}
	return res.ID, nil
}

// BatchState retrieves the batch. Errors: as Score's.
func (b *batcher) BatchState(ctx context.Context, id string) (crm.BatchState, error) {
	ctx, cancel := context.WithTimeout(ctx, b.c.callTimeout)
	defer cancel()
	res, err := b.c.client.Messages.Batches.Get(ctx, id, anthropic.MessageBatchGetParams{})
	if err != nil {
		return crm.BatchState{}, failure(err, &watch{}, &crm.Call{})
	}
	n := res.RequestCounts
	return crm.BatchState{Ended: res.ProcessingStatus == anthropic.MessageBatchProcessingStatusEnded,
		Succeeded: int(n.Succeeded), Errored: int(n.Errored), Processing: int(n.Processing)}, nil
}

// BatchResults streams the JSONL results. A succeeded result is judged as a
// single answer (a bad answer is an error, billed); errored, canceled and
// expired results are errors with nothing billed.
func (b *batcher) BatchResults(ctx context.Context, id string, facts map[string]crm.Facts, each func(crm.BatchResult) error) error {
	stream := b.c.client.Messages.Batches.ResultsStreaming(ctx, id, anthropic.MessageBatchResultsParams{})
	defer stream.Close()
	for stream.Next() {
		line := stream.Current()
		r := crm.BatchResult{Key: line.CustomID,
			Call: crm.Call{Provider: ProviderClaude, Model: b.c.model, PromptVersion: b.c.prompt.Version}}
		switch line.Result.Type {
		case "succeeded":
			msg := line.Result.AsSucceeded().Message
			r.Score, r.Err = b.c.judge(&msg, facts[line.CustomID], &r.Call, BatchCost)
		case "errored":
			e := line.Result.AsErrored().Error.Error
			r.Call.RawOutput = truncate(line.Result.RawJSON())
			r.Err = &crm.Error{Kind: crm.EBADGATEWAY, Code: crm.CodeAIRejected,
				Message: fmt.Sprintf("the AI provider errored the request (%s: %s)", e.Type, e.Message)}
		default: // canceled, expired
			r.Call.RawOutput = truncate(line.Result.RawJSON())
			r.Err = &crm.Error{Kind: crm.EBADGATEWAY, Code: crm.CodeAIRejected,
				Message: fmt.Sprintf("the AI provider did not process the request (%s)", line.Result.Type)}
		}
		if err := each(r); err != nil {
			return err
		}
	}
	if err := stream.Err(); err != nil {
		return failure(err, &watch{}, &crm.Call{})
	}
	return nil
}
