// Package metrics is the service's Prometheus instrumentation
// (github.com/prometheus/client_golang): one registry per process, served on a
// listener of its own (CRM_METRICS_ADDR), never on the public port.
//
// What is measured: HTTP requests by route pattern, method and status with a
// latency histogram; the database pool; AI calls by provider, model and
// outcome with latency, tokens and cost (Scorer wraps the configured scorer);
// the job engine's queue depth (read from River's table at each scrape) and
// job outcomes; webhook deliveries by result. Set implements jobs.Observer.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/crmleads/crm"
)

// Set is the instrumentation of one process.
type Set struct {
	Registry *prometheus.Registry

	requests *prometheus.HistogramVec
	aiCalls  *prometheus.HistogramVec
	aiTokens *prometheus.CounterVec
	aiCost   *prometheus.CounterVec
	jobs     *prometheus.HistogramVec
	webhooks *prometheus.CounterVec
}

// New returns a registry with the Go runtime and process collectors and the
// service's own metrics.
func New() *Set {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Set{
		Registry: reg,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "crm_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method", "status"}),
		aiCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "crm_ai_call_duration_seconds",
			Help:    "Time of an AI scoring call, by provider, model and outcome (ok or the error code).",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2, 5, 10, 20, 60},
		}, []string{"provider", "model", "outcome"}),
		aiTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crm_ai_tokens_total",
			Help: "Tokens billed by the AI provider, by model and direction (input or output).",
		}, []string{"model", "direction"}),
		aiCost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crm_ai_cost_usd_total",
			Help: "Estimated cost of AI calls in US dollars, by model.",
		}, []string{"model"}),
		jobs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "crm_job_run_duration_seconds",
			Help: "Time a background job's run took, by kind and outcome (completed, failed and retried, " +
				"discarded, cancelled, snoozed).",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind", "outcome"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crm_webhook_deliveries_total",
			Help: "Attempts of webhook deliveries, by event type and result (delivered, retrying, given_up).",
		}, []string{"event", "result"}),
	}
	reg.MustRegister(s.requests, s.aiCalls, s.aiTokens, s.aiCost, s.jobs, s.webhooks)
	return s
}

// JobEnded records the end of a run of a job (jobs.Observer).
func (s *Set) JobEnded(kind, outcome string, run time.Duration) {
	s.jobs.WithLabelValues(kind, outcome).Observe(run.Seconds())
}

// WebhookDelivered records the result of an attempt of a webhook delivery
// (jobs.Observer).
func (s *Set) WebhookDelivered(event, result string) {
	s.webhooks.WithLabelValues(event, result).Inc()
}

// QueueDepth is the number of jobs of a queue and kind in a state.
type QueueDepth struct {
	Queue, Kind, State string
	Jobs               int
}

// RegisterQueue exports the job queue's depth, which read returns, at each
// scrape (bounded by a timeout of its own, so a stuck database cannot hold
// the scrape). A failed read is reported to the scraper as an error.
func (s *Set) RegisterQueue(read func(ctx context.Context) ([]QueueDepth, error)) {
	s.Registry.MustRegister(queueCollector{read: read})
}

var queueDesc = prometheus.NewDesc("crm_jobs_queued",
	"Background jobs not yet finished, by queue, kind and state (available, scheduled, running, retryable).",
	[]string{"queue", "kind", "state"}, nil)

type queueCollector struct {
	read func(ctx context.Context) ([]QueueDepth, error)
}

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	depth, err := c.read(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDesc, err)
		return
	}
	for _, d := range depth {
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(d.Jobs), d.Queue, d.Kind, d.State)
	}
}

// Handler serves the registry in the Prometheus exposition format.
func (s *Set) Handler() http.Handler {
	// ContinueOnError: a failed read of the queue depth (the database down)
	// drops that metric, and is counted, but the rest is still served.
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry, ErrorHandling: promhttp.ContinueOnError})
}

// ObserveRequest records one served request. A nil Set records nothing.
func (s *Set) ObserveRequest(route, method string, status int, d time.Duration) {
	if s == nil {
		return
	}
	s.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// DBStats are the figures of a connection pool.
type DBStats struct {
	Open, InUse, Idle, Max int
	WaitCount              int64
	WaitDuration           time.Duration
}

// RegisterDB exports the pool figures stats returns, read at each scrape.
func (s *Set) RegisterDB(name string, stats func() DBStats) {
	gauge := func(metric, help string, v func(DBStats) float64) {
		s.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: metric, Help: help, ConstLabels: prometheus.Labels{"pool": name},
		}, func() float64 { return v(stats()) }))
	}
	gauge("crm_db_connections_open", "Open database connections.", func(st DBStats) float64 { return float64(st.Open) })
	gauge("crm_db_connections_in_use", "Database connections in use.", func(st DBStats) float64 { return float64(st.InUse) })
	gauge("crm_db_connections_idle", "Idle database connections.", func(st DBStats) float64 { return float64(st.Idle) })
	gauge("crm_db_connections_max", "Most database connections the pool opens.", func(st DBStats) float64 { return float64(st.Max) })
	s.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "crm_db_waits_total", Help: "Times a caller waited for a database connection.",
		ConstLabels: prometheus.Labels{"pool": name},
	}, func() float64 { return float64(stats().WaitCount) }))
	s.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "crm_db_wait_seconds_total", Help: "Time callers waited for a database connection.",
		ConstLabels: prometheus.Labels{"pool": name},
	}, func() float64 { return stats().WaitDuration.Seconds() }))
}

// Scorer wraps a crm.Scorer and records every call it makes: latency by
// outcome, tokens and cost (a bad answer is billed too).
func (s *Set) Scorer(next crm.Scorer) crm.Scorer {
	if next == nil {
		return nil
	}
	return scorer{next: next, m: s}
}

type scorer struct {
	next crm.Scorer
	m    *Set
}

func (sc scorer) Score(ctx context.Context, f crm.Facts) (crm.Score, crm.Call, error) {
	start := time.Now()
	score, call, err := sc.next.Score(ctx, f)
	outcome := "ok"
	if err != nil {
		outcome = "error"
		if code := crm.ErrorCode(err); code != "" {
			outcome = code
		}
	}
	sc.m.aiCalls.WithLabelValues(call.Provider, call.Model, outcome).Observe(time.Since(start).Seconds())
	sc.m.aiTokens.WithLabelValues(call.Model, "input").Add(float64(call.InputTokens))
	sc.m.aiTokens.WithLabelValues(call.Model, "output").Add(float64(call.OutputTokens))
	sc.m.aiCost.WithLabelValues(call.Model).Add(call.CostUSD)
	return score, call, err
}
