package web

import (
	"context"
	"net/url"
	"strconv"

	"github.com/crmleads/crm"
)

type saleListInput struct {
	Stage   string `query:"stage" enum:"new,kyc,agreement,paid,lost"`
	OwnerID string `query:"owner_id" doc:"The owner of the sale's lead"`
	Sort    string `query:"sort" doc:"created_at, updated_at, stage or amount; a leading - sorts descending. Default: newest first"`
	Limit   int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
	Cursor  string `query:"cursor"`
}

type saleListResponse struct {
	Link string `header:"Link"`
	Body []Sale
}

func handleSaleList(d Deps) func(context.Context, *saleListInput) (*saleListResponse, error) {
	return func(ctx context.Context, in *saleListInput) (*saleListResponse, error) {
		srt, err := crm.ParseSort(in.Sort, crm.SaleSortKeys)
		if err != nil {
			return nil, err
		}
		sales, next, err := d.Leads.Sales(ctx, crm.SaleFilter{Stage: crm.SaleStage(in.Stage),
			OwnerID: in.OwnerID, Sort: srt, After: in.Cursor, Limit: in.Limit})
		if err != nil {
			return nil, err
		}
		out := &saleListResponse{Body: make([]Sale, len(sales))}
		for i, s := range sales {
			out.Body[i] = saleOut(s)
		}
		out.Link = nextLink("/sales", url.Values{"stage": {in.Stage}, "owner_id": {in.OwnerID}, "sort": {in.Sort},
			"limit": {strconv.Itoa(in.Limit)}}, next)
		return out, nil
	}
}

func handleSaleGet(d Deps) func(context.Context, *idPath) (*saleResponse, error) {
	return func(ctx context.Context, in *idPath) (*saleResponse, error) {
		return saleResult(d.Leads.Sale(ctx, in.ID))
	}
}

type saleStageInput struct {
	ID   string `path:"id"`
	Body struct {
		Stage string `json:"stage" enum:"new,kyc,agreement,paid,lost"`
	}
}

func handleSaleStage(d Deps) func(context.Context, *saleStageInput) (*saleResponse, error) {
	return func(ctx context.Context, in *saleStageInput) (*saleResponse, error) {
		return saleResult(d.Leads.MoveSale(ctx, in.ID, crm.SaleStage(in.Body.Stage)))
	}
}
