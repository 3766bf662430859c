package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

// readCSV parses an export, failing the test when it is not CSV.
func readCSV(t *testing.T, r response, sep rune) [][]string {
	t.Helper()
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %s (%s)", r, r.Header.Get("Content-Type"))
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\ufeff"))))
	cr.Comma = sep
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, r.Body)
	}
	return rows
}

// TestExport: GET /leads/export streams every visible lead as CSV with the
// import's headers, over more than one page; formulas are neutralised (and
// undone by UnneutralizeCell); quoted newlines, commas and Ukrainian text
// survive; ?bom and ?sep=semicolon; the list's filters and sort apply; a
// manager exports only their own. Both stores.
func TestExport(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		mgr := crm.WithActor(context.Background(), crm.Actor{UserID: e.mgr.ID, Role: crm.RoleManager})
		tricky := []crm.LeadInput{
			{Source: crm.SourceManual, Name: "=HYPERLINK(\"http://evil\")", Phone: "+380501234567"},
			{Source: crm.SourcePartner, Name: "@SUM(A1)", Company: "-2+3", Note: "рядок один,\n\"рядок\" два"},
			{Source: crm.SourceScanner, Name: "Олена Коваль", Email: "olena@example.com"},
		}
		want := map[string]crm.LeadInput{}
		for _, in := range tricky {
			in.AllowDuplicate = true
			l, err := e.svc.Leads.CreateLead(mgr, in)
			if err != nil {
				t.Fatal(err)
			}
			want[l.ID] = in
		}
		for range crm.MaxPageSize + 1 { // more than one page of the walk
			if _, err := e.svc.Leads.CreateLead(mgr, crm.LeadInput{Source: crm.SourceManual, AllowDuplicate: true}); err != nil {
				t.Fatal(err)
			}
		}
		e.createLead(e.other, map[string]any{"source": "manual", "name": "Not yours"})

		r := e.do("GET", "/leads/export", e.mgr.Token, nil)
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control %q", got)
		}
		rows := readCSV(t, r, ',')
		if !slices.Equal(rows[0], crm.LeadColumns) {
			t.Fatalf("header %v, want %v", rows[0], crm.LeadColumns)
		}
		if n := len(rows) - 1; n != len(tricky)+crm.MaxPageSize+1 {
			t.Errorf("%d rows, want %d (the manager's own, every page)", n, len(tricky)+crm.MaxPageSize+1)
		}
		col := func(name string) int { return slices.Index(crm.LeadColumns, name) }
		seen := map[string]bool{}
		for _, row := range rows[1:] {
			if seen[row[0]] {
				t.Errorf("lead %s exported twice", row[0])
			}
			seen[row[0]] = true
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("cell %q starts a formula", cell)
				}
			}
			in, ok := want[row[0]]
			if !ok {
				continue
			}
			for name, v := range map[string]string{"name": in.Name, "phone": in.Phone, "company": in.Company, "note": in.Note, "email": in.Email} {
				if got := crm.UnneutralizeCell(row[col(name)]); got != v {
					t.Errorf("%s: %q, want %q", name, got, v)
				}
			}
		}
		if row := rows[1:][0]; row[col("name")] == "Not yours" {
			t.Error("another's lead exported")
		}

		// BOM and semicolons.
		r = e.do("GET", "/leads/export?bom=true&sep=semicolon&source=partner", e.mgr.Token, nil)
		if !bytes.HasPrefix(r.Body, []byte("\ufeff")) {
			t.Error("no BOM with bom=true")
		}
		rows = readCSV(t, r, ';')
		if len(rows) != 2 || rows[1][col("source")] != "partner" {
			t.Errorf("source=partner with semicolons: %v", rows)
		}
		// Sort by name: the named leads in order, ascending.
		rows = readCSV(t, e.do("GET", "/leads/export?sort=-name&q=%D0%9E%D0%BB%D0%B5%D0%BD%D0%B0", e.mgr.Token, nil), ',')
		if len(rows) != 2 || rows[1][col("name")] != "Олена Коваль" {
			t.Errorf("q=Олена: %v", rows)
		}
		// A senior manager sees everyone's.
		if n := len(readCSV(t, e.do("GET", "/leads/export", e.senior.Token, nil), ',')) - 1; n != len(tricky)+crm.MaxPageSize+2 {
			t.Errorf("senior manager exported %d leads, want %d", n, len(tricky)+crm.MaxPageSize+2)
		}
		// Bad filters are problems, not files.
		problemOf(t, e.do("GET", "/leads/export?sort=nonsense", e.mgr.Token, nil), http.StatusUnprocessableEntity)
		problemOf(t, e.do("GET", "/leads/export?q=%00", e.mgr.Token, nil), http.StatusUnprocessableEntity)
		problemOf(t, e.do("GET", "/leads/export", "", nil), http.StatusUnauthorized)

		// Sales: the manager's sale, with its value.
		l := e.eligibleLead(e.mgr, 0.8, "transfer_to_sales")
		e.must(201, "POST", "/leads/"+l.ID+"/transfer", e.mgr.Token, nil)
		rows = readCSV(t, e.do("GET", "/sales/export", e.mgr.Token, nil), ',')
		if !slices.Equal(rows[0], crm.SaleColumns) || len(rows) != 2 || rows[1][1] != l.ID {
			t.Errorf("sales export: %v", rows)
		}
		if rows := readCSV(t, e.do("GET", "/sales/export", e.other.Token, nil), ','); len(rows) != 1 {
			t.Errorf("another manager exported %d sales, want none", len(rows)-1)
		}
	})
}
