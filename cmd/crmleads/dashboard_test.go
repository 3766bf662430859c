package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm/internal/testdb"
)

// The Grafana dashboard (deploy/grafana/crmleads.json) must not drift from
// the code: every metric its queries name is one a running server exports.

type grafanaPanel struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"` // a collapsed row's
}

type grafanaDashboard struct {
	Title      string         `json:"title"`
	UID        string         `json:"uid"`
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"` // a string, or {"query": "…"}
		} `json:"list"`
	} `json:"templating"`
}

var (
	promBraces   = regexp.MustCompile(`\{[^}]*\}`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	labelValues  = regexp.MustCompile(`label_values\(\s*([^,)]+)`)
	promKeywords = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
		"group_left", "group_right", "inf", "nan"}
)

// promMetrics returns the metric names a PromQL expression reads: what is
// left once label matchers, ranges and grouping clauses are cut, without
// function names (followed by a parenthesis) and keywords.
func promMetrics(expr string) []string {
	expr = promBraces.ReplaceAllString(expr, " ")
	expr = promRange.ReplaceAllString(expr, " ")
	expr = promGrouping.ReplaceAllString(expr, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(expr, -1) {
		name := expr[loc[0]:loc[1]]
		if loc[0] > 0 && strings.ContainsAny(expr[loc[0]-1:loc[0]], "0123456789.$") {
			continue // a number's exponent or a Grafana variable
		}
		if rest := strings.TrimLeft(expr[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function
		}
		if slices.Contains(promKeywords, strings.ToLower(name)) {
			continue
		}
		out = append(out, name)
	}
	return out
}

func TestPromMetrics(t *testing.T) {
	got := promMetrics(`histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{instance=~"$instance",status=~"5.."}[$__rate_interval]))) / on (route) group_left b_total + 1e3 * max(c)`)
	if want := []string{"a_bucket", "b_total", "c"}; !slices.Equal(got, want) {
		t.Errorf("promMetrics = %q, want %q", got, want)
	}
}

// readDashboard returns the dashboard and, by panel title, the metrics its
// queries name (the template variables' label_values queries under "$var").
func readDashboard(t *testing.T) (grafanaDashboard, map[string][]string) {
	t.Helper()
	b, err := os.ReadFile("../../deploy/grafana/crmleads.json")
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("deploy/grafana/crmleads.json: %v", err)
	}
	uses := map[string][]string{}
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				names := promMetrics(tg.Expr)
				if len(names) == 0 {
					t.Errorf("panel %q: no metric found in %q", p.Title, tg.Expr)
				}
				uses[p.Title] = append(uses[p.Title], names...)
			}
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		q, _ := v.Query.(string)
		if m, ok := v.Query.(map[string]any); ok {
			q, _ = m["query"].(string)
		}
		if m := labelValues.FindStringSubmatch(q); m != nil {
			uses["$"+v.Name] = append(uses["$"+v.Name], promMetrics(m[1])...)
		}
	}
	return d, uses
}

// exported returns the names of the samples in a Prometheus text exposition.
func exported(body string) map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names
}

// TestDashboardMetricsExported: after traffic that touches every part (a
// request, an AI call, a webhook delivery job, a scheduled reminder), the
// running server exports every metric the dashboard's panels query.
func TestDashboardMetricsExported(t *testing.T) {
	d, uses := readDashboard(t)
	if d.UID == "" || d.Title == "" || len(uses) < 10 {
		t.Fatalf("the dashboard has uid %q, title %q and %d panels with queries; is it the right file?", d.UID, d.Title, len(uses))
	}
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			maddr := freeAddr(t)
			p := start(t, map[string]string{"DATABASE_URL": testdb.URL(t, kind), "CRM_METRICS_ADDR": maddr,
				"CRM_ADMIN_EMAIL": "boss@example.com", "CRM_ADMIN_PASSWORD": "boss password",
				"CRM_WEBHOOK_ALLOW_PRIVATE": "true"})
			admin := login(t, p.base, "boss@example.com", "boss password")
			var lead struct{ ID string }
			admin.must(201, "POST", "/leads", map[string]any{"source": "partner"}, &lead)
			admin.must(200, "POST", "/leads/"+lead.ID+"/analyze", nil, nil)
			admin.must(201, "POST", "/leads/"+lead.ID+"/tasks", map[string]any{"title": "call back",
				"due_at": time.Now().Add(48 * time.Hour).Format(time.RFC3339)}, nil)
			var sub struct{ ID string }
			admin.must(201, "POST", "/webhooks", map[string]any{"url": statusReceiver(t, 200).URL,
				"events": []string{"webhook.test"}}, &sub)
			admin.must(202, "POST", "/webhooks/"+sub.ID+"/test", nil, nil)
			have := exported(waitMetrics(t, maddr, `crm_webhook_deliveries_total{`, `crm_jobs_queued{`,
				`crm_job_run_duration_seconds_bucket{`, `crm_ai_call_duration_seconds_bucket{`))
			for panel, names := range uses {
				for _, n := range names {
					if !have[n] {
						t.Errorf("panel %q queries %s, which the server does not export", panel, n)
					}
				}
			}
		})
	}
}
