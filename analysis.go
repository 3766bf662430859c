package crm

import (
	"context"
	"slices"
	"time"
)

// Recommendation is the AI's advice on a lead.
type Recommendation string

const (
	RecommendTransfer Recommendation = "transfer_to_sales"
	RecommendNurture  Recommendation = "continue_nurturing"
	RecommendLost     Recommendation = "mark_as_lost"
)

// Recommendations lists every recommendation.
var Recommendations = []Recommendation{RecommendTransfer, RecommendNurture, RecommendLost}

// Valid reports whether r is a known recommendation.
func (r Recommendation) Valid() bool { return slices.Contains(Recommendations, r) }

// Facts are the only four facts about a lead that ever leave the system: no id,
// names, contacts, dates or earlier scores, and whether a business domain is set
// but never which one.
type Facts struct {
	Source            Source    `json:"source"`
	Stage             LeadStage `json:"stage"`
	MessagesCount     int       `json:"messages_count"`
	HasBusinessDomain bool      `json:"has_business_domain"`
}

// Score is a validated answer of a Scorer, with the factors behind it.
type Score struct {
	Score          float64
	Recommendation Recommendation
	Reason         string // in English, as the original contract has it
	// ReasonUK is the same reason in Ukrainian, for the app's other
	// language; "" from a scorer (or a prompt version) that gives none.
	ReasonUK string
	Factors  []Factor
}

// Factor directions.
const (
	FactorUp   = "up"
	FactorDown = "down"
)

// Factor says how much one of the four facts, as it is, moves a score: up or
// down, by Weight (≥ 0, on the score's 0..1 scale). docs/AI.md says how the
// ai package computes them and what they do not mean.
type Factor struct {
	Fact      string  `json:"fact"`
	Direction string  `json:"direction"`
	Weight    float64 `json:"weight"`
}

// MaxReasonLength bounds the AI's reason, in characters.
const MaxReasonLength = 1000

// Call describes one call to a scorer, successful or not, for the analysis log.
type Call struct {
	Provider      string
	Model         string
	PromptVersion string
	RawOutput     string
	InputTokens   int
	OutputTokens  int
	Latency       time.Duration
	CostUSD       float64
}

// Scorer gives an independent opinion on a lead from its four facts. It
// returns the validated score and what the call cost; on failure the error is
// an *Error (EBADGATEWAY for a bad answer, EUNAVAILABLE for an outage) and Call
// still says as much as is known.
type Scorer interface {
	Score(ctx context.Context, f Facts) (Score, Call, error)
}

// LeadAnalysis is the latest analysis stored on a lead, with the facts it was
// computed from (compared with the lead as it is now by the analysis_stale rule).
type LeadAnalysis struct {
	Score          float64
	Recommendation Recommendation
	Reason         string
	ReasonUK       string // "" for analyses made before it was asked for
	AnalyzedAt     time.Time
	Provider       string
	Model          string
	PromptVersion  string
	Facts          Facts
	// AnalysisID is the analysis-log row of this result ("" for results
	// stored before the log ids were kept on leads).
	AnalysisID string
	// ScoreCalibrated is Score under the calibration in force when it was
	// computed; nil when none was fitted for its prompt version yet.
	ScoreCalibrated *float64
	Factors         []Factor
}

// GateScore returns the score the transfer gate compares with its threshold:
// the calibrated score when gate is GateCalibrated and there is one, else the
// raw score. basis says which it is.
func (a *LeadAnalysis) GateScore(gate string) (score float64, basis string) {
	if gate == GateCalibrated && a.ScoreCalibrated != nil {
		return *a.ScoreCalibrated, GateCalibrated
	}
	return a.Score, GateRaw
}

// AnalysisRecord is one row of the analysis log: one per call, success or failure.
type AnalysisRecord struct {
	ID             string
	LeadID         string
	ActorID        string
	Facts          Facts
	Provider       string
	Model          string
	PromptVersion  string
	Score          *float64
	Recommendation Recommendation // "" on failure
	Reason         string
	ReasonUK       string // "" on failure, and before it was asked for
	RawOutput      string
	ErrorCode      string // "" on success
	ErrorMessage   string
	InputTokens    int
	OutputTokens   int
	LatencyMS      int64
	CostUSD        float64
	CreatedAt      time.Time
	// ScoreCalibrated is Score under the calibration in force then (nil
	// without one, and on failure).
	ScoreCalibrated *float64
	Factors         []Factor
	BatchID         string // the batch the call was part of; "" for a single analysis
}
