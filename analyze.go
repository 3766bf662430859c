package crm

import (
	"context"
	"errors"
	"time"
)

// ---- AI ----

// Analyze asks the scorer for an opinion on the lead's four facts and stores
// it on the lead. No transaction is open during the call; the result is stored
// with the facts that were sent, so a change made meanwhile makes it stale
// rather than wrong. Every call, failed or not, is logged.
// Errors: ENOTFOUND, ECONFLICT (CodeLeadClosed), EBADGATEWAY, EUNAVAILABLE.
func (s *AnalysisService) Analyze(ctx context.Context, id string) (*LeadAnalysis, error) {
	l, err := s.leads.Lead(ctx, id)
	if err != nil {
		return nil, err
	}
	a, _ := ActorFrom(ctx)
	if err := l.Stage.CheckOpen(); err != nil {
		return nil, err
	}
	if s.scorer == nil {
		return nil, Unavailable(CodeAIUnavailable, "no AI provider is configured", 0, nil)
	}
	// Counted before the call: each call is paid for, whatever it answers.
	if err := s.limits.takeAIQuota(ctx, a.UserID); err != nil {
		return nil, err
	}
	release, err := s.acquireAI(ctx)
	if err != nil {
		return nil, err
	}
	facts := l.Facts()
	score, call, scoreErr := func() (Score, Call, error) {
		defer release() // by defer: a panicking scorer cannot keep the slot
		return s.scorer.Score(ctx, facts)
	}()

	now := s.timestamp()
	rec := &AnalysisRecord{ID: NewID(), LeadID: l.ID, ActorID: a.UserID, Facts: facts, Provider: call.Provider,
		Model: call.Model, PromptVersion: call.PromptVersion, RawOutput: call.RawOutput,
		InputTokens: call.InputTokens, OutputTokens: call.OutputTokens, LatencyMS: call.Latency.Milliseconds(),
		CostUSD: call.CostUSD, CreatedAt: now}
	if scoreErr != nil {
		var e *Error
		if !errors.As(scoreErr, &e) {
			e = &Error{Kind: EBADGATEWAY, Code: CodeAIBadAnswer, Message: "the AI provider failed", Cause: scoreErr}
		}
		rec.ErrorCode, rec.ErrorMessage = e.Code, e.Error()
		// The log row is best effort: the client needs the AI's error, not ours.
		// Detached from the request: a client that gave up still leaves a row.
		logCtx := context.WithoutCancel(ctx)
		_ = s.store.InTx(logCtx, func(tx Tx) error { return tx.InsertAnalysis(logCtx, rec) })
		return nil, e
	}
	sc := score.Score
	// The calibration is read before the transaction; a refit meanwhile
	// only means this result carries the previous fit. A failed read leaves
	// the calibrated score out rather than lose a paid-for answer: if the
	// database is down, storing the answer fails below and says so.
	calibrated, _ := s.calibrated(context.WithoutCancel(ctx), call, sc)
	rec.Score, rec.Recommendation, rec.Reason, rec.ReasonUK = &sc, score.Recommendation, score.Reason, score.ReasonUK
	rec.ScoreCalibrated, rec.Factors = calibrated, score.Factors
	result := &LeadAnalysis{Score: score.Score, Recommendation: score.Recommendation, Reason: score.Reason, ReasonUK: score.ReasonUK,
		AnalyzedAt: now, Provider: call.Provider, Model: call.Model, PromptVersion: call.PromptVersion, Facts: facts,
		AnalysisID: rec.ID, ScoreCalibrated: calibrated, Factors: score.Factors}
	var closedErr error
	// The answer is paid for: store it even if the client has gone meanwhile.
	storeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err = s.leads.changeLead(storeCtx, id, func(tx Tx, a Actor, l *Lead) (*Event, error) {
		if err := tx.InsertAnalysis(storeCtx, rec); err != nil {
			return nil, err
		}
		// Closed while the AI was thinking: log the call, keep the lead as it is.
		if closedErr = l.Stage.CheckOpen(); closedErr != nil {
			return nil, nil
		}
		l.AI = result
		e := s.event(a, ActionLeadAnalyzed, l)
		e.Data = map[string]any{"score": score.Score, "recommendation": string(score.Recommendation),
			"provider": call.Provider, "model": call.Model, "prompt_version": call.PromptVersion, "analysis_id": rec.ID}
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	if closedErr != nil {
		return nil, closedErr
	}
	return result, nil
}

// aiPoll is how often a call waiting for an AI slot asks again.
const aiPoll = 25 * time.Millisecond

// acquireAI takes one of the cap's slots, leased in the store so that the
// cap holds across replicas, waiting up to aiWait. release gives it back;
// should it fail (the database gone), the lease ends by itself.
func (s *AnalysisService) acquireAI(ctx context.Context) (release func(), err error) {
	holder := NewID()
	deadline := time.Now().Add(s.aiWait)
	for {
		now := s.timestamp()
		ok, err := s.store.TakeAISlot(ctx, holder, s.aiMax, now, now.Add(s.aiLease))
		if err != nil {
			return nil, err
		}
		if ok {
			return func() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				_ = s.store.ReleaseAISlot(rctx, holder)
			}, nil
		}
		wait := min(aiPoll, time.Until(deadline))
		if wait <= 0 {
			return nil, Unavailable(CodeAIUnavailable, "too many analyses are running; try again shortly", 2*time.Second, nil)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, Unavailable(CodeAIUnavailable, "the request ended while waiting for the AI", 0, ctx.Err())
		}
	}
}

// Analyses returns the analysis log of a lead, newest first. Errors: ENOTFOUND.
func (s *AnalysisService) Analyses(ctx context.Context, leadID string) ([]*AnalysisRecord, error) {
	l, err := s.leads.Lead(ctx, leadID)
	if err != nil {
		return nil, err
	}
	return s.store.Analyses(ctx, l.ID, MaxTrail)
}
