package web

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"
)

// metrics counts requests and their latency per route pattern and status
// class, exposed in the Prometheus text format at /metrics.
type metrics struct {
	mu    sync.Mutex
	start time.Time
	stats map[metricKey]*metricValue
}

type metricKey struct {
	route string
	class string // "2xx", "4xx", …
}

type metricValue struct {
	count   uint64
	seconds float64
}

func newMetrics() *metrics { return &metrics{start: time.Now(), stats: map[metricKey]*metricValue{}} }

func (m *metrics) observe(route string, status int, d time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	k := metricKey{route: route, class: fmt.Sprintf("%dxx", status/100)}
	m.mu.Lock()
	v := m.stats[k]
	if v == nil {
		v = &metricValue{}
		m.stats[k] = v
	}
	v.count++
	v.seconds += d.Seconds()
	m.mu.Unlock()
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	keys := make([]metricKey, 0, len(m.stats))
	for k := range m.stats {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].class < keys[j].class
	})
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, "# HELP crm_http_requests_total Requests served, by route pattern and status class.")
	fmt.Fprintln(w, "# TYPE crm_http_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "crm_http_requests_total{route=%q,status=%q} %d\n", k.route, k.class, m.stats[k].count)
	}
	fmt.Fprintln(w, "# HELP crm_http_request_seconds_total Time spent serving requests, by route pattern and status class.")
	fmt.Fprintln(w, "# TYPE crm_http_request_seconds_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "crm_http_request_seconds_total{route=%q,status=%q} %g\n", k.route, k.class, m.stats[k].seconds)
	}
	m.mu.Unlock()
	fmt.Fprintf(w, "# TYPE crm_uptime_seconds gauge\ncrm_uptime_seconds %g\n", time.Since(m.start).Seconds())
}
