package ai

import (
	"embed"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Prompts are files so that a change of wording is a new file, reviewed as
// text, and every logged result can name the exact words it was produced by.
// A version is the file name without ".md"; published versions are never
// edited, only superseded.
//
//go:embed prompts/*.md
var promptFiles embed.FS

// prompt is one embedded system prompt.
type prompt struct {
	Version string
	System  string
	// Bilingual: the prompt asks for the reason in Ukrainian too
	// (reason_uk), every version after v1.
	Bilingual bool
}

// PromptVersions returns the embedded prompt versions, oldest first; the last
// one is the default.
func PromptVersions() []string {
	entries, err := promptFiles.ReadDir("prompts")
	if err != nil { // cannot happen: the directory is embedded
		panic(err)
	}
	var vs []string
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".md") {
			vs = append(vs, strings.TrimSuffix(name, ".md"))
		}
	}
	// "v10" must sort after "v9", so compare the numbers, not the strings.
	slices.SortFunc(vs, func(a, b string) int {
		na, errA := strconv.Atoi(strings.TrimPrefix(a, "v"))
		nb, errB := strconv.Atoi(strings.TrimPrefix(b, "v"))
		if errA == nil && errB == nil && na != nb {
			return na - nb
		}
		return strings.Compare(a, b)
	})
	return vs
}

// loadPrompt returns the prompt of the given version, the latest when version
// is "".
func loadPrompt(version string) (prompt, error) {
	if version == "" {
		vs := PromptVersions()
		version = vs[len(vs)-1]
	}
	if !slices.Contains(PromptVersions(), version) {
		return prompt{}, fmt.Errorf("ai: unknown prompt version %q (have %s)", version, strings.Join(PromptVersions(), ", "))
	}
	b, err := promptFiles.ReadFile(path.Join("prompts", version+".md"))
	if err != nil {
		return prompt{}, fmt.Errorf("ai: read prompt %s: %w", version, err)
	}
	return prompt{Version: version, System: strings.TrimSpace(string(b)), Bilingual: version != "v1"}, nil
}
