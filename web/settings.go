package web

import (
	"context"

	"github.com/crmleads/crm"
)

type settingsResponse struct {
	Body struct {
		BusinessDomains  []string `json:"business_domains" doc:"The catalog a lead's business_domain is chosen from"`
		TransferMinScore float64  `json:"transfer_min_score" doc:"The transfer threshold (CRM_TRANSFER_MIN_SCORE)"`
		TransferGate     string   `json:"transfer_gate" enum:"raw,calibrated" doc:"Which score the threshold applies to: the AI's raw score (default) or the calibrated one, where a lead's analysis has one"`
		DefaultCurrency  string   `json:"default_currency" doc:"ISO 4217: the currency of a deal value given without one"`
		LostReasons      []string `json:"lost_reasons" doc:"The reasons the app offers when a lead is lost (free text is accepted too)"`
	}
}

func settingsResult(ctx context.Context, d Deps, domains []string, err error) (*settingsResponse, error) {
	if err != nil {
		return nil, err
	}
	out := &settingsResponse{}
	out.Body.BusinessDomains, out.Body.TransferMinScore = domains, d.Leads.MinScore()
	if out.Body.TransferGate, err = d.Leads.TransferGate(ctx); err != nil {
		return nil, err
	}
	if out.Body.DefaultCurrency, err = d.Leads.DefaultCurrency(ctx); err != nil {
		return nil, err
	}
	if out.Body.LostReasons, err = d.Leads.LostReasonOptions(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

func handleSettingsGet(d Deps) func(context.Context, *struct{}) (*settingsResponse, error) {
	return func(ctx context.Context, _ *struct{}) (*settingsResponse, error) {
		domains, err := d.Leads.Domains(ctx)
		return settingsResult(ctx, d, domains, err)
	}
}

type pipelineSettingsInput struct {
	Body struct {
		DefaultCurrency *string  `json:"default_currency,omitempty" maxLength:"3" doc:"ISO 4217"`
		LostReasons     []string `json:"lost_reasons,omitempty" maxItems:"30" doc:"Replaces the list offered when a lead is lost"`
	}
}

func handlePipelineSettings(d Deps) func(context.Context, *pipelineSettingsInput) (*settingsResponse, error) {
	return func(ctx context.Context, in *pipelineSettingsInput) (*settingsResponse, error) {
		if err := d.Leads.SetPipelineSettings(ctx, crm.PipelineSettings{DefaultCurrency: in.Body.DefaultCurrency,
			LostReasons: in.Body.LostReasons}); err != nil {
			return nil, err
		}
		domains, err := d.Leads.Domains(ctx)
		return settingsResult(ctx, d, domains, err)
	}
}

type settingsInput struct {
	Body struct {
		BusinessDomains []string `json:"business_domains,omitempty" minItems:"1" maxItems:"100" doc:"Replaces the catalog; leads keep the domain they have"`
		TransferGate    string   `json:"transfer_gate,omitempty" enum:"raw,calibrated" doc:"Switches the score the transfer gate uses (audited)"`
	}
}

func handleSettingsUpdate(d Deps) func(context.Context, *settingsInput) (*settingsResponse, error) {
	return func(ctx context.Context, in *settingsInput) (*settingsResponse, error) {
		b := in.Body
		if b.BusinessDomains == nil && b.TransferGate == "" {
			return nil, crm.Invalid(crm.FieldError{Field: "business_domains", Message: "is required unless transfer_gate is set"})
		}
		var (
			domains []string
			err     error
		)
		if b.BusinessDomains != nil {
			if domains, err = d.Leads.SetDomains(ctx, b.BusinessDomains); err != nil {
				return nil, err
			}
		}
		if b.TransferGate != "" {
			if _, err = d.Leads.SetTransferGate(ctx, b.TransferGate); err != nil {
				return nil, err
			}
		}
		if domains == nil {
			domains, err = d.Leads.Domains(ctx)
		}
		return settingsResult(ctx, d, domains, err)
	}
}
