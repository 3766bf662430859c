package ui_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/storetest"
)

// upload posts the import form as a browser sends it: csrf first, then the
// options, then the file.
func (c *client) upload(fields [][2]string, name, file string) page {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		_ = mw.WriteField(f[0], f[1])
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write([]byte(file))
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", c.base+"/app/imports", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// TestImportPages: the upload streams the file into an import (the csrf
// field first, or 403), the preview page shows the broken file's row errors
// by row and field in the user's language, the progress JSON follows it, a
// new mapping checks again, the commit writes the valid rows; another
// manager's import is the 404 page; a file that is not CSV comes back with
// the reason.
func TestImportPages(t *testing.T) {
	b := setup(t)
	c := b.client(t)
	c.login(b.alice.Email)
	broken, err := os.ReadFile("../testdata/import/broken.csv")
	if err != nil {
		t.Fatal(err)
	}
	checkPage(t, c.get("/app/imports"), 200)
	if p := c.upload([][2]string{{"source", "manual"}, {"csrf", c.csrf()}}, "broken.csv", string(broken)); p.status != 403 {
		t.Errorf("csrf after another field: %d, want 403", p.status)
	}
	if p := c.upload([][2]string{{"csrf", "forged"}}, "broken.csv", string(broken)); p.status != 403 {
		t.Errorf("a forged csrf: %d, want 403", p.status)
	}
	p := c.upload([][2]string{{"csrf", c.csrf()}, {"source", ""}}, "broken.csv", string(broken))
	loc := p.header.Get("Location")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/app/imports/") {
		t.Fatalf("upload: %d %q\n%s", p.status, loc, p.body)
	}
	id := strings.TrimPrefix(loc, "/app/imports/")
	page := c.get(loc)
	checkPage(t, page, 200)
	if !strings.Contains(page.body, `data-import-progress="/app/imports/`+id+`/progress"`) || !strings.Contains(page.body, `id="import-refresh"`) {
		t.Error("a previewing import's page neither polls nor offers a refresh")
	}
	storetest.DriveImport(t, b.svc, b.store, id)
	var prog struct {
		Status string `json:"status"`
		Valid  int    `json:"valid"`
		Bar    int    `json:"bar"`
		Max    int    `json:"max"`
		Text   string `json:"text"`
	}
	if err := json.Unmarshal([]byte(c.get(loc+"/progress").body), &prog); err != nil || prog.Status != "ready" || prog.Valid != 3 || prog.Bar != 10 || prog.Max != 10 {
		t.Errorf("progress JSON: %+v, %v", prog, err)
	}
	c.lang = "uk"
	page = c.get(loc)
	checkPage(t, page, 200)
	for _, want := range []string{"<td>2</td><td>Електронна пошта</td>", "<td>3</td><td>Джерело</td>", "<td>6</td><td>Повідомлення</td><td>має бути цілим числом</td>",
		"<td>7</td><td>Електронна пошта</td><td>схожий на рядок 1 цього файлу</td>", `id="import-commit"`, `<option value="email" selected>`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the Ukrainian preview lacks %q", want)
		}
	}
	c.lang = ""
	// Another manager's import is the 404 page, as an unknown one.
	o := b.client(t)
	o.login(b.bob.Email)
	if p := o.get(loc); p.status != 404 {
		t.Errorf("another manager's import: %d, want 404", p.status)
	}
	if p := o.post(loc+"/commit", url.Values{}); p.status != 404 {
		t.Errorf("another manager commits it: %d, want 404", p.status)
	}
	// Ignore the note column: checked again.
	form := url.Values{}
	for i, f := range []string{"name", "email", "phone", "company", "source", "business_domain", "messages_count", ""} {
		form.Set("col"+string(rune('1'+i)), f)
	}
	if p := c.post(loc+"/mapping", form); p.status != http.StatusSeeOther {
		t.Fatalf("mapping: %d", p.status)
	}
	if im := storetest.DriveImport(t, b.svc, b.store, id); im.Mapping[7] != "" || im.Status != crm.ImportReady {
		t.Errorf("after the mapping: %+v", im)
	}
	if p := c.post(loc+"/commit", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("commit: %d", p.status)
	}
	if im := storetest.DriveImport(t, b.svc, b.store, id); im.Status != crm.ImportDone || im.Imported != 3 {
		t.Errorf("after the commit: %s, %d imported", im.Status, im.Imported)
	}
	page = c.get(loc)
	checkPage(t, page, 200)
	if strings.Contains(page.body, "data-import-progress") || strings.Contains(page.body, `id="import-cancel"`) {
		t.Error("a done import still polls or offers to cancel")
	}
	// Not CSV: back to the form with the reason.
	p = c.upload([][2]string{{"csrf", c.csrf()}}, "x.csv", "name\n\xff\n")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/imports" {
		t.Fatalf("a file that is not UTF-8: %d %q", p.status, p.header.Get("Location"))
	}
	if page := c.get("/app/imports"); !strings.Contains(page.body, "This file cannot be imported: line 2 is not UTF-8 text") {
		t.Errorf("the refusal is not shown:\n%s", page.body)
	}
}

// TestBrowserImportProgress: in headless Chromium the import page's bar
// follows the preview without a reload (a mark left on the page survives
// while the bar moves), and the page reloads once the preview is over, to
// show the new state's buttons.
func TestBrowserImportProgress(t *testing.T) {
	ctx := browser(t, 2*time.Minute)
	b := setup(t)
	s := &steps{t: t, ctx: ctx, url: b.baseURL}
	// One batch per run, so the preview can be stopped half way.
	svc := crm.NewServices(crm.Config{Store: b.store, Hasher: storetest.Hasher{}, Domains: storetest.Domains, ImportSlice: -1})
	var sb strings.Builder
	sb.WriteString("source,email\n")
	for i := range crm.ImportBatch + 10 {
		fmt.Fprintf(&sb, "partner,p%d@example.com\n", i)
	}
	im, err := svc.Imports.Start(as(b.alice), crm.ImportInput{FileName: "progress.csv"}, strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	s.signIn(b.alice.Email)
	s.open("/app/imports/" + im.ID)
	s.wantText("#import-status", "Checking")
	s.eval(`window.crmMark = "kept"; "ok"`)
	job := crm.ImportJob{ImportID: im.ID, Phase: crm.PhasePreview}
	if _, err := svc.Imports.Run(t.Context(), job); err != nil { // the first batch
		t.Fatal(err)
	}
	waitFor := func(js, want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for s.eval(js) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s never became %q (is %q)", js, want, s.eval(js))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The page reloads itself when the import's status changes: while it
	// does, the elements are briefly missing, so each probe allows for that.
	waitFor(`(function () { var b = document.getElementById("import-bar"); return b ? String(b.value) : "" })()`, strconv.Itoa(crm.ImportBatch))
	if got := s.eval(`String(window.crmMark)`); got != "kept" {
		t.Fatalf("the page reloaded while the bar moved (mark %q)", got)
	}
	storetest.DriveImport(t, svc, b.store, im.ID)
	waitFor(`(function () { var e = document.getElementById("import-status"); return e ? e.dataset.status + (document.getElementById("import-commit") ? " commit" : "") : "" })()`, "ready commit")
}
