package tracing

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// QueryTracer returns a pgx tracer that makes a client span of each statement
// and each batch (the store pipelines its writes as batches) run within a
// span, or nil when tracing is off, so pgx calls nothing at all. No
// OpenTelemetry module for pgx is in the module list this project draws from;
// the tracer is small enough to keep here.
func (t *Tracing) QueryTracer() pgx.QueryTracer {
	if !t.Enabled() {
		return nil
	}
	return &pgxTracer{tracer: t.provider.Tracer("github.com/crmleads/crm/postgres")}
}

type pgxTracer struct{ tracer trace.Tracer }

var (
	_ pgx.QueryTracer = (*pgxTracer)(nil)
	_ pgx.BatchTracer = (*pgxTracer)(nil)
)

// spanKey marks a context that carries a span this tracer started, so that
// the end hook never ends a span it did not start (the request's own, when
// the start hook made none).
type spanKey struct{}

func (p *pgxTracer) start(ctx context.Context, conn *pgx.Conn, name string, attrs ...attribute.KeyValue) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx // outside any traced operation: River's polling, the pool's pings
	}
	attrs = append(attrs, semconv.DBSystemNamePostgreSQL)
	if conn != nil {
		attrs = append(attrs, semconv.DBNamespace(conn.Config().Database))
	}
	ctx, span := p.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return context.WithValue(ctx, spanKey{}, span)
}

func end(ctx context.Context, err error) {
	span, ok := ctx.Value(spanKey{}).(trace.Span)
	if !ok {
		return
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// operation is the statement's first keyword (SELECT, INSERT, WITH…), the
// span's name: low in cardinality, as span names should be.
func operation(sql string) string {
	sql = strings.TrimSpace(sql)
	if i := strings.IndexAny(sql, " \t\n("); i > 0 {
		sql = sql[:i]
	}
	if len(sql) > 20 {
		sql = sql[:20]
	}
	return strings.ToUpper(sql)
}

func (p *pgxTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	op := operation(data.SQL)
	// The text without its arguments: parameters carry the data.
	return p.start(ctx, conn, op, semconv.DBOperationName(op), semconv.DBQueryText(data.SQL))
}

func (p *pgxTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	end(ctx, data.Err)
}

func (p *pgxTracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	n := 0
	if data.Batch != nil {
		n = data.Batch.Len()
	}
	return p.start(ctx, conn, "BATCH", semconv.DBOperationName("BATCH"), semconv.DBOperationBatchSize(n))
}

// TraceBatchQuery records each statement of the batch as an event of its span.
func (p *pgxTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	span, ok := ctx.Value(spanKey{}).(trace.Span)
	if !ok {
		return
	}
	attrs := []attribute.KeyValue{semconv.DBQueryText(data.SQL)}
	if data.Err != nil {
		attrs = append(attrs, attribute.String("error", data.Err.Error()))
	}
	span.AddEvent("query", trace.WithAttributes(attrs...))
}

func (p *pgxTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	end(ctx, data.Err)
}
