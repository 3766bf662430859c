package crm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// ---- batch re-analysis through the provider's batch API (half the price) ----

// AIBatch statuses: queued until the requests are sent (or while the monthly
// budget holds batch work), running until the provider has answered them all
// and the answers are stored, then done; failed when the batch could not be
// sent or its results could not be read. A batch whose requests all came back
// is done even if some of them errored.
const (
	BatchQueued  = "queued"
	BatchRunning = "running"
	BatchDone    = "done"
	BatchFailed  = "failed"
)

// Batch item statuses: pending until its result is stored; then succeeded,
// or failed (the provider's errored, canceled and expired results, and
// answers that fail validation, as a single analysis would).
const (
	ItemPending   = "pending"
	ItemSucceeded = "succeeded"
	ItemFailed    = "failed"
)

// MaxBatchLeads bounds one batch (the provider takes up to 100,000 requests;
// ten thousand keeps one batch's results a few megabytes).
const MaxBatchLeads = 10000

// DefaultBatchPollInterval is how often a running batch is polled.
const DefaultBatchPollInterval = time.Minute

// BatchInput selects the leads of a batch: open leads only, newest first,
// up to Limit (MaxBatchLeads when 0).
type BatchInput struct {
	Stage   LeadStage
	Source  Source
	OwnerID string
	Limit   int
}

// AIBatch is a batch re-analysis: its selection, its progress and what
// became of it.
type AIBatch struct {
	ID         string
	Status     string
	Input      BatchInput
	CreatedBy  string
	ProviderID string // the provider's id of the batch, once sent
	Total      int    // requests in the batch (0 while queued)
	Done       int    // results stored as analyses
	Failed     int    // results that failed
	Error      string // why it failed
	CreatedAt  time.Time
	FinishedAt time.Time // zero until done or failed
}

// Finished reports whether the batch is done or failed.
func (b *AIBatch) Finished() bool { return b.Status == BatchDone || b.Status == BatchFailed }

// AIBatchItem is one request of a batch: the lead it is about and the facts
// sent, under a key of ours that says nothing about the lead.
type AIBatchItem struct {
	BatchID    string
	Key        string // the request's custom_id: random, never the lead's id
	LeadID     string
	Facts      Facts
	Status     string
	AnalysisID string // the log row of its result
}

// BatchRequest is one request of a batch as it leaves the system: an opaque
// key and the four facts.
type BatchRequest struct {
	Key   string
	Facts Facts
}

// BatchResult is the result of one request. Err is nil on success, else an
// *Error (a request the provider errored, canceled or let expire; an answer
// that fails validation); Call says what is known, tokens and cost (at the
// batch price) included.
type BatchResult struct {
	Key   string
	Score Score
	Call  Call
	Err   error
}

// BatchState is the provider's view of a sent batch.
type BatchState struct {
	Ended bool
	// Counts are the provider's request counts (zero until it ended, on
	// Anthropic's API).
	Succeeded, Errored, Processing int
}

// BatchScorer scores many leads at once through a provider's batch API.
type BatchScorer interface {
	// SubmitBatch sends the requests and returns the provider's batch id.
	// Errors: *Error, EUNAVAILABLE when it may work later.
	SubmitBatch(ctx context.Context, reqs []BatchRequest) (string, error)
	// BatchState asks how far the batch is.
	BatchState(ctx context.Context, providerID string) (BatchState, error)
	// BatchResults streams the results of an ended batch to each, in any
	// order; an error of each stops the stream and is returned. facts are
	// the facts sent under each key.
	BatchResults(ctx context.Context, providerID string, facts map[string]Facts, each func(BatchResult) error) error
}

// AIBatchJob advances one batch: it sends it, polls it until it ended and
// stores its results, snoozing between polls. It is enqueued in the
// transaction that creates the batch.
type AIBatchJob struct {
	BatchID string `json:"batch_id"`
}

// Kind implements JobArgs.
func (AIBatchJob) Kind() string { return "ai_batch" }

// BatchNext says what follows a run of an AIBatchJob: run again after After,
// or nothing (the batch is finished).
type BatchNext struct {
	Again bool
	After time.Duration
}

// newBatchKey returns a request key: 16 random bytes, hex, so nothing about
// the lead (its id, its position in the batch) reaches the provider.
func newBatchKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "r" + hex.EncodeToString(b)
}

// StartBatch records a batch re-analysis of the open leads input selects and
// enqueues its job; the leads are chosen when the job sends the batch.
// Errors: EFORBIDDEN for managers, EINVALID (a closed stage, a limit out of
// range), EUNAVAILABLE when no batch-capable AI provider is configured.
func (s *AnalysisService) StartBatch(ctx context.Context, in BatchInput) (*AIBatch, error) {
	a, err := requireSeesAll(ctx, "start batch re-analyses")
	if err != nil {
		return nil, err
	}
	in.OwnerID = NormalizeID(in.OwnerID)
	var problems []FieldError
	if in.Stage != "" && !in.Stage.Valid() {
		problems = append(problems, FieldError{Field: "stage", Message: "is not a lead stage"})
	} else if in.Stage.Final() {
		problems = append(problems, FieldError{Field: "stage", Message: "is closed: closed leads are never re-analyzed"})
	}
	if in.Source != "" && !in.Source.Valid() {
		problems = append(problems, FieldError{Field: "source", Message: "is not a lead source"})
	}
	if in.OwnerID != "" && !ValidID(in.OwnerID) {
		problems = append(problems, FieldError{Field: "owner_id", Message: "is not a user id"})
	}
	if in.Limit < 0 || in.Limit > MaxBatchLeads {
		problems = append(problems, FieldError{Field: "limit", Message: "must be from 1 to 10000"})
	}
	if len(problems) > 0 {
		return nil, Invalid(problems...)
	}
	if in.Limit == 0 {
		in.Limit = MaxBatchLeads
	}
	if s.batches == nil {
		return nil, Unavailable(CodeAIUnavailable, "no AI provider with a batch API is configured", 0, nil)
	}
	b := &AIBatch{ID: NewID(), Status: BatchQueued, Input: in, CreatedBy: a.UserID, CreatedAt: s.timestamp()}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertAIBatch(ctx, b); err != nil {
			return err
		}
		return tx.Enqueue(ctx, AIBatchJob{BatchID: b.ID})
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Batch returns a batch. Errors: EFORBIDDEN for managers, ENOTFOUND.
func (s *AnalysisService) Batch(ctx context.Context, id string) (*AIBatch, error) {
	if _, err := requireSeesAll(ctx, "read batch re-analyses"); err != nil {
		return nil, err
	}
	id = NormalizeID(id)
	if !ValidID(id) {
		return nil, NotFound("batch")
	}
	return s.store.AIBatch(ctx, id)
}

// Batches returns the latest batches, newest first. Errors: EFORBIDDEN for
// managers.
func (s *AnalysisService) Batches(ctx context.Context) ([]*AIBatch, error) {
	if _, err := requireSeesAll(ctx, "read batch re-analyses"); err != nil {
		return nil, err
	}
	return s.store.AIBatches(ctx, MaxPageSize)
}

// BatchPaused reports whether the monthly budget holds batch work now.
func (s *AnalysisService) BatchPaused(ctx context.Context) (bool, error) {
	_, reached, err := s.budgetState(ctx)
	return reached, err
}

// RunBatch runs an AIBatchJob: one step of its batch, and whether, and when,
// to run again. Each step is safe to repeat (the engine runs a job at least
// once):
//   - queued: while the monthly budget is reached, wait a poll interval.
//     Otherwise choose the leads (stored as items, once, before anything is
//     sent), send them, store the provider's id and become running. A
//     process that dies between the send and the store sends again: the
//     provider has no idempotency key, so one batch may then be paid twice
//     (a known gap, docs/AI.md).
//   - running: ask the provider; not ended yet, wait a poll interval. Ended,
//     stream the results: each pending item's result lands like a single
//     analysis, in one transaction with the item's status, so a rerun
//     skips what landed. Then done, and the starter is notified.
//
// It acts as the system. Errors: those of the store and transient ones of
// the provider (the engine retries the job).
func (s *AnalysisService) RunBatch(ctx context.Context, job AIBatchJob) (BatchNext, error) {
	b, err := s.store.AIBatch(ctx, NormalizeID(job.BatchID))
	if IsKind(err, ENOTFOUND) {
		return BatchNext{}, nil
	}
	if err != nil {
		return BatchNext{}, err
	}
	wait := BatchNext{Again: true, After: s.batchPoll}
	switch b.Status {
	case BatchQueued:
		if s.batches == nil {
			return BatchNext{}, s.failBatch(ctx, b, "no AI provider with a batch API is configured")
		}
		paused, err := s.BatchPaused(ctx)
		if err != nil {
			return BatchNext{}, err
		}
		if paused {
			return wait, nil
		}
		return s.sendBatch(ctx, b)
	case BatchRunning:
		st, err := s.batches.BatchState(ctx, b.ProviderID)
		if err != nil {
			if permanent(err) {
				return BatchNext{}, s.failBatch(ctx, b, err.Error())
			}
			return BatchNext{}, err
		}
		if !st.Ended {
			return wait, nil
		}
		return BatchNext{}, s.landBatch(ctx, b)
	}
	return BatchNext{}, nil
}

// permanent reports whether a provider's error will not go away by itself.
func permanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind != EUNAVAILABLE
}

func (s *AnalysisService) sendBatch(ctx context.Context, b *AIBatch) (BatchNext, error) {
	items, err := s.store.AIBatchItems(ctx, b.ID)
	if err != nil {
		return BatchNext{}, err
	}
	if len(items) == 0 {
		if items, err = s.chooseItems(ctx, b); err != nil {
			return BatchNext{}, err
		}
	}
	if len(items) == 0 {
		return BatchNext{}, s.finishBatch(ctx, b.ID, "")
	}
	reqs := make([]BatchRequest, len(items))
	for i, it := range items {
		reqs[i] = BatchRequest{Key: it.Key, Facts: it.Facts}
	}
	pid, err := s.batches.SubmitBatch(ctx, reqs)
	if err != nil {
		if permanent(err) {
			return BatchNext{}, s.failBatch(ctx, b, err.Error())
		}
		return BatchNext{}, err
	}
	err = s.store.InTx(context.WithoutCancel(ctx), func(tx Tx) error {
		cur, err := tx.LockAIBatch(ctx, b.ID)
		if err != nil {
			return err
		}
		cur.Status, cur.ProviderID, cur.Total = BatchRunning, pid, len(items)
		return tx.UpdateAIBatch(ctx, cur)
	})
	if err != nil {
		return BatchNext{}, err
	}
	return BatchNext{Again: true, After: s.batchPoll}, nil
}

// chooseItems selects the batch's open leads, newest first, and stores one
// item per lead with the facts to send.
func (s *AnalysisService) chooseItems(ctx context.Context, b *AIBatch) ([]*AIBatchItem, error) {
	var items []*AIBatchItem
	f := LeadFilter{Stage: b.Input.Stage, Source: b.Input.Source, OwnerID: b.Input.OwnerID}
	for len(items) < b.Input.Limit {
		f.Limit = MaxPageSize
		ls, err := s.store.Leads(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			if l.Stage.Final() || len(items) == b.Input.Limit {
				continue
			}
			items = append(items, &AIBatchItem{BatchID: b.ID, Key: newBatchKey(), LeadID: l.ID, Facts: l.Facts(),
				Status: ItemPending})
		}
		if len(ls) < f.Limit {
			break
		}
		f.After = ls[len(ls)-1].ID
	}
	if len(items) == 0 {
		return nil, nil
	}
	err := s.store.InTx(ctx, func(tx Tx) error { return tx.InsertAIBatchItems(ctx, items) })
	if err != nil {
		return nil, err
	}
	return items, nil
}

// landBatch stores the results of an ended batch and finishes it.
func (s *AnalysisService) landBatch(ctx context.Context, b *AIBatch) error {
	items, err := s.store.AIBatchItems(ctx, b.ID)
	if err != nil {
		return err
	}
	byKey := make(map[string]*AIBatchItem, len(items))
	facts := make(map[string]Facts, len(items))
	for _, it := range items {
		byKey[it.Key], facts[it.Key] = it, it.Facts
	}
	err = s.batches.BatchResults(ctx, b.ProviderID, facts, func(r BatchResult) error {
		it := byKey[r.Key]
		if it == nil || it.Status != ItemPending {
			return nil // not ours, or landed by an earlier run
		}
		return s.landResult(ctx, b, it, r)
	})
	if err != nil {
		if permanent(err) {
			return s.failBatch(ctx, b, err.Error())
		}
		return err
	}
	return s.finishBatch(ctx, b.ID, "")
}

// landResult stores one result as a single analysis would be stored: a log
// row (tokens and cost, at the batch price), and on success the lead's
// analysis, with the facts that were sent (a change since makes it stale)
// unless the lead closed meanwhile. The item's status and the batch's counts
// change in the same transaction.
func (s *AnalysisService) landResult(ctx context.Context, b *AIBatch, it *AIBatchItem, r BatchResult) error {
	now := s.timestamp()
	c := r.Call
	rec := &AnalysisRecord{ID: NewID(), LeadID: it.LeadID, ActorID: b.CreatedBy, Facts: it.Facts, Provider: c.Provider,
		Model: c.Model, PromptVersion: c.PromptVersion, RawOutput: c.RawOutput, InputTokens: c.InputTokens,
		OutputTokens: c.OutputTokens, LatencyMS: c.Latency.Milliseconds(), CostUSD: c.CostUSD, CreatedAt: now,
		BatchID: b.ID}
	var calibrated *float64
	if r.Err != nil {
		var e *Error
		if !errors.As(r.Err, &e) {
			e = &Error{Kind: EBADGATEWAY, Code: CodeAIBadAnswer, Message: "the AI provider failed", Cause: r.Err}
		}
		rec.ErrorCode, rec.ErrorMessage = e.Code, e.Error()
	} else {
		sc := r.Score.Score
		calibrated, _ = s.calibrated(ctx, c, sc)
		rec.Score, rec.Recommendation, rec.Reason, rec.ReasonUK = &sc, r.Score.Recommendation, r.Score.Reason, r.Score.ReasonUK
		rec.ScoreCalibrated, rec.Factors = calibrated, r.Score.Factors
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		l, err := tx.LockLead(ctx, it.LeadID)
		if err != nil {
			return err
		}
		cur, err := tx.LockAIBatch(ctx, b.ID)
		if err != nil {
			return err
		}
		item, err := tx.LockAIBatchItem(ctx, b.ID, it.Key)
		if err != nil {
			return err
		}
		if item.Status != ItemPending {
			return nil
		}
		if err := tx.InsertAnalysis(ctx, rec); err != nil {
			return err
		}
		item.AnalysisID = rec.ID
		if r.Err != nil {
			item.Status = ItemFailed
			cur.Failed++
		} else {
			item.Status = ItemSucceeded
			cur.Done++
		}
		it.Status = item.Status
		if err := tx.UpdateAIBatchItem(ctx, item); err != nil {
			return err
		}
		if err := tx.UpdateAIBatch(ctx, cur); err != nil {
			return err
		}
		// Failed, or closed while the batch ran: logged, the lead kept as it is.
		if r.Err != nil || l.Stage.CheckOpen() != nil {
			return nil
		}
		l.AI = &LeadAnalysis{Score: r.Score.Score, Recommendation: r.Score.Recommendation, Reason: r.Score.Reason, ReasonUK: r.Score.ReasonUK,
			AnalyzedAt: now, Provider: c.Provider, Model: c.Model, PromptVersion: c.PromptVersion, Facts: it.Facts,
			AnalysisID: rec.ID, ScoreCalibrated: calibrated, Factors: r.Score.Factors}
		l.UpdatedAt = now
		if err := tx.UpdateLead(ctx, l); err != nil {
			return err
		}
		e := &Event{ID: NewID(), Action: ActionLeadAnalyzed, ActorID: b.CreatedBy, LeadID: l.ID, CreatedAt: now}
		e.Data = map[string]any{"score": r.Score.Score, "recommendation": string(r.Score.Recommendation),
			"provider": c.Provider, "model": c.Model, "prompt_version": c.PromptVersion, "analysis_id": rec.ID,
			"batch_id": b.ID}
		return tx.InsertEvent(ctx, e)
	})
}

// finishBatch marks a batch done (failure "") or failed, once, and tells its
// starter in the same transaction.
func (s *AnalysisService) finishBatch(ctx context.Context, id, failure string) error {
	ctx = context.WithoutCancel(ctx)
	return s.store.InTx(ctx, func(tx Tx) error {
		b, err := tx.LockAIBatch(ctx, id)
		if err != nil {
			return err
		}
		if b.Finished() {
			return nil
		}
		b.Status, b.FinishedAt = BatchDone, s.timestamp()
		if failure != "" {
			b.Status, b.Error = BatchFailed, failure
		}
		if err := tx.UpdateAIBatch(ctx, b); err != nil {
			return err
		}
		if b.CreatedBy == "" {
			return nil
		}
		subject := batchSubject(b)
		return tx.InsertNotification(ctx, &Notification{ID: NewID(), UserID: b.CreatedBy, Kind: NotifyBatchFinished,
			Subject: subject, Text: notificationText(NotifyBatchFinished, subject), Created: b.FinishedAt})
	})
}

func (s *AnalysisService) failBatch(ctx context.Context, b *AIBatch, why string) error {
	return s.finishBatch(ctx, b.ID, why)
}

// batchSubject sums a finished batch up for its notification.
func batchSubject(b *AIBatch) string {
	if b.Status == BatchFailed {
		return "failed: " + b.Error
	}
	return strconv.Itoa(b.Done) + " of " + strconv.Itoa(b.Total) + " leads re-analyzed, " + strconv.Itoa(b.Failed) + " failed"
}
