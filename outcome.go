package crm

import (
	"context"
	"time"
)

// Outcome is what happened to an analyzed lead, recorded against the
// analysis that was in force when it was decided: for a sale that ended, the
// analysis its transfer relied on; for a lead lost before any sale, its last
// analysis. A lead has at most one outcome (the schema keys outcomes by lead),
// so re-analyses before the decision never count twice.
type Outcome struct {
	LeadID        string
	AnalysisID    string // "" when the analysis predates the analysis ids on leads
	Provider      string
	Model         string
	PromptVersion string
	Score         float64 // the raw score the outcome judges
	Positive      bool    // a paid sale; false for a lost sale or a lost lead
	DecidedAt     time.Time
}

// recordOutcome records the outcome of l, decided now, in tx. A lead that was
// never analyzed has none.
func (b base) recordOutcome(ctx context.Context, tx Tx, l *Lead, positive bool) error {
	if l.AI == nil {
		return nil
	}
	return tx.InsertOutcome(ctx, &Outcome{LeadID: l.ID, AnalysisID: l.AI.AnalysisID, Provider: l.AI.Provider,
		Model: l.AI.Model, PromptVersion: l.AI.PromptVersion, Score: l.AI.Score, Positive: positive,
		DecidedAt: b.timestamp()})
}

// QualityReport is the report of GET /ai/quality: one group per provider,
// model and prompt version that has outcomes.
type QualityReport struct {
	Groups []QualityGroup
}

// Quality reports how well the scores predicted the outcomes decided in f's
// window. Errors: EFORBIDDEN for managers.
func (s *AnalysisService) Quality(ctx context.Context, f OutcomeFilter) (*QualityReport, error) {
	if _, err := requireSeesAll(ctx, "read the AI's quality report"); err != nil {
		return nil, err
	}
	points, err := s.store.OutcomeScores(ctx, f)
	if err != nil {
		return nil, err
	}
	keys, groups := splitGroups(points)
	r := &QualityReport{Groups: []QualityGroup{}}
	for _, k := range keys {
		r.Groups = append(r.Groups, Assess(k.provider, k.model, k.promptVersion, groups[k]))
	}
	return r, nil
}

// requireSeesAll returns the actor, or EFORBIDDEN unless a senior manager or
// an admin; what says what they were not allowed to do.
func requireSeesAll(ctx context.Context, what string) (Actor, error) {
	a, err := actor(ctx)
	if err != nil {
		return Actor{}, err
	}
	if !a.Role.SeesAll() {
		return Actor{}, Errorf(EFORBIDDEN, CodeForbidden, "only senior managers and admins %s", what)
	}
	return a, nil
}
