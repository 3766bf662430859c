package main

import (
	"compress/gzip"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/crmleads/crm/internal/testdb"
)

// otlpReceiver is an OTLP/HTTP traces endpoint: it decodes each
// ExportTraceServiceRequest as a collector would and keeps the spans.
type otlpReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	spans    []*tracepb.Span
	services []string // service.name of each resource seen
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	o := &otlpReceiver{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
			t.Errorf("OTLP receiver: %s %s, want POST /v1/traces", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		var req collectorpb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(b, &req)
		}
		if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("OTLP receiver: a request it cannot decode (%s): %v", r.Header.Get("Content-Type"), err)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		o.mu.Lock()
		for _, rs := range req.ResourceSpans {
			o.services = append(o.services, attr(rs.GetResource().GetAttributes(), "service.name"))
			for _, ss := range rs.ScopeSpans {
				o.spans = append(o.spans, ss.Spans...)
			}
		}
		o.mu.Unlock()
		out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *otlpReceiver) received() ([]*tracepb.Span, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*tracepb.Span(nil), o.spans...), append([]string(nil), o.services...)
}

// attr returns the string form of the attribute named key, "" when absent.
func attr(attrs []*commonpb.KeyValue, key string) string {
	for _, kv := range attrs {
		if kv.Key == key {
			switch v := kv.Value.Value.(type) {
			case *commonpb.AnyValue_StringValue:
				return v.StringValue
			case *commonpb.AnyValue_IntValue:
				return strconv.FormatInt(v.IntValue, 10)
			}
			return kv.Value.String()
		}
	}
	return ""
}

func spanID(b []byte) string { return hex.EncodeToString(b) }

// TestTraces: with OTEL_EXPORTER_OTLP_ENDPOINT set, a real OTLP/HTTP receiver
// gets, once the program stops (the batch processor waits an hour otherwise,
// so only the flush on shutdown can deliver them): for the request that reads
// a lead, a server span named by its route with, on PostgreSQL, a child
// database span in the same trace; the AI call's span under its request with
// the model and tokens; and a River job's span, with its statements under it.
func TestTraces(t *testing.T) {
	// The SDK reads its batching from the process environment: nothing is
	// exported before the shutdown.
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "3600000")
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			recv := newOTLPReceiver(t)
			maddr := freeAddr(t)
			p := start(t, map[string]string{"DATABASE_URL": testdb.URL(t, kind), "CRM_METRICS_ADDR": maddr,
				"CRM_ADMIN_EMAIL": "boss@example.com", "CRM_ADMIN_PASSWORD": "boss password",
				"CRM_WEBHOOK_ALLOW_PRIVATE": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL,
				"OTEL_SERVICE_NAME": "crm-under-test"})
			if !strings.Contains(p.log.String(), "tracing=true") {
				t.Fatalf("the start does not say tracing is on:\n%s", p.log.String())
			}
			admin := login(t, p.base, "boss@example.com", "boss password")
			var lead struct{ ID string }
			admin.must(201, "POST", "/leads", map[string]any{"source": "partner"}, &lead)
			admin.must(200, "POST", "/leads/"+lead.ID+"/analyze", nil, nil)
			admin.must(200, "GET", "/leads/"+lead.ID, nil, nil)
			var sub struct{ ID string }
			admin.must(201, "POST", "/webhooks", map[string]any{"url": statusReceiver(t, 200).URL,
				"events": []string{"webhook.test"}}, &sub)
			admin.must(202, "POST", "/webhooks/"+sub.ID+"/test", nil, nil)
			waitMetrics(t, maddr, `crm_webhook_deliveries_total{event="webhook.test",result="delivered"} 1`)
			if spans, _ := recv.received(); len(spans) != 0 {
				t.Fatalf("%d spans arrived before the shutdown; the test cannot tell the flush works", len(spans))
			}

			p.cancel()
			var spans []*tracepb.Span
			var services []string
			byName := map[string][]*tracepb.Span{}
			for deadline := time.Now().Add(30 * time.Second); ; {
				spans, services = recv.received()
				clear(byName)
				for _, s := range spans {
					byName[s.Name] = append(byName[s.Name], s)
				}
				if len(byName["GET /leads/{id}"]) > 0 && len(byName["river.work/webhook_deliver"]) > 0 {
					break
				}
				if time.Now().After(deadline) {
					names := make([]string, 0, len(byName))
					for n := range byName {
						names = append(names, n)
					}
					t.Fatalf("after the shutdown the receiver holds %d spans, named %q; want GET /leads/{id} and river.work/webhook_deliver", len(spans), names)
				}
				time.Sleep(50 * time.Millisecond)
			}
			for _, s := range services {
				if s != "crm-under-test" {
					t.Errorf("a resource's service.name = %q, want OTEL_SERVICE_NAME's crm-under-test", s)
				}
			}
			children := func(parent *tracepb.Span, system string) []*tracepb.Span {
				var out []*tracepb.Span
				for _, s := range spans {
					if spanID(s.TraceId) == spanID(parent.TraceId) && spanID(s.ParentSpanId) == spanID(parent.SpanId) &&
						(system == "" || attr(s.Attributes, "db.system.name") == system) {
						out = append(out, s)
					}
				}
				return out
			}

			get := byName["GET /leads/{id}"][0]
			if get.Kind != tracepb.Span_SPAN_KIND_SERVER || attr(get.Attributes, "http.route") != "/leads/{id}" ||
				attr(get.Attributes, "http.response.status_code") != "200" {
				t.Errorf("the read's span: kind %s, http.route %q, status %q; want a server span, /leads/{id}, 200",
					get.Kind, attr(get.Attributes, "http.route"), attr(get.Attributes, "http.response.status_code"))
			}
			job := byName["river.work/webhook_deliver"][0]
			if job.Kind != tracepb.Span_SPAN_KIND_CONSUMER || attr(job.Attributes, "kind") != "webhook_deliver" {
				t.Errorf("the job's span: kind %s, job kind %q", job.Kind, attr(job.Attributes, "kind"))
			}
			if kind == "postgres" {
				dbs := children(get, "postgresql")
				if len(dbs) == 0 {
					t.Errorf("no database span is a child of the read's span (trace %s)", spanID(get.TraceId))
				}
				for _, s := range dbs {
					if s.Kind != tracepb.Span_SPAN_KIND_CLIENT {
						t.Errorf("database span %s is of kind %s, want client", s.Name, s.Kind)
					}
				}
				if len(children(job, "postgresql")) == 0 {
					t.Errorf("no database span is a child of the job's span")
				}
			}
			var ai *tracepb.Span
			for _, s := range byName["ai.score"] {
				ai = s
			}
			if ai == nil {
				t.Fatal("no ai.score span")
			}
			analyze := byName["POST /leads/{id}/analyze"]
			if len(analyze) == 0 || spanID(ai.ParentSpanId) != spanID(analyze[0].SpanId) {
				t.Errorf("the AI call's span is not a child of its request's")
			}
			if attr(ai.Attributes, "gen_ai.request.model") != "baseline-v1" || attr(ai.Attributes, "gen_ai.usage.input_tokens") != "0" ||
				attr(ai.Attributes, "gen_ai.provider.name") != "baseline" {
				t.Errorf("the AI span's attributes: %v", ai.Attributes)
			}
		})
	}
}
