package web

import "context"

type settingsResponse struct {
	Body struct {
		BusinessDomains  []string `json:"business_domains" doc:"The catalog a lead's business_domain is chosen from"`
		TransferMinScore float64  `json:"transfer_min_score" doc:"The transfer threshold (CRM_TRANSFER_MIN_SCORE)"`
	}
}

func settingsResult(d Deps, domains []string, err error) (*settingsResponse, error) {
	if err != nil {
		return nil, err
	}
	out := &settingsResponse{}
	out.Body.BusinessDomains, out.Body.TransferMinScore = domains, d.Leads.MinScore()
	return out, nil
}

func handleSettingsGet(d Deps) func(context.Context, *struct{}) (*settingsResponse, error) {
	return func(ctx context.Context, _ *struct{}) (*settingsResponse, error) {
		domains, err := d.Leads.Domains(ctx)
		return settingsResult(d, domains, err)
	}
}

type settingsInput struct {
	Body struct {
		BusinessDomains []string `json:"business_domains" minItems:"1" maxItems:"100" doc:"Replaces the catalog; leads keep the domain they have"`
	}
}

func handleSettingsUpdate(d Deps) func(context.Context, *settingsInput) (*settingsResponse, error) {
	return func(ctx context.Context, in *settingsInput) (*settingsResponse, error) {
		domains, err := d.Leads.SetDomains(ctx, in.Body.BusinessDomains)
		return settingsResult(d, domains, err)
	}
}
