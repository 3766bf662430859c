package crm

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLeadStageCheckMove(t *testing.T) {
	// DESIGN §2, written out: every pair not listed here is refused.
	legal := map[[2]LeadStage]bool{
		{LeadNew, LeadContacted}:       true,
		{LeadNew, LeadLost}:            true,
		{LeadContacted, LeadQualified}: true,
		{LeadContacted, LeadLost}:      true,
		{LeadQualified, LeadLost}:      true,
	}
	stages := []LeadStage{LeadNew, LeadContacted, LeadQualified, LeadTransferred, LeadLost, "won", ""}
	for _, from := range stages {
		for _, to := range stages {
			err := from.CheckMove(to)
			if legal[[2]LeadStage{from, to}] {
				if err != nil {
					t.Errorf("%q → %q: %v, want allowed", from, to, err)
				}
				continue
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%q → %q: %v, want a conflict", from, to, err)
				continue
			}
			code := CodeInvalidTransition
			if from == LeadTransferred || from == LeadLost {
				code = CodeLeadClosed
			}
			if e.Kind != ECONFLICT || e.Code != code {
				t.Errorf("%q → %q: %s/%s, want %s/%s", from, to, e.Kind, e.Code, ECONFLICT, code)
			}
		}
	}
	for _, from := range stages {
		var want []LeadStage
		for _, to := range stages {
			if legal[[2]LeadStage{from, to}] {
				want = append(want, to)
			}
		}
		got := from.NextStages()
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q.NextStages() = %v, want %v", from, got, want)
		}
	}
}

func TestLeadStageValidFinal(t *testing.T) {
	for _, tc := range []struct {
		s            LeadStage
		valid, final bool
	}{
		{LeadNew, true, false}, {LeadContacted, true, false}, {LeadQualified, true, false},
		{LeadTransferred, true, true}, {LeadLost, true, true}, {"won", false, false}, {"", false, false}, {"New", false, false},
	} {
		if tc.s.Valid() != tc.valid || tc.s.Final() != tc.final {
			t.Errorf("%q: Valid %v Final %v, want %v %v", tc.s, tc.s.Valid(), tc.s.Final(), tc.valid, tc.final)
		}
	}
}

// fields returns the fields named by a validation error, or nil for nil.
func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) || e.Kind != EINVALID || e.Code != CodeValidation {
		t.Fatalf("error %v, want a validation error", err)
	}
	var out []string
	for _, f := range e.Fields {
		if f.Message == "" {
			t.Errorf("field %s without message", f.Field)
		}
		out = append(out, f.Field)
	}
	return out
}

var catalog = []string{"first", "second", "third"}

func TestLeadInputValidate(t *testing.T) {
	long := strings.Repeat("я", MaxShortText)
	for _, tc := range []struct {
		name string
		in   LeadInput
		want []string
	}{
		{"minimal", LeadInput{Source: SourceManual}, nil},
		{"full", LeadInput{Source: SourcePartner, BusinessDomain: "second", MessagesCount: MaxMessagesCount, Name: long,
			Email: "a.b@example.com", Phone: long, Company: long, Note: strings.Repeat("x", MaxNoteText)}, nil},
		{"each source", LeadInput{Source: SourceScanner}, nil},
		{"no source", LeadInput{}, []string{"source"}},
		{"unknown source", LeadInput{Source: "cold_call"}, []string{"source"}},
		{"source case", LeadInput{Source: "Manual"}, []string{"source"}},
		{"unknown domain", LeadInput{Source: SourceManual, BusinessDomain: "fourth"}, []string{"business_domain"}},
		{"domain case", LeadInput{Source: SourceManual, BusinessDomain: "First"}, []string{"business_domain"}},
		{"negative count", LeadInput{Source: SourceManual, MessagesCount: -1}, []string{"messages_count"}},
		{"count too big", LeadInput{Source: SourceManual, MessagesCount: MaxMessagesCount + 1}, []string{"messages_count"}},
		{"name too long", LeadInput{Source: SourceManual, Name: long + "я"}, []string{"name"}},
		{"note too long", LeadInput{Source: SourceManual, Note: strings.Repeat("x", MaxNoteText+1)}, []string{"note"}},
		{"bad email", LeadInput{Source: SourceManual, Email: "not an email"}, []string{"email"}},
		{"email with name", LeadInput{Source: SourceManual, Email: "Ann <ann@example.com>"}, []string{"email"}},
		{"everything wrong", LeadInput{Source: "x", BusinessDomain: "y", MessagesCount: -5, Company: long + "!", Email: "@"},
			[]string{"source", "business_domain", "messages_count", "email", "company"}},
	} {
		got := fields(t, tc.in.Validate(catalog))
		if !sameSet(got, tc.want) {
			t.Errorf("%s: invalid fields %v, want %v", tc.name, got, tc.want)
		}
	}
	// The catalog is the service's, not a fixed list.
	in := LeadInput{Source: SourceManual, BusinessDomain: "fintech"}
	if err := in.Validate([]string{"fintech"}); err != nil {
		t.Errorf("custom catalog: %v", err)
	}
}

func TestLeadUpdateValidate(t *testing.T) {
	s := func(v string) *string { return &v }
	long := strings.Repeat("a", MaxShortText+1)
	for _, tc := range []struct {
		name  string
		up    LeadUpdate
		want  []string
		empty bool
	}{
		{"nothing", LeadUpdate{}, nil, true},
		{"clear domain", LeadUpdate{ClearBusinessDomain: true}, nil, false},
		{"domain", LeadUpdate{BusinessDomain: s("third")}, nil, false},
		{"empty domain", LeadUpdate{BusinessDomain: s("")}, []string{"business_domain"}, false},
		{"unknown domain", LeadUpdate{BusinessDomain: s("zeroth")}, []string{"business_domain"}, false},
		{"clear contacts", LeadUpdate{Name: s(""), Email: s(""), Phone: s(""), Company: s(""), Note: s("")}, nil, false},
		{"bad email", LeadUpdate{Email: s("x@")}, []string{"email"}, false},
		{"long fields", LeadUpdate{Name: s(long), Phone: s(long), Note: s(strings.Repeat("n", MaxNoteText+1))}, []string{"name", "phone", "note"}, false},
		{"owner", LeadUpdate{OwnerID: s(NewID())}, nil, false},
	} {
		got := fields(t, tc.up.Validate(catalog))
		if !sameSet(got, tc.want) {
			t.Errorf("%s: invalid fields %v, want %v", tc.name, got, tc.want)
		}
		if tc.up.Empty() != tc.empty {
			t.Errorf("%s: Empty() = %v", tc.name, tc.up.Empty())
		}
	}
}

func TestLeadFacts(t *testing.T) {
	l := &Lead{ID: NewID(), Source: SourcePartner, Stage: LeadQualified, BusinessDomain: "second", MessagesCount: 7,
		Name: "Ann", Email: "ann@example.com", OwnerID: NewID()}
	want := Facts{Source: SourcePartner, Stage: LeadQualified, MessagesCount: 7, HasBusinessDomain: true}
	if d := cmp.Diff(want, l.Facts()); d != "" {
		t.Errorf("Facts (-want +got):\n%s", d)
	}
	l.BusinessDomain = ""
	if l.HasBusinessDomain() || l.Facts().HasBusinessDomain {
		t.Error("HasBusinessDomain with no domain")
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
