// Package tracing sends OpenTelemetry traces over OTLP/HTTP when an endpoint
// is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and costs nothing when not: New then
// returns a Tracing that is off, whose provider is OpenTelemetry's no-op one,
// and whose wrappers (Handler, Scorer) return what they are given unwrapped;
// no exporter exists and no goroutine runs.
//
// What is traced when on: each HTTP request (a server span named by its route
// pattern, from otelhttp, with W3C trace context accepted from the caller),
// each PostgreSQL statement and batch made within a traced operation
// (QueryTracer, a pgx tracer; statements outside any span, River's own
// polling, are not traced, or an idle replica would export a span a second),
// each River job run (otelriver's middleware, wired by cmd/crmleads), and each
// AI scoring call (ai.Traced).
//
// The standard variables the OpenTelemetry SDK reads itself from the process
// environment apply as usual: OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT,
// _COMPRESSION, OTEL_TRACES_SAMPLER(_ARG), OTEL_RESOURCE_ATTRIBUTES,
// OTEL_BSP_*. The endpoint and the service name are passed in by the caller
// (read from the service's configuration, so the .env file may hold them).
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config says where traces go. Both endpoints empty: tracing is off.
type Config struct {
	// Endpoint is OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL,
	// to which /v1/traces is appended (http://collector:4318).
	Endpoint string
	// TracesEndpoint is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the full URL of
	// the traces receiver, used as is; it wins over Endpoint.
	TracesEndpoint string
	// ServiceName is OTEL_SERVICE_NAME (crmleads when empty).
	ServiceName string
	Version     string
}

// Enabled reports whether the configuration turns tracing on.
func (c Config) Enabled() bool { return c.Endpoint != "" || c.TracesEndpoint != "" }

// URL is where the exporter posts traces.
func (c Config) URL() (string, error) {
	raw, name := c.TracesEndpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	if raw == "" {
		raw, name = c.Endpoint, "OTEL_EXPORTER_OTLP_ENDPOINT"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: %q is not an http(s) URL like http://collector:4318", name, raw)
	}
	if c.TracesEndpoint == "" {
		// The specification's rule for the base endpoint: the signal's path
		// is appended to whatever path it has.
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	}
	return u.String(), nil
}

// Tracing is the process's tracer provider, on or off.
type Tracing struct {
	sdk      *sdktrace.TracerProvider // nil when off
	provider trace.TracerProvider
}

// New returns the tracing the configuration asks for: off (no-op, nothing
// started) without an endpoint; else an OTLP/HTTP exporter behind a batch
// span processor. It contacts nothing: a collector that is down costs
// dropped spans, not a failed start.
func New(ctx context.Context, c Config) (*Tracing, error) {
	if !c.Enabled() {
		return &Tracing{provider: noop.NewTracerProvider()}, nil
	}
	endpoint, err := c.URL()
	if err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("tracing: exporter: %w", err)
	}
	name := c.ServiceName
	if name == "" {
		name = "crmleads"
	}
	// resource.Default reads OTEL_RESOURCE_ATTRIBUTES; ours win over it.
	res, err := resource.Merge(resource.Default(), resource.NewWithAttributes(semconv.SchemaURL,
		semconv.ServiceName(name), semconv.ServiceVersion(c.Version)))
	if err != nil {
		// Only a conflict of schema URLs; keep ours rather than fail.
		res = resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(name), semconv.ServiceVersion(c.Version))
	}
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{sdk: sdk, provider: sdk}, nil
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t.sdk != nil }

// Provider is the tracer provider: the SDK's, or the no-op one.
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Tracer is the service's own tracer (for spans of its own making).
func (t *Tracing) Tracer() trace.Tracer { return t.provider.Tracer("github.com/crmleads/crm") }

// Handler wraps h in otelhttp's server instrumentation; off, it returns h
// itself. The span is named by its route pattern once the mux has chosen
// one: web's observe middleware renames it (otelhttp sees only the URL).
func (t *Tracing) Handler(h http.Handler) http.Handler {
	if !t.Enabled() {
		return h
	}
	return otelhttp.NewHandler(h, "http.server",
		otelhttp.WithTracerProvider(t.provider),
		// Metrics are Prometheus's (internal/metrics): none from otelhttp.
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if r.Pattern != "" {
				return r.Pattern
			}
			return r.Method
		}))
}

// Shutdown exports the spans still buffered and stops the exporter; off, it
// does nothing. Call it last, after the server and the job engine stopped, so
// their final spans go too.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.sdk.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}
