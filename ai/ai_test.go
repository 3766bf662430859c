package ai_test

import (
	"slices"
	"testing"

	"github.com/crmleads/crm/ai"
)

func TestNew(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		cfg      ai.Config
		provider string // "" = New fails
	}{
		{"zero value is the baseline", ai.Config{}, "baseline"},
		{"a key selects claude", ai.Config{APIKey: "sk-x"}, "claude"},
		{"explicit baseline despite a key", ai.Config{Provider: "baseline", APIKey: "sk-x"}, "baseline"},
		{"explicit claude", ai.Config{Provider: "claude"}, "claude"},
		{"unknown provider", ai.Config{Provider: "gpt"}, ""},
		{"unknown prompt version", ai.Config{Provider: "claude", PromptVersion: "v999"}, ""},
		{"known prompt version", ai.Config{Provider: "claude", PromptVersion: "v1"}, "claude"},
	} {
		sc, err := ai.New(tt.cfg)
		switch {
		case tt.provider == "" && err == nil:
			t.Errorf("%s: New succeeded, want an error", tt.name)
		case tt.provider != "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.provider == "baseline":
			if _, ok := sc.(ai.Baseline); !ok {
				t.Errorf("%s: got %T, want the baseline", tt.name, sc)
			}
		case tt.provider == "claude":
			if _, ok := sc.(ai.Baseline); ok {
				t.Errorf("%s: got the baseline, want claude", tt.name)
			}
		}
	}
}

func TestPromptVersions(t *testing.T) {
	t.Parallel()
	vs := ai.PromptVersions()
	if len(vs) == 0 || vs[0] != "v1" || !slices.IsSorted(vs[:1]) {
		t.Errorf("PromptVersions() = %v, want v1 first", vs)
	}
}
