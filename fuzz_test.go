package crm

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The fuzz targets of the domain (issue 13 §3); their seed corpora are under
// testdata/fuzz/<target>, and .ci/run runs each for a short, fixed time.

// legalLead is the lead state machine of DESIGN §2, written out pair by pair
// so the fuzzer checks the code against the table, not the code against itself.
var legalLead = map[[2]LeadStage]bool{
	{LeadNew, LeadContacted}: true, {LeadContacted, LeadQualified}: true,
	{LeadNew, LeadLost}: true, {LeadContacted, LeadLost}: true, {LeadQualified, LeadLost}: true,
}

var legalSale = map[[2]SaleStage]bool{
	{SaleNew, SaleKYC}: true, {SaleKYC, SaleAgreement}: true, {SaleAgreement, SalePaid}: true,
	{SaleNew, SaleLost}: true, {SaleKYC, SaleLost}: true, {SaleAgreement, SaleLost}: true,
}

// FuzzLeadMove: any pair of strings is either a legal step of the table or a
// conflict; a final stage never moves; transferred is never reached by a move.
func FuzzLeadMove(f *testing.F) {
	for _, s := range LeadStages {
		for _, t := range LeadStages {
			f.Add(string(s), string(t))
		}
	}
	f.Add("", "new")
	f.Add("NEW", "contacted")
	f.Fuzz(func(t *testing.T, from, to string) {
		s, n := LeadStage(from), LeadStage(to)
		err := s.CheckMove(n)
		if legalLead[[2]LeadStage{s, n}] != (err == nil) {
			t.Fatalf("CheckMove(%q, %q) = %v, table says legal=%v", from, to, err, legalLead[[2]LeadStage{s, n}])
		}
		if err != nil && ErrorKind(err) != ECONFLICT {
			t.Fatalf("CheckMove(%q, %q): kind %s, want conflict", from, to, ErrorKind(err))
		}
		if s.Final() && err == nil {
			t.Fatalf("final stage %q moved to %q", from, to)
		}
	})
}

// FuzzSaleMove is FuzzLeadMove for sales.
func FuzzSaleMove(f *testing.F) {
	for _, s := range SaleStages {
		for _, t := range SaleStages {
			f.Add(string(s), string(t))
		}
	}
	f.Add("paid", "")
	f.Fuzz(func(t *testing.T, from, to string) {
		s, n := SaleStage(from), SaleStage(to)
		err := s.CheckMove(n)
		if legalSale[[2]SaleStage{s, n}] != (err == nil) {
			t.Fatalf("CheckMove(%q, %q) = %v, table says legal=%v", from, to, err, legalSale[[2]SaleStage{s, n}])
		}
		if err != nil && ErrorKind(err) != ECONFLICT {
			t.Fatalf("CheckMove(%q, %q): kind %s, want conflict", from, to, ErrorKind(err))
		}
	})
}

// FuzzCursor: a cursor from anywhere is either refused with EINVALID on the
// cursor field, or gives a valid id and a sort value of the key's type (text
// that is ValidText, so no store sees a NUL from a cursor); a cursor the
// service made reads back to what it was made from.
func FuzzCursor(f *testing.F) {
	id := NewID()
	for _, key := range append([]string{""}, LeadSortKeys...) {
		for _, desc := range []bool{false, true} {
			s := Sort{Key: key, Desc: desc}
			var v any
			switch sortKind(key) {
			case "time":
				v = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
			case "int":
				v = int64(42)
			case "float":
				v = 0.61
			case "text":
				v = "Olena"
			}
			f.Add(key, desc, makeCursor(s, v, id))
		}
	}
	f.Add("name", false, "s1.")
	f.Add("name", false, makeCursor(Sort{Key: "name"}, "a\x00", id)) // hand-made: a NUL must not reach a store
	f.Add("", false, "not-an-id")
	f.Fuzz(func(t *testing.T, key string, desc bool, c string) {
		s := Sort{Key: key, Desc: desc}
		gotID, v, err := readCursor(s, c)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind != EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "cursor" {
				t.Fatalf("readCursor(%q, %q): %v, want EINVALID on cursor", key, c, err)
			}
			return
		}
		if c == "" {
			return
		}
		if !ValidID(gotID) {
			t.Fatalf("readCursor(%q, %q) gave id %q", key, c, gotID)
		}
		switch x := v.(type) {
		case nil:
		case string:
			if sortKind(key) != "text" || !ValidText(x) {
				t.Fatalf("readCursor(%q, %q) gave text %q", key, c, x)
			}
		case int64:
			if sortKind(key) != "int" {
				t.Fatalf("int value for key %q", key)
			}
		case float64:
			if sortKind(key) != "float" {
				t.Fatalf("float value for key %q", key)
			}
		case time.Time:
			if sortKind(key) != "time" {
				t.Fatalf("time value for key %q", key)
			}
		default:
			t.Fatalf("readCursor(%q, %q) gave %T", key, c, v)
		}
		// Made again from what it read, it reads back the same.
		id2, v2, err := readCursor(s, makeCursor(s, v, gotID))
		if err != nil || id2 != gotID || !sameValue(v, v2) {
			t.Fatalf("round trip of %q: %v %v %v, want %v %v", c, id2, v2, err, gotID, v)
		}
	})
}

func sameValue(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return a == b
}

// FuzzValidText: ValidText is exactly "valid UTF-8 without NUL", and a
// lead input carrying text it refuses is invalid, never stored.
func FuzzValidText(f *testing.F) {
	for _, s := range []string{"", "Olena", "a\x00b", "caf\xe9", "\xed\xa0\x80", "я"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in := LeadInput{Source: SourceManual, Name: s}
		err := in.Validate([]string{"first"})
		if !ValidText(s) && err == nil {
			t.Fatalf("lead named %q validated", s)
		}
	})
}

// FuzzCSVCell: every text survives neutralization and its undoing, and a
// neutralized cell never starts with a formula character.
func FuzzCSVCell(f *testing.F) {
	for _, s := range []string{"", "=1+1", "+380501234567", "-2", "@SUM(A1)", "'=x", "''=x", "'a", "\t=x", "Олена"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NeutralizeCell(s)
		if n != "" && strings.ContainsRune("=+-@\t\r", rune(n[0])) {
			t.Fatalf("NeutralizeCell(%q) = %q starts a formula", s, n)
		}
		if back := UnneutralizeCell(n); back != s {
			t.Fatalf("UnneutralizeCell(NeutralizeCell(%q)) = %q", s, back)
		}
	})
}
