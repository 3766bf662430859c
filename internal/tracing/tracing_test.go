package tracing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/trace/noop"

	"github.com/crmleads/crm/internal/tracing"
)

// TestOff: without an endpoint nothing is set up: the provider is the no-op
// one, the HTTP handler comes back unwrapped, pgx gets no tracer, so the
// service pays nothing for tracing it does not use.
func TestOff(t *testing.T) {
	tr, err := tracing.New(context.Background(), tracing.Config{ServiceName: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() {
		t.Error("tracing is on without an endpoint")
	}
	if _, ok := tr.Provider().(noop.TracerProvider); !ok {
		t.Errorf("the provider is a %T, want the no-op one", tr.Provider())
	}
	mux := http.NewServeMux()
	if h := tr.Handler(mux); h != http.Handler(mux) {
		t.Errorf("the handler is wrapped (%T) with tracing off", h)
	}
	if q := tr.QueryTracer(); q != nil {
		t.Errorf("pgx gets a tracer (%T) with tracing off", q)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestOn: with an endpoint the handler is wrapped and pgx gets a tracer.
func TestOn(t *testing.T) {
	tr, err := tracing.New(context.Background(), tracing.Config{Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if !tr.Enabled() || tr.Handler(mux) == http.Handler(mux) || tr.QueryTracer() == nil {
		t.Error("with an endpoint, tracing is not on everywhere")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // nothing was recorded; do not wait for the absent collector
	_ = tr.Shutdown(ctx)
}

func TestURL(t *testing.T) {
	for _, c := range []struct {
		cfg     tracing.Config
		want    string
		wantErr bool
	}{
		{tracing.Config{Endpoint: "http://collector:4318"}, "http://collector:4318/v1/traces", false},
		{tracing.Config{Endpoint: "https://collector:4318/otlp/"}, "https://collector:4318/otlp/v1/traces", false},
		{tracing.Config{Endpoint: "http://a:4318", TracesEndpoint: "http://b:4318/custom"}, "http://b:4318/custom", false},
		{tracing.Config{Endpoint: "collector:4318"}, "", true},
		{tracing.Config{TracesEndpoint: "ftp://x/v1/traces"}, "", true},
	} {
		got, err := c.cfg.URL()
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("%+v: URL() = %q, %v; want %q (error %v)", c.cfg, got, err, c.want, c.wantErr)
		}
	}
}

// BenchmarkHandler measures what tracing adds to a request: off, the
// handler is the bare one; on, otelhttp and a recorded span (exported in
// batches, not within the request).
func BenchmarkHandler(b *testing.B) {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer collector.Close()
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, c := range []struct {
		name string
		cfg  tracing.Config
	}{{"off", tracing.Config{}}, {"on", tracing.Config{Endpoint: collector.URL}}} {
		b.Run(c.name, func(b *testing.B) {
			tr, err := tracing.New(context.Background(), c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Shutdown(context.Background())
			h := tr.Handler(inner)
			req := httptest.NewRequest("GET", "/leads/1", nil)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
