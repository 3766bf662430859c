package web

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/crmleads/crm"
)

// CSV import (issue 13 §1): upload, preview, mapping, commit, cancel.

// ImportJSON is an import and its progress.
type ImportJSON struct {
	ID     string `json:"id" format:"uuid"`
	Status string `json:"status" enum:"previewing,ready,running,done,failed,cancelled" doc:"previewing while every row is validated; ready to commit; running while the rows are written; done; cancelled (rows written stay); failed (see error)"`
	// The counters of the preview, then of the commit.
	Total           int               `json:"total" doc:"Data records in the file (the header not counted)"`
	Checked         int               `json:"checked" doc:"Rows the preview has validated so far"`
	Valid           int               `json:"valid" doc:"Rows that will be (or were) written"`
	Invalid         int               `json:"invalid" doc:"Rows POST /leads would refuse; see errors"`
	Duplicates      int               `json:"duplicates" doc:"Rows that look like an open lead you may see, or like an earlier row of the file (same email, phone digits, or company and name); written only with allow_duplicates"`
	Skipped         int               `json:"skipped" doc:"Records of this same file (same content) an earlier import wrote already"`
	Imported        int               `json:"imported" doc:"Leads written so far"`
	Errors          []crm.ImportError `json:"errors" doc:"The first 100 problems, by row: row is the 1-based number of the data record (the header not counted; a quoted newline does not start a record)"`
	Mapping         []MappingJSON     `json:"mapping" doc:"Which lead field each column fills"`
	AllowDuplicates bool              `json:"allow_duplicates"`
	FileName        string            `json:"file_name"`
	Separator       string            `json:"separator" doc:"The separator read from the header line: , or ;"`
	OwnerID         string            `json:"owner_id,omitempty" doc:"The owner of rows without an owner_id (the uploader when left out)"`
	Source          string            `json:"source,omitempty" doc:"The source of rows without one"`
	CreatedBy       string            `json:"created_by" format:"uuid"`
	Error           string            `json:"error,omitempty" doc:"Why it failed"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	FinishedAt      *time.Time        `json:"finished_at" nullable:"true" doc:"null until done, failed or cancelled"`
}

// MappingJSON maps one column of the file to a lead field.
type MappingJSON struct {
	Column int    `json:"column" minimum:"1" doc:"1-based column number"`
	Header string `json:"header,omitempty" doc:"The column's header (ignored in PUT)"`
	Field  string `json:"field" enum:",source,business_domain,messages_count,name,email,phone,company,note,owner_id" doc:"The lead field it fills; empty: ignored (the export's id, stage, AI and time columns are: an import creates new leads at stage new, as POST /leads does)"`
}

func importOut(im *crm.Import) ImportJSON {
	out := ImportJSON{ID: im.ID, Status: im.Status, Total: im.Total, Checked: im.Checked, Valid: im.Valid,
		Invalid: im.Invalid, Duplicates: im.Duplicates, Skipped: im.Skipped, Imported: im.Imported, Errors: im.Errors,
		AllowDuplicates: im.AllowDuplicates, FileName: im.FileName, Separator: im.Separator, OwnerID: im.OwnerID,
		Source: string(im.Source), CreatedBy: im.CreatedBy, Error: im.Error, CreatedAt: im.CreatedAt,
		UpdatedAt: im.UpdatedAt, Mapping: make([]MappingJSON, len(im.Header))}
	if out.Errors == nil {
		out.Errors = []crm.ImportError{}
	}
	for i, h := range im.Header {
		out.Mapping[i] = MappingJSON{Column: i + 1, Header: h}
		if i < len(im.Mapping) {
			out.Mapping[i].Field = im.Mapping[i]
		}
	}
	if !im.FinishedAt.IsZero() {
		out.FinishedAt = &im.FinishedAt
	}
	return out
}

// importUploadInput takes the request itself (Resolve): the file is read as
// it arrives, never buffered whole, so huma must not read the body.
type importUploadInput struct {
	OwnerID  string `query:"owner_id" doc:"Senior managers and admins: the owner of rows without an owner_id (default: you). Managers import only leads they own."`
	Source   string `query:"source" enum:"scanner,partner,manual" doc:"The source of rows without one (POST /leads requires one)"`
	FileName string `query:"file_name" maxLength:"200" doc:"A name to show for a text/csv body (a multipart part brings its own)"`
	req      *http.Request
}

// Resolve keeps the request for the handler, and gives the upload more time
// than the server's default read timeout: a large file on a slow line.
func (in *importUploadInput) Resolve(hctx huma.Context) []error {
	r, w := humago.Unwrap(hctx)
	in.req = r
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(15 * time.Minute))
	_ = rc.SetWriteDeadline(time.Now().Add(20 * time.Minute))
	return nil
}

type importResponse struct {
	Location string `header:"Location"`
	Body     ImportJSON
}

// describeUpload documents the request body huma does not read itself.
func describeUpload(op *huma.Operation) {
	op.DefaultStatus = http.StatusAccepted
	op.MaxBodyBytes = crm.MaxImportBytes
	limits := "At most " + strconv.Itoa(crm.MaxImportBytes>>20) + " MiB, " + strconv.Itoa(crm.MaxImportRecords) +
		" records, " + strconv.Itoa(crm.MaxImportColumns) + " columns and " + strconv.Itoa(crm.MaxImportRecordBytes>>20) +
		" MiB per record. "
	op.Description = "Upload a CSV file (UTF-8, with or without a BOM; comma- or semicolon-separated, read from the " +
		"header line; quoted fields may hold newlines; a leading ' before =, +, - or @ is dropped, as the export adds it). " +
		"The file is read as it arrives, in constant memory, and its records are stored; a preview job then validates " +
		"every row as POST /leads would and marks duplicates. Follow GET /imports/{id}; nothing is written to the leads " +
		"before POST /imports/{id}/commit. Columns are mapped by header: the export's own (GET /leads/export), English " +
		"and Ukrainian names; PUT /imports/{id}/mapping changes it. " + limits +
		"A file that is not UTF-8 CSV is refused with 422 import_not_csv, one over a limit with 413 import_too_large; " +
		"nothing is kept then."
	bodyErrors(op)
}

// describeUploadBody documents the upload's body once the operation is
// registered: given to huma before, huma would read the body itself.
func describeUploadBody(doc *huma.OpenAPI) {
	op := doc.Paths["/imports"].Post
	binary := &huma.Schema{Type: "string", Format: "binary"}
	op.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"text/csv": {Schema: &huma.Schema{Type: "string"}},
		"multipart/form-data": {Schema: &huma.Schema{Type: "object", Required: []string{"file"},
			Properties: map[string]*huma.Schema{"file": binary,
				"owner_id": {Type: "string", Description: "As the query parameter, when it comes before the file"},
				"source":   {Type: "string", Description: "As the query parameter, when it comes before the file"}}}},
	}}
}

func handleImportUpload(d Deps) func(context.Context, *importUploadInput) (*importResponse, error) {
	return func(ctx context.Context, in *importUploadInput) (*importResponse, error) {
		r := in.req
		mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		ii := crm.ImportInput{FileName: in.FileName, OwnerID: in.OwnerID, Source: crm.Source(in.Source)}
		var body io.Reader
		switch mt {
		case "text/csv", "application/csv":
			body = r.Body
		case "multipart/form-data":
			if params["boundary"] == "" {
				return nil, unsupported("a multipart/form-data body needs a boundary")
			}
			mr, err := r.MultipartReader()
			if err != nil {
				return nil, notCSVProblem(ctx, "not a multipart/form-data body: "+err.Error())
			}
			for body == nil {
				p, err := mr.NextPart()
				if errors.Is(err, io.EOF) {
					return nil, crm.Invalid(crm.FieldError{Field: "file", Message: "is missing: send the CSV in a part named file"})
				}
				if err != nil {
					return nil, notCSVProblem(ctx, "not a multipart/form-data body: "+err.Error())
				}
				switch p.FormName() {
				case "file":
					body = p
					if ii.FileName == "" {
						ii.FileName = p.FileName()
					}
				case "owner_id", "source":
					v, _ := io.ReadAll(io.LimitReader(p, 200))
					if p.FormName() == "owner_id" {
						ii.OwnerID = strings.TrimSpace(string(v))
					} else {
						ii.Source = crm.Source(strings.TrimSpace(string(v)))
					}
				}
			}
		default:
			return nil, unsupported("send the file as text/csv or as the part named file of multipart/form-data")
		}
		im, err := d.Imports.Start(ctx, ii, body)
		if err != nil {
			return nil, importProblem(ctx, err)
		}
		return &importResponse{Location: "/imports/" + im.ID, Body: importOut(im)}, nil
	}
}

func unsupported(detail string) *Problem {
	return &Problem{Type: problemType("unsupported_media_type"), Title: http.StatusText(http.StatusUnsupportedMediaType),
		Status: http.StatusUnsupportedMediaType, Detail: detail, Code: "unsupported_media_type"}
}

func notCSVProblem(ctx context.Context, detail string) error {
	return problemFrom(ctx, crm.Errorf(crm.EINVALID, crm.CodeImportNotCSV, "%s", detail))
}

// importProblem answers an upload over a limit with 413.
func importProblem(ctx context.Context, err error) error {
	p := problemFrom(ctx, err)
	if p.Code == crm.CodeImportTooLarge {
		p.Status, p.Title = http.StatusRequestEntityTooLarge, http.StatusText(http.StatusRequestEntityTooLarge)
	}
	return p
}

type importIDInput struct {
	ID string `path:"id" maxLength:"100"`
}

type importGetResponse struct {
	Body ImportJSON
}

func handleImportGet(d Deps) func(context.Context, *importIDInput) (*importGetResponse, error) {
	return func(ctx context.Context, in *importIDInput) (*importGetResponse, error) {
		im, err := d.Imports.Import(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &importGetResponse{Body: importOut(im)}, nil
	}
}

type importListResponse struct {
	Body []ImportJSON
}

func handleImportList(d Deps) func(context.Context, *struct{}) (*importListResponse, error) {
	return func(ctx context.Context, _ *struct{}) (*importListResponse, error) {
		ims, err := d.Imports.Imports(ctx)
		if err != nil {
			return nil, err
		}
		out := &importListResponse{Body: make([]ImportJSON, len(ims))}
		for i, im := range ims {
			out.Body[i] = importOut(im)
		}
		return out, nil
	}
}

type importMappingInput struct {
	ID   string `path:"id" maxLength:"100"`
	Body struct {
		Mapping         []MappingJSON `json:"mapping" maxItems:"100" doc:"The columns to map; a column left out is ignored"`
		AllowDuplicates bool          `json:"allow_duplicates,omitempty" doc:"Write the duplicate rows too (as allow_duplicate=true does for POST /leads)"`
	}
}

func handleImportMapping(d Deps) func(context.Context, *importMappingInput) (*importGetResponse, error) {
	return func(ctx context.Context, in *importMappingInput) (*importGetResponse, error) {
		im, err := d.Imports.Import(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		mapping := make([]string, len(im.Header))
		for i, m := range in.Body.Mapping {
			if m.Column < 1 || m.Column > len(mapping) {
				return nil, crm.Invalid(crm.FieldError{Field: "mapping[" + strconv.Itoa(i) + "].column",
					Message: "must be a column of the file, 1 to " + strconv.Itoa(len(mapping))})
			}
			if mapping[m.Column-1] != "" && m.Field != "" {
				return nil, crm.Invalid(crm.FieldError{Field: "mapping[" + strconv.Itoa(i) + "].column", Message: "is mapped twice"})
			}
			mapping[m.Column-1] = m.Field
		}
		im, err = d.Imports.SetMapping(ctx, in.ID, mapping, in.Body.AllowDuplicates)
		if err != nil {
			return nil, err
		}
		return &importGetResponse{Body: importOut(im)}, nil
	}
}

func handleImportCommit(d Deps) func(context.Context, *importIDInput) (*importGetResponse, error) {
	return func(ctx context.Context, in *importIDInput) (*importGetResponse, error) {
		im, err := d.Imports.Commit(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &importGetResponse{Body: importOut(im)}, nil
	}
}

func handleImportCancel(d Deps) func(context.Context, *importIDInput) (*importGetResponse, error) {
	return func(ctx context.Context, in *importIDInput) (*importGetResponse, error) {
		im, err := d.Imports.Cancel(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &importGetResponse{Body: importOut(im)}, nil
	}
}
