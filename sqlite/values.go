package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crmleads/crm"
)

// timeLayout is the stored form of a time: fixed width and UTC, so that text
// order is time order. Times keep microseconds, like PostgreSQL's.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad stored time %q: %w", s, err)
	}
	return t, nil
}

// nullStr maps "" to NULL (empty ids, unset optional text).
func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// jsonText encodes event data; nil is NULL.
func jsonText(m map[string]any) (any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode event data: %w", err)
	}
	return string(b), nil
}

func parseJSON(s sql.NullString) (map[string]any, error) {
	if !s.Valid {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s.String), &m); err != nil {
		return nil, fmt.Errorf("bad stored event data: %w", err)
	}
	return m, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// factorsText encodes factors as a JSON list; none is NULL.
func factorsText(fs []crm.Factor) any {
	if len(fs) == 0 {
		return nil
	}
	b, _ := json.Marshal(fs) // cannot fail: plain fields
	return string(b)
}

func parseFactors(s sql.NullString) ([]crm.Factor, error) {
	if !s.Valid {
		return nil, nil
	}
	var fs []crm.Factor
	if err := json.Unmarshal([]byte(s.String), &fs); err != nil {
		return nil, fmt.Errorf("bad stored factors: %w", err)
	}
	return fs, nil
}
