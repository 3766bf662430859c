// Package export writes the CSV exports of leads and sales, the one writer
// behind the API's GET /leads/export and /sales/export and the pages' export
// buttons.
package export

import (
	"context"
	"encoding/csv"
	"io"

	"github.com/crmleads/crm"
)

// Format is how an export is written: comma-separated unless Semicolon (Excel
// in locales that use it), with a UTF-8 BOM first when BOM (so Excel reads
// UTF-8).
type Format struct {
	BOM       bool
	Semicolon bool
}

// Leads writes the header and every lead of f the actor may see, a page at a
// time as they are read (constant memory), flushing after each page.
func Leads(ctx context.Context, w io.Writer, leads *crm.LeadService, f crm.LeadFilter, ft Format) error {
	cw := start(w, ft, crm.LeadColumns)
	n := 0
	err := leads.EachLead(ctx, f, func(l *crm.Lead) error {
		if n++; n%crm.MaxPageSize == 0 {
			cw.Flush()
		}
		return cw.Write(l.CSVRecord())
	})
	return finish(cw, err)
}

// Sales is Leads for sales.
func Sales(ctx context.Context, w io.Writer, leads *crm.LeadService, f crm.SaleFilter, ft Format) error {
	cw := start(w, ft, crm.SaleColumns)
	n := 0
	err := leads.EachSale(ctx, f, func(s *crm.Sale) error {
		if n++; n%crm.MaxPageSize == 0 {
			cw.Flush()
		}
		return cw.Write(s.CSVRecord())
	})
	return finish(cw, err)
}

// Check reads one row of f before an answer starts, so a bad filter can
// still be answered with an error rather than a file cut short.
func Check(ctx context.Context, leads *crm.LeadService, f crm.LeadFilter) error {
	f.Limit = 1
	_, _, err := leads.Leads(ctx, f)
	return err
}

// CheckSales is Check for sales.
func CheckSales(ctx context.Context, leads *crm.LeadService, f crm.SaleFilter) error {
	f.Limit = 1
	_, _, err := leads.Sales(ctx, f)
	return err
}

func start(w io.Writer, ft Format, header []string) *csv.Writer {
	if ft.BOM {
		_, _ = io.WriteString(w, "\ufeff")
	}
	cw := csv.NewWriter(w)
	if ft.Semicolon {
		cw.Comma = ';'
	}
	_ = cw.Write(header)
	return cw
}

func finish(cw *csv.Writer, err error) error {
	cw.Flush()
	if err != nil {
		return err
	}
	return cw.Error()
}
