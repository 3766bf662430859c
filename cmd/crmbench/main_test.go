package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRunSQLite runs the whole benchmark for a fraction of a second on
// SQLite, to keep it compiling and working. It checks that every scenario ran
// without errors, never how fast: speed is not asserted in tests.
func TestRunSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and seeds a database")
	}
	var out, log bytes.Buffer
	err := run(context.Background(), []string{"-db", "sqlite", "-clients", "4", "-duration", "200ms",
		"-warmup", "20ms", "-rounds", "1", "-seed-leads", "500", "-markdown"}, &out, &log)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("benchmark log:\n%s", log.String())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, s := range []string{"| create-lead |", "| get-lead |", "| stage-change |", "| list-filtered |",
		"| list-first-page |", "| list-deep-page |", "| p50 latency |", "max resident memory", "| target |"} {
		if !strings.Contains(got, s) {
			t.Errorf("output lacks %q:\n%s", s, got)
		}
	}
	// Every scenario row ends with its error counts, HTTP/SQL.
	for _, line := range strings.Split(got, "\n") {
		for _, sc := range []string{"create-lead", "get-lead", "stage-change", "list-filtered", "list-first-page", "list-deep-page"} {
			if strings.HasPrefix(line, "| "+sc+" ") && !strings.HasSuffix(line, "| 0/0 |") {
				t.Errorf("errors in %s", line)
			}
		}
	}
}

// TestRunListsSQLite runs -mode lists briefly on demo leads: every scenario
// runs without errors and the targets are reported (not asserted).
func TestRunListsSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and seeds a database")
	}
	var out, log bytes.Buffer
	err := run(context.Background(), []string{"-mode", "lists", "-db", "sqlite", "-clients", "2", "-duration", "100ms",
		"-warmup", "10ms", "-rounds", "1", "-seed-leads", "2000", "-page", "100", "-markdown"}, &out, &log)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("benchmark log:\n%s", log.String())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, s := range []string{"| page 1, HTTP | 1 |", "| page 100, HTTP | 2 |", "| search, store |", "| GET /leads/summary |",
		"| page 100 ≤ 1.5x page 1, p50, HTTP, 1 clients |", "search q=<6 letters of an email>, HTTP p50 ≤ 20 ms"} {
		if !strings.Contains(got, s) {
			t.Errorf("output lacks %q:\n%s", s, got)
		}
	}
	for _, line := range strings.Split(got, "\n") {
		if strings.Count(line, "|") == 7 && !strings.HasPrefix(line, "| scenario") && !strings.HasPrefix(line, "| ---") &&
			!strings.HasSuffix(line, "| 0 |") {
			t.Errorf("errors in %s", line)
		}
	}
}
