package ui

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/crmleads/crm"
)

// The Import CSV pages (every signed-in role: managers import leads they
// own): upload a file, read its preview (the counts, the row errors, the
// mapping, which can be changed), commit, cancel. The progress bar follows
// the import without a reload: imports.js polls this page's own JSON (the
// members of GET /imports/{id}, under the session); without the script, a
// refresh link shows the same.

type importsData struct {
	Imports []importView
	Sources []option
	Owners  []option // senior managers and admins only
	Limit   string
}

type importView struct {
	*crm.Import
	Bar, Max int // the progress bar's value and maximum
	Text     string
	Errors   []importErrorView
	Columns  []columnView
	Fields   []string
}

type importErrorView struct {
	Row            int
	Field, Message string
}

type columnView struct {
	Column  int
	Header  string
	Options []option
}

func (a *App) viewImport(v *view, im *crm.Import) importView {
	iv := importView{Import: im, Max: max(im.Total, 1)}
	iv.Bar, iv.Text = importProgress(v.L, im)
	for _, e := range im.Errors {
		iv.Errors = append(iv.Errors, importErrorView{Row: e.Row, Field: v.L.TOr("field."+e.Field, e.Field),
			Message: importMessage(v.L, e)})
	}
	for i, h := range im.Header {
		c := columnView{Column: i + 1, Header: h}
		cur := ""
		if i < len(im.Mapping) {
			cur = im.Mapping[i]
		}
		c.Options = append(c.Options, option{"", v.L.T("import.ignore"), cur == ""})
		for _, f := range crm.ImportFields {
			c.Options = append(c.Options, option{f, v.L.TOr("field."+f, f), cur == f})
		}
		iv.Columns = append(iv.Columns, c)
	}
	return iv
}

// importProgress is the bar's value and the line under it: the preview's
// rows checked, then the commit's rows done.
func importProgress(l *Locale, im *crm.Import) (int, string) {
	switch im.Status {
	case crm.ImportPreviewing:
		return im.Checked, l.T("import.progress_preview", l.Int(im.Checked), l.Int(im.Total))
	case crm.ImportRunning:
		return im.Cursor, l.T("import.progress_commit", l.Int(im.Imported), l.Int(im.Valid))
	case crm.ImportReady:
		return im.Total, l.T("import.progress_ready", l.Int(im.Valid), l.Int(im.Total))
	}
	return im.Total, l.T("import.progress_done", l.Int(im.Imported), l.Int(im.Total))
}

var dupRow = regexp.MustCompile(`^possible duplicate of row (\d+) \(same ([a-z ]+)\)$`)

// importMessage translates a row error: the import's own messages here,
// the field messages of POST /leads as everywhere else.
func importMessage(l *Locale, e crm.ImportError) string {
	switch {
	case e.Message == "must be a whole number":
		return l.T("import.fe_whole")
	case e.Message == "only a senior manager or an admin can choose the owner":
		return l.T("import.fe_owner")
	case strings.HasPrefix(e.Message, "possible duplicate of an open lead"):
		return l.T("import.fe_dup_lead")
	}
	if m := dupRow.FindStringSubmatch(e.Message); m != nil {
		return l.T("import.fe_dup_row", m[1])
	}
	return fieldMessage(l, crm.FieldError{Field: e.Field, Message: e.Message})
}

func (a *App) importsPage(w http.ResponseWriter, r *http.Request, v *view) {
	ims, err := a.deps.Imports.Imports(r.Context())
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	d := importsData{Limit: strconv.Itoa(crm.MaxImportBytes>>20) + " MiB"}
	for _, s := range crm.Sources {
		d.Sources = append(d.Sources, option{string(s), v.L.T("source." + string(s)), false})
	}
	if v.SeesAll() {
		d.Owners = ownerOptions(v, a.people(r, v), "", true)
	}
	for _, im := range ims {
		d.Imports = append(d.Imports, a.viewImport(v, im))
	}
	v.Title, v.Nav, v.Data = v.L.T("import.title"), "imports", d
	a.render(w, r, v, "imports", http.StatusOK)
}

// importUpload takes the multipart form as it arrives, the file never
// buffered whole (ParseMultipartForm would keep it in memory or a temporary
// file): the form sends its csrf field first, checked before anything is
// read further, then the options, then the file, streamed into the service.
func (a *App) importUpload(w http.ResponseWriter, r *http.Request, v *view) {
	fail := func(msg string, status int) {
		v.Message = msg
		a.renderError(w, r, v, status)
	}
	if a.xorigin.Check(r) != nil {
		fail(v.L.T("error.csrf"), http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, crm.MaxImportBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		fail(v.L.T("error.bad_form"), http.StatusBadRequest)
		return
	}
	in := crm.ImportInput{}
	csrfOK := false
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			a.redirect(w, r, "/app/imports", bad(v.L.T("import.no_file")))
			return
		}
		if err != nil {
			fail(v.L.T("error.bad_form"), http.StatusBadRequest)
			return
		}
		name := p.FormName()
		if name != "csrf" && !csrfOK {
			fail(v.L.T("error.csrf"), http.StatusForbidden)
			return
		}
		if name == "file" {
			in.FileName = p.FileName()
			im, err := a.deps.Imports.Start(r.Context(), in, p)
			if err != nil {
				if crm.IsKind(err, crm.EINVALID) || crm.IsKind(err, crm.EFORBIDDEN) {
					a.redirect(w, r, "/app/imports", bad(a.importRefusal(v.L, err)))
					return
				}
				a.fail(w, r, v, err)
				return
			}
			a.redirect(w, r, "/app/imports/"+url.PathEscape(im.ID), ok(v.L.T("import.uploaded", v.L.Int(im.Total))))
			return
		}
		val, _ := io.ReadAll(io.LimitReader(p, 512))
		switch name {
		case "csrf":
			c, err := r.Cookie(csrfCookie)
			csrfOK = err == nil && c.Value != "" && subtle.ConstantTimeCompare([]byte(c.Value), val) == 1
			if !csrfOK {
				fail(v.L.T("error.csrf"), http.StatusForbidden)
				return
			}
		case "source":
			in.Source = crm.Source(strings.TrimSpace(string(val)))
		case "owner_id":
			in.OwnerID = strings.TrimSpace(string(val))
		}
	}
}

// importRefusal says why a file was refused: the service's reason (the line,
// the limit) under a translated heading.
func (a *App) importRefusal(l *Locale, err error) string {
	var e *crm.Error
	if errors.As(err, &e) {
		switch e.Code {
		case crm.CodeImportNotCSV:
			return l.T("import.not_csv") + " " + e.Message
		case crm.CodeImportTooLarge:
			return l.T("import.too_large") + " " + e.Message
		}
	}
	return a.explain(l, err)
}

func (a *App) importPage(w http.ResponseWriter, r *http.Request, v *view) {
	im, err := a.deps.Imports.Import(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	v.Title, v.Nav, v.Data = v.L.T("import.preview_title", im.FileName), "imports", a.viewImport(v, im)
	a.render(w, r, v, "import", http.StatusOK)
}

// importProgressJSON answers one import's progress, for imports.js.
func (a *App) importProgressJSON(w http.ResponseWriter, r *http.Request, v *view) {
	im, err := a.deps.Imports.Import(r.Context(), r.PathValue("id"))
	if err != nil {
		status := http.StatusInternalServerError
		if crm.IsKind(err, crm.ENOTFOUND) {
			status = http.StatusNotFound
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	bar, text := importProgress(v.L, im)
	out := struct {
		Status     string `json:"status"`
		Total      int    `json:"total"`
		Checked    int    `json:"checked"`
		Valid      int    `json:"valid"`
		Invalid    int    `json:"invalid"`
		Duplicates int    `json:"duplicates"`
		Skipped    int    `json:"skipped"`
		Imported   int    `json:"imported"`
		Bar        int    `json:"bar"`
		Max        int    `json:"max"`
		Text       string `json:"text"`
		Label      string `json:"label"`
	}{im.Status, im.Total, im.Checked, im.Valid, im.Invalid, im.Duplicates, im.Skipped, im.Imported, bar,
		max(im.Total, 1), text, v.L.T("import.status." + im.Status)}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

func (a *App) importMapping(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.PathValue("id")
	im, err := a.deps.Imports.Import(r.Context(), id)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	mapping := make([]string, len(im.Header))
	for i := range mapping {
		mapping[i] = r.PostFormValue("col" + strconv.Itoa(i+1))
	}
	back := "/app/imports/" + url.PathEscape(im.ID)
	_, err = a.deps.Imports.SetMapping(r.Context(), id, mapping, r.PostFormValue("allow_duplicates") == "on")
	if crm.IsKind(err, crm.EINVALID) || crm.IsKind(err, crm.ECONFLICT) {
		a.redirect(w, r, back, bad(a.importMappingError(v.L, err)))
		return
	}
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	a.redirect(w, r, back, ok(v.L.T("import.mapped")))
}

func (a *App) importMappingError(l *Locale, err error) string {
	var e *crm.Error
	if errors.As(err, &e) && e.Kind == crm.EINVALID {
		return l.T("import.bad_mapping")
	}
	if errors.As(err, &e) && e.Kind == crm.ECONFLICT {
		return l.T("import.too_late")
	}
	return a.explain(l, err)
}

func (a *App) importCommit(w http.ResponseWriter, r *http.Request, v *view) {
	a.importAct(w, r, v, a.deps.Imports.Commit, "import.committing")
}

func (a *App) importCancel(w http.ResponseWriter, r *http.Request, v *view) {
	a.importAct(w, r, v, a.deps.Imports.Cancel, "import.cancelled")
}

func (a *App) importAct(w http.ResponseWriter, r *http.Request, v *view, act func(ctx context.Context, id string) (*crm.Import, error), done string) {
	id := r.PathValue("id")
	im, err := act(r.Context(), id)
	if crm.IsKind(err, crm.ECONFLICT) {
		a.redirect(w, r, "/app/imports/"+url.PathEscape(id), bad(v.L.T("import.too_late")))
		return
	}
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	a.redirect(w, r, "/app/imports/"+url.PathEscape(im.ID), ok(v.L.T(done)))
}
