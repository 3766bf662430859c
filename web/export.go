package web

import (
	"context"
	"io"

	"github.com/danielgtaylor/huma/v2"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/export"
	"github.com/crmleads/crm/internal/request"
)

type leadExportInput struct {
	Stage      string `query:"stage" enum:"new,contacted,qualified,transferred,lost"`
	Source     string `query:"source" enum:"scanner,partner,manual"`
	OwnerID    string `query:"owner_id"`
	Q          string `query:"q" maxLength:"200" doc:"As in GET /leads"`
	Sort       string `query:"sort" doc:"As in GET /leads"`
	NoNextStep bool   `query:"no_next_step"`
	BOM        bool   `query:"bom" doc:"Start with a UTF-8 byte-order mark (for Excel)"`
	Sep        string `query:"sep" enum:"comma,semicolon" default:"comma" doc:"Field separator: semicolon for Excel in locales that use it (uk, de, …)"`
}

type saleExportInput struct {
	Stage   string `query:"stage" enum:"new,kyc,agreement,paid,lost"`
	OwnerID string `query:"owner_id"`
	Sort    string `query:"sort" doc:"As in GET /sales"`
	BOM     bool   `query:"bom" doc:"Start with a UTF-8 byte-order mark (for Excel)"`
	Sep     string `query:"sep" enum:"comma,semicolon" default:"comma" doc:"Field separator: semicolon for Excel in locales that use it (uk, de, …)"`
}

// csvResponse documents an export's answer: a CSV file.
func csvResponse(what string) func(*huma.Operation) {
	return func(op *huma.Operation) {
		op.Responses = map[string]*huma.Response{"200": {
			Description: "The " + what + " as CSV (RFC 4180), a header row of the import's column names first; " +
				"cells starting with =, +, - or @ carry a leading ' (CSV-injection defence, undone by the import)",
			Content: map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: "string"}}},
		}}
	}
}

// streamCSV writes the file write produces as it is read. The filter was
// checked before the answer started; an error after it (a database outage
// mid-file) can only cut the file short, and is logged.
func streamCSV(ctx context.Context, name string, write func(w io.Writer) error) *huma.StreamResponse {
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		hctx.SetHeader("Content-Type", "text/csv; charset=utf-8")
		hctx.SetHeader("Content-Disposition", `attachment; filename="`+name+`"`)
		hctx.SetStatus(200)
		if err := write(hctx.BodyWriter()); err != nil {
			request.NoteError(ctx, err)
		}
	}}
}

func format(bom bool, sep string) export.Format {
	return export.Format{BOM: bom, Semicolon: sep == "semicolon"}
}

func handleLeadExport(d Deps) func(context.Context, *leadExportInput) (*huma.StreamResponse, error) {
	return func(ctx context.Context, in *leadExportInput) (*huma.StreamResponse, error) {
		srt, err := crm.ParseSort(in.Sort, crm.LeadSortKeys)
		if err != nil {
			return nil, err
		}
		f := crm.LeadFilter{Stage: crm.LeadStage(in.Stage), Source: crm.Source(in.Source), OwnerID: in.OwnerID,
			Q: in.Q, NoNextStep: in.NoNextStep, Sort: srt}
		if err := export.Check(ctx, d.Leads, f); err != nil {
			return nil, err
		}
		return streamCSV(ctx, "leads.csv", func(w io.Writer) error {
			return export.Leads(ctx, w, d.Leads, f, format(in.BOM, in.Sep))
		}), nil
	}
}

func handleSaleExport(d Deps) func(context.Context, *saleExportInput) (*huma.StreamResponse, error) {
	return func(ctx context.Context, in *saleExportInput) (*huma.StreamResponse, error) {
		srt, err := crm.ParseSort(in.Sort, crm.SaleSortKeys)
		if err != nil {
			return nil, err
		}
		f := crm.SaleFilter{Stage: crm.SaleStage(in.Stage), OwnerID: in.OwnerID, Sort: srt}
		if err := export.CheckSales(ctx, d.Leads, f); err != nil {
			return nil, err
		}
		return streamCSV(ctx, "sales.csv", func(w io.Writer) error {
			return export.Sales(ctx, w, d.Leads, f, format(in.BOM, in.Sep))
		}), nil
	}
}
