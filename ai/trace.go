package ai

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/crmleads/crm"
)

// Traced wraps a scorer so that every call is a client span with the model,
// the tokens billed and the cost, following OpenTelemetry's gen_ai
// conventions. Only the facts' names are recorded, never a lead's data. With
// a nil tracer (tracing off) it returns s itself.
func Traced(s crm.Scorer, tracer trace.Tracer) crm.Scorer {
	if s == nil || tracer == nil {
		return s
	}
	return tracedScorer{next: s, tracer: tracer}
}

type tracedScorer struct {
	next   crm.Scorer
	tracer trace.Tracer
}

func (t tracedScorer) Score(ctx context.Context, f crm.Facts) (crm.Score, crm.Call, error) {
	ctx, span := t.tracer.Start(ctx, "ai.score", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.GenAIOperationNameKey.String("chat")))
	defer span.End()
	score, call, err := t.next.Score(ctx, f)
	provider := call.Provider
	if provider == ProviderClaude {
		provider = "anthropic" // the conventions' name for the provider
	}
	span.SetAttributes(semconv.GenAIProviderNameKey.String(provider), semconv.GenAIRequestModel(call.Model),
		semconv.GenAIUsageInputTokens(call.InputTokens), semconv.GenAIUsageOutputTokens(call.OutputTokens),
		attribute.String("crm.ai.prompt_version", call.PromptVersion), attribute.Float64("crm.ai.cost_usd", call.CostUSD))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, crm.ErrorCode(err))
	}
	return score, call, err
}
