package ai

import (
	"fmt"
	"time"

	"github.com/crmleads/crm"
)

// DefaultModel is the Claude model used when Config.Model is empty: the
// cheapest current model, which is plenty for a four-fact classification.
const DefaultModel = "claude-haiku-5-5"

// Provider names, as recorded in every crm.Call.
const (
	ProviderClaude   = "claude"
	ProviderBaseline = "baseline"
)

// Defaults of Config.
const (
	DefaultTimeout    = 20 * time.Second
	DefaultMaxRetries = 2
)

// Config selects and tunes a scorer. The zero value is the offline baseline.
type Config struct {
	Provider      string        // "claude" or "baseline"; "" = claude when APIKey != "" else baseline
	APIKey        string        // "" = the SDK's own lookup (ANTHROPIC_API_KEY, profiles…)
	BaseURL       string        // "" = the SDK's own lookup (ANTHROPIC_BASE_URL, else the public API)
	Model         string        // "" = DefaultModel
	Timeout       time.Duration // per attempt; 0 = DefaultTimeout
	MaxRetries    int           // retries after the first attempt; 0 = DefaultMaxRetries, negative = none
	PromptVersion string        // "" = latest embedded

	// CallTimeout bounds the whole call, retries and waits included; 0 =
	// (1+MaxRetries)*Timeout + 5s, enough for every attempt to time out.
	CallTimeout time.Duration
}

// New returns the scorer cfg describes. It fails on an unknown provider or
// prompt version, so a typo in the configuration stops the program at start
// rather than failing every analysis.
func New(cfg Config) (crm.Scorer, error) {
	provider := cfg.Provider
	if provider == "" {
		provider = ProviderBaseline
		if cfg.APIKey != "" {
			provider = ProviderClaude
		}
	}
	switch provider {
	case ProviderBaseline:
		return Baseline{}, nil
	case ProviderClaude:
		return newClaude(cfg)
	default:
		return nil, fmt.Errorf("ai: unknown provider %q (want %q or %q)", cfg.Provider, ProviderClaude, ProviderBaseline)
	}
}

// facts is the wire form of crm.Facts, spelled out field by field here rather
// than marshalling crm.Facts itself: a field added to the domain type later must
// not start leaving the system without a change in this package.
type facts struct {
	Source            string `json:"source"`
	Stage             string `json:"stage"`
	MessagesCount     int    `json:"messages_count"`
	HasBusinessDomain bool   `json:"has_business_domain"`
}

func wireFacts(f crm.Facts) facts {
	return facts{Source: string(f.Source), Stage: string(f.Stage), MessagesCount: f.MessagesCount, HasBusinessDomain: f.HasBusinessDomain}
}
