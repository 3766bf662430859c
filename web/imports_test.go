package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/storetest"
)

type importJSON struct {
	ID         string            `json:"id"`
	Status     string            `json:"status"`
	Total      int               `json:"total"`
	Valid      int               `json:"valid"`
	Invalid    int               `json:"invalid"`
	Duplicates int               `json:"duplicates"`
	Skipped    int               `json:"skipped"`
	Imported   int               `json:"imported"`
	Errors     []crm.ImportError `json:"errors"`
	Mapping    []struct {
		Column int    `json:"column"`
		Header string `json:"header"`
		Field  string `json:"field"`
	} `json:"mapping"`
	Separator string `json:"separator"`
	FileName  string `json:"file_name"`
}

type importedLead struct {
	Name, Email, Phone, Note, Source, Stage string
	BusinessDomain                          *string `json:"business_domain"`
}

var csvHeader = http.Header{"Content-Type": {"text/csv; charset=utf-8"}}

// uploadCSV posts a file as a text/csv body.
func (e *env) uploadCSV(want int, u user, query, file string) response {
	e.t.Helper()
	res := doReq(e.t, e.srv, "POST", "/imports"+query, u.Token, file, csvHeader)
	if res.Status != want {
		e.t.Fatalf("POST /imports%s: %s, want %d", query, res, want)
	}
	return res
}

// settle runs the import's jobs and returns it as GET /imports/{id} shows it.
func (e *env) settle(u user, id string) importJSON {
	e.t.Helper()
	storetest.DriveImport(e.t, e.svc, e.store, id)
	var im importJSON
	e.must(200, "GET", "/imports/"+id, u.Token, nil).decode(e.t, &im)
	return im
}

// TestImportBrokenFile: the deliberately broken file's preview names each
// bad row and field; a quoted newline does not start a record.
func TestImportBrokenFile(t *testing.T) {
	t.Parallel()
	file, err := os.ReadFile("../testdata/import/broken.csv")
	if err != nil {
		t.Fatal(err)
	}
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		var im importJSON
		e.uploadCSV(202, e.mgr, "?file_name=broken.csv", string(file)).decode(t, &im)
		im = e.settle(e.mgr, im.ID)
		want := []crm.ImportError{
			{Row: 2, Field: "email", Message: "must be an email address like name@example.com"},
			{Row: 3, Field: "source", Message: "must be one of scanner, partner, manual"},
			{Row: 4, Field: "business_domain", Message: "must be one of first, second, third"},
			{Row: 5, Field: "messages_count", Message: "must be between 0 and 1000000"},
			{Row: 6, Field: "messages_count", Message: "must be a whole number"},
			{Row: 7, Field: "email", Message: "possible duplicate of row 1 (same email)"},
			{Row: 8, Field: "name", Message: "must be at most 200 characters"},
		}
		if diff := cmp.Diff(want, im.Errors); diff != "" {
			t.Errorf("errors (-want +got):\n%s", diff)
		}
		if im.Status != "ready" || im.Total != 10 || im.Valid != 3 || im.Invalid != 6 || im.Duplicates != 1 || im.FileName != "broken.csv" {
			t.Errorf("preview: %+v", im)
		}
		e.must(202, "POST", "/imports/"+im.ID+"/commit", e.mgr.Token, nil)
		if im = e.settle(e.mgr, im.ID); im.Status != "done" || im.Imported != 3 {
			t.Fatalf("after the commit: %+v", im)
		}
		var leads []importedLead
		e.must(200, "GET", "/leads?limit=500", e.mgr.Token, nil).decode(t, &leads)
		byEmail := map[string]importedLead{}
		for _, l := range leads {
			byEmail[l.Email] = l
		}
		if l := byEmail["hanna@example.com"]; l.Phone != "+380501234567" || l.Note != "Перший рядок\nдругий рядок" || l.Name != "Ганна Коваль" {
			t.Errorf("row 1 as imported: %+v", l)
		}
		if l := byEmail["formula@example.com"]; l.Name != `=HYPERLINK("https://example.com")` {
			t.Errorf("row 9's name: %q", l.Name)
		}
		if l := byEmail["good@example.com"]; l.Note != `say "hi"` || l.Source != "scanner" || l.BusinessDomain == nil || *l.BusinessDomain != "second" {
			t.Errorf("row 10 as imported: %+v", l)
		}
	})
}

func TestImportAPI(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		// Excel in a Ukrainian locale: BOM, semicolons, CRLF, Ukrainian headers.
		file := "\ufeffДжерело;Ім’я;Електронна пошта;Стовпець\r\npartner;Олена;olena@example.com;x\r\n"
		res := e.uploadCSV(202, e.mgr, "", file)
		var im importJSON
		res.decode(t, &im)
		if loc := res.Header.Get("Location"); loc != "/imports/"+im.ID {
			t.Errorf("Location %q", loc)
		}
		if im.Separator != ";" || im.Status != "previewing" || im.Total != 1 {
			t.Errorf("upload: %+v", im)
		}
		im = e.settle(e.mgr, im.ID)
		var fields []string
		for _, m := range im.Mapping {
			fields = append(fields, m.Field)
		}
		if diff := cmp.Diff([]string{"source", "name", "email", ""}, fields); diff != "" || im.Mapping[3].Header != "Стовпець" {
			t.Errorf("mapping %+v (-want +got):\n%s", im.Mapping, diff)
		}
		// Map the fourth column to the note: previewing again.
		e.must(200, "PUT", "/imports/"+im.ID+"/mapping", e.mgr.Token, map[string]any{"mapping": []map[string]any{
			{"column": 1, "field": "source"}, {"column": 2, "field": "name"}, {"column": 3, "field": "email"}, {"column": 4, "field": "note"}}})
		e.must(422, "PUT", "/imports/"+im.ID+"/mapping", e.mgr.Token, map[string]any{"mapping": []map[string]any{{"column": 9, "field": "note"}}})
		e.must(422, "PUT", "/imports/"+im.ID+"/mapping", e.mgr.Token, map[string]any{"mapping": []map[string]any{
			{"column": 1, "field": "note"}, {"column": 2, "field": "note"}}})
		if im = e.settle(e.mgr, im.ID); im.Valid != 1 {
			t.Fatalf("after the mapping: %+v", im)
		}
		// Another manager's import answers as an unknown one.
		unknown := "0190a3b2-1c4d-7e5f-8a9b-0c1d2e3f4a5b"
		for _, path := range []string{"/imports/" + im.ID, "/imports/" + unknown} {
			problemOf(t, e.must(404, "GET", path, e.other.Token, nil), 404)
		}
		e.must(404, "POST", "/imports/"+im.ID+"/commit", e.other.Token, nil)
		e.must(202, "POST", "/imports/"+im.ID+"/commit", e.mgr.Token, nil)
		e.must(409, "POST", "/imports/"+im.ID+"/commit", e.mgr.Token, nil)
		if im = e.settle(e.mgr, im.ID); im.Status != "done" || im.Imported != 1 {
			t.Fatalf("after the commit: %+v", im)
		}
		e.must(409, "POST", "/imports/"+im.ID+"/cancel", e.mgr.Token, nil)
		e.must(409, "PUT", "/imports/"+im.ID+"/mapping", e.mgr.Token, map[string]any{"mapping": []map[string]any{}})

		// A multipart upload by a senior manager for a manager; cancelled.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("owner_id", e.mgr.ID)
		fw, _ := mw.CreateFormFile("file", "team.csv")
		_, _ = fw.Write([]byte("source,name\nmanual,Taras\nmanual,Ivan\n"))
		_ = mw.Close()
		res = doReq(t, e.srv, "POST", "/imports", e.senior.Token, buf.Bytes(), http.Header{"Content-Type": {mw.FormDataContentType()}})
		if res.Status != 202 {
			t.Fatalf("multipart upload: %s", res)
		}
		var up importJSON
		res.decode(t, &up)
		if up.FileName != "team.csv" || up.Total != 2 {
			t.Errorf("multipart upload: %+v", up)
		}
		e.must(200, "POST", "/imports/"+up.ID+"/cancel", e.senior.Token, nil)
		if got := e.settle(e.senior, up.ID); got.Status != "cancelled" || got.Imported != 0 {
			t.Errorf("cancelled: %+v", got)
		}
		var list []importJSON
		e.must(200, "GET", "/imports", e.mgr.Token, nil).decode(t, &list)
		if len(list) != 1 || list[0].ID != im.ID {
			t.Errorf("the manager lists %+v, want their one import", list)
		}
		e.must(200, "GET", "/imports", e.senior.Token, nil).decode(t, &list)
		if len(list) != 2 {
			t.Errorf("the senior manager lists %d imports, want 2", len(list))
		}

		// Refused: not UTF-8, not CSV, a manager for another owner, JSON.
		for _, bad := range []string{"source,name\nmanual,\xff\n", "source,name\nmanual,a\"b\n", ""} {
			p := problemOf(t, e.uploadCSV(422, e.mgr, "", bad), 422)
			if p.Code == nil || *p.Code != crm.CodeImportNotCSV {
				t.Errorf("%q: code %v", bad, p.Code)
			}
		}
		e.uploadCSV(403, e.mgr, "?owner_id="+e.other.ID, "source\nmanual\n")
		e.must(415, "POST", "/imports", e.mgr.Token, map[string]any{"source": "manual"})
		e.must(200, "GET", "/imports", e.mgr.Token, nil).decode(t, &list)
		if len(list) != 1 {
			t.Errorf("after the refused files the manager lists %d imports, want 1", len(list))
		}
	})
}
