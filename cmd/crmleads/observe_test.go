package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm/internal/testdb"
)

// scrape returns the metrics the listener at addr serves.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

// waitMetrics scrapes until every line in want is there (the engine works
// jobs in the background), or fails after 30 s naming what is missing.
func waitMetrics(t *testing.T, addr string, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		body := scrape(t, addr)
		var missing []string
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s the metrics still lack:\n%s\nmetrics:\n%s", strings.Join(missing, "\n"), body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// statusReceiver is a webhook endpoint answering the statuses given, one per
// request, the last one ever after.
func statusReceiver(t *testing.T, statuses ...int) *httptest.Server {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		code := statuses[min(n, len(statuses)-1)]
		n++
		mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestJobAndWebhookMetrics: real jobs and real deliveries to real receivers
// move the metrics: a delivery answered 500 then 200 counts one retrying and
// one delivered, one answered 410 counts given up; River's runs count as
// snoozed and completed; a task's reminder waiting for its due time shows in
// the queue depth as scheduled.
func TestJobAndWebhookMetrics(t *testing.T) {
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			maddr := freeAddr(t)
			p := start(t, map[string]string{"DATABASE_URL": testdb.URL(t, kind), "CRM_METRICS_ADDR": maddr,
				"CRM_ADMIN_EMAIL": "boss@example.com", "CRM_ADMIN_PASSWORD": "boss password",
				"CRM_WEBHOOK_ALLOW_PRIVATE": "true", "CRM_WEBHOOK_SCHEDULE": "0s,0s,0s"})
			admin := login(t, p.base, "boss@example.com", "boss password")
			before := scrape(t, maddr)
			for _, s := range []string{`crm_webhook_deliveries_total{`, `kind="webhook_deliver"`, `kind="task_due"`} {
				if strings.Contains(before, s) {
					t.Fatalf("before any delivery the metrics already hold %s:\n%s", s, before)
				}
			}

			flaky, gone := statusReceiver(t, 500, 200), statusReceiver(t, 410)
			for _, url := range []string{flaky.URL, gone.URL} {
				var sub struct{ ID string }
				admin.must(201, "POST", "/webhooks", map[string]any{"url": url, "events": []string{"webhook.test"}}, &sub)
				admin.must(202, "POST", "/webhooks/"+sub.ID+"/test", nil, nil)
			}
			var lead struct{ ID string }
			admin.must(201, "POST", "/leads", map[string]any{"source": "partner"}, &lead)
			admin.must(201, "POST", "/leads/"+lead.ID+"/tasks", map[string]any{"title": "call back",
				"due_at": time.Now().Add(48 * time.Hour).Format(time.RFC3339)}, nil)

			waitMetrics(t, maddr,
				`crm_webhook_deliveries_total{event="webhook.test",result="retrying"} 1`,
				`crm_webhook_deliveries_total{event="webhook.test",result="delivered"} 1`,
				`crm_webhook_deliveries_total{event="webhook.test",result="given_up"} 1`,
				`crm_job_run_duration_seconds_count{kind="webhook_deliver",outcome="snoozed"} 1`,
				`crm_job_run_duration_seconds_count{kind="webhook_deliver",outcome="completed"} 2`,
				`crm_jobs_queued{kind="task_due",queue="default",state="scheduled"} 1`,
			)
		})
	}
}
