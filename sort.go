package crm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Sort orders a list by one key, ascending unless Desc; ties are broken by id
// in the same direction, so the order is total and a keyset cursor is exact.
// The zero Sort is the lists' default: newest first.
type Sort struct {
	Key  string
	Desc bool
}

// Sort keys of the lead and sale lists. created_at orders by id (ids are
// UUIDv7, time-ordered). Text keys order by bytes (capitals first), alike in
// both stores; ai_score and amount put the unset ones below every value.
var (
	LeadSortKeys = []string{"created_at", "updated_at", "name", "company", "email", "source", "stage", "messages_count", "ai_score"}
	SaleSortKeys = []string{"created_at", "updated_at", "stage", "amount"}
)

// ParseSort reads "key" (ascending) or "-key" (descending); "" is the default
// order. Errors: EINVALID for a key not in keys.
func ParseSort(s string, keys []string) (Sort, error) {
	if s == "" {
		return Sort{}, nil
	}
	srt := Sort{Key: strings.TrimPrefix(s, "-"), Desc: strings.HasPrefix(s, "-")}
	if !slices.Contains(keys, srt.Key) {
		return Sort{}, Invalid(FieldError{Field: "sort", Message: "must be one of " + strings.Join(keys, ", ") + ", each optionally prefixed with -"})
	}
	if srt.Key == "created_at" && srt.Desc {
		return Sort{}, nil // the default order, with the default cursor
	}
	return srt, nil
}

// String is the query form of the sort ("" for the default).
func (s Sort) String() string {
	if s.Key == "" || !s.Desc {
		return s.Key
	}
	return "-" + s.Key
}

// ByID reports whether the order is by id alone (no sort value in the cursor).
func (s Sort) ByID() bool { return s.Key == "" || s.Key == "created_at" }

// Descending reports whether the order runs from high to low.
func (s Sort) Descending() bool { return s.Key == "" || s.Desc }

// cursor is what a sorted list's cursor carries: the sort key and direction
// it belongs to, the last row's sort value and its id.
type cursor struct {
	Key   string `json:"k"`
	Desc  bool   `json:"d,omitempty"`
	Value any    `json:"v"`
	ID    string `json:"id"`
}

const cursorPrefix = "s1."

// makeCursor returns the cursor of a page ending at a row with the given
// sort value and id. The default order keeps its plain-id cursor.
func makeCursor(s Sort, value any, id string) string {
	if s.ByID() {
		if s.Key == "" {
			return id
		}
		value = nil
	}
	b, _ := json.Marshal(cursor{Key: s.Key, Desc: s.Desc, Value: value, ID: id})
	return cursorPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// readCursor returns the id and typed sort value a cursor carries. Errors:
// EINVALID when it is malformed or belongs to another sort.
func readCursor(s Sort, c string) (id string, value any, err error) {
	bad := Invalid(FieldError{Field: "cursor", Message: "is not a cursor this service gave out for this sort"})
	if c == "" {
		return "", nil, nil
	}
	if s.Key == "" {
		c = NormalizeID(c)
		if !ValidID(c) {
			return "", nil, bad
		}
		return c, nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(c, cursorPrefix))
	var cur cursor
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // amounts exceed a float's exact integers
	if !strings.HasPrefix(c, cursorPrefix) || err != nil || dec.Decode(&cur) != nil ||
		cur.Key != s.Key || cur.Desc != s.Desc || !ValidID(NormalizeID(cur.ID)) {
		return "", nil, bad
	}
	cur.ID = NormalizeID(cur.ID)
	if s.ByID() {
		return cur.ID, nil, nil
	}
	switch v := cur.Value.(type) {
	case string:
		if sortKind(s.Key) == "time" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return "", nil, bad
			}
			return cur.ID, t, nil
		}
		if sortKind(s.Key) == "text" && ValidText(v) {
			return cur.ID, v, nil
		}
	case json.Number:
		switch sortKind(s.Key) {
		case "int":
			if n, err := v.Int64(); err == nil {
				return cur.ID, n, nil
			}
		case "float":
			if f, err := v.Float64(); err == nil {
				return cur.ID, f, nil
			}
		}
	}
	return "", nil, bad
}

// sortKind is the type of a sort key's values: text, int, float or time.
func sortKind(key string) string {
	switch key {
	case "updated_at":
		return "time"
	case "messages_count", "stage", "amount":
		return "int"
	case "ai_score":
		return "float"
	}
	return "text"
}

// LeadStageRank is a lead stage's place in the pipeline, the value sort=stage orders by.
func LeadStageRank(s LeadStage) int64 { return int64(slices.Index(LeadStages, s)) }

// SaleStageRank is a sale stage's place in the pipeline.
func SaleStageRank(s SaleStage) int64 { return int64(slices.Index(SaleStages, s)) }

// sortValue is the value of a lead's sort key, as the stores compare it.
func (l *Lead) sortValue(key string) any {
	switch key {
	case "updated_at":
		return l.UpdatedAt.UTC().Format(time.RFC3339Nano)
	case "name":
		return l.Name
	case "company":
		return l.Company
	case "email":
		return l.Email
	case "source":
		return string(l.Source)
	case "stage":
		return LeadStageRank(l.Stage)
	case "messages_count":
		return l.MessagesCount
	case "ai_score":
		if l.AI == nil {
			return -1.0
		}
		return l.AI.Score
	}
	return nil
}

// sortValue is the value of a sale's sort key, as the stores compare it.
func (s *Sale) sortValue(key string) any {
	switch key {
	case "updated_at":
		return s.UpdatedAt.UTC().Format(time.RFC3339Nano)
	case "stage":
		return SaleStageRank(s.Stage)
	case "amount":
		if s.Currency == "" {
			return -1
		}
		return int64(s.Amount)
	}
	return nil
}
