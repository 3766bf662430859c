package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/crmleads/crm"
)

// ---- CSV imports ----

const importCols = `id, status, created_by, owner_id, source, file_name, content_hash, sep, header, mapping,
	allow_duplicates, generation, total, checked, valid, invalid, duplicates, skipped, imported, cursor_record,
	errors, error, created_at, updated_at, finished_at`

const (
	qImport    = `SELECT ` + importCols + ` FROM imports WHERE id = ?`
	qImportIns = `INSERT INTO imports (` + importCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
		?, ?, ?, ?, ?, ?, ?)`
	qImportUpd = `UPDATE imports SET status = ?, owner_id = ?, source = ?, mapping = ?, allow_duplicates = ?,
		generation = ?, total = ?, checked = ?, valid = ?, invalid = ?, duplicates = ?, skipped = ?, imported = ?,
		cursor_record = ?, errors = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ?`
	rowCols       = `import_id, record, fields, status, email_key, phone_key, name_key, lead_id`
	qRows         = `SELECT ` + rowCols + ` FROM import_rows WHERE import_id = ? AND record > ? ORDER BY record LIMIT ?`
	qRowIns       = `INSERT INTO import_rows (` + rowCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qRowUpd       = `UPDATE import_rows SET status = ?, email_key = ?, phone_key = ?, name_key = ?, lead_id = ? WHERE import_id = ? AND record = ?`
	qRowsDel      = `DELETE FROM import_rows WHERE import_id = ?`
	qImportedIns  = `INSERT INTO imported_records (content_hash, record, lead_id, import_id) VALUES (?, ?, ?, ?)`
	importNoun    = "import"
	importListCap = 10000
)

func scanImport(r scanner) (*crm.Import, error) {
	var (
		im                    crm.Import
		owner, fin            sql.NullString
		source                string
		header, mapping, errs string
		allow                 int64
		created, updated      string
	)
	if err := r.Scan(&im.ID, &im.Status, &im.CreatedBy, &owner, &source, &im.FileName, &im.ContentHash,
		&im.Separator, &header, &mapping, &allow, &im.Generation, &im.Total, &im.Checked, &im.Valid, &im.Invalid,
		&im.Duplicates, &im.Skipped, &im.Imported, &im.Cursor, &errs, &im.Error, &created, &updated, &fin); err != nil {
		return nil, err
	}
	im.OwnerID, im.Source, im.AllowDuplicates = owner.String, crm.Source(source), allow != 0
	for _, j := range []struct {
		s string
		v any
	}{{header, &im.Header}, {mapping, &im.Mapping}, {errs, &im.Errors}} {
		if err := json.Unmarshal([]byte(j.s), j.v); err != nil {
			return nil, fmt.Errorf("bad stored import: %w", err)
		}
	}
	var err error
	if im.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if im.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	if im.FinishedAt, err = parseNullTime(fin); err != nil {
		return nil, err
	}
	return &im, nil
}

func scanImportRow(r scanner) (*crm.ImportRow, error) {
	var (
		row    crm.ImportRow
		fields string
		lead   sql.NullString
	)
	if err := r.Scan(&row.ImportID, &row.Record, &fields, &row.Status, &row.Keys.Email, &row.Keys.Phone,
		&row.Keys.Name, &lead); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(fields), &row.Fields); err != nil {
		return nil, fmt.Errorf("bad stored import row: %w", err)
	}
	row.LeadID = lead.String
	return &row, nil
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// Import returns an import.
func (db *DB) Import(ctx context.Context, id string) (*crm.Import, error) {
	row, err := db.queryRow(ctx, qImport, id)
	if err != nil {
		return nil, mapErr("get import", importNoun, err)
	}
	im, err := scanImport(row)
	return im, mapErr("get import", importNoun, err)
}

// Imports returns up to limit imports, newest first.
func (db *DB) Imports(ctx context.Context, createdBy string, limit int) ([]*crm.Import, error) {
	if limit <= 0 || limit > importListCap {
		limit = importListCap
	}
	q, args := `SELECT `+importCols+` FROM imports ORDER BY id DESC LIMIT ?`, []any{limit}
	if createdBy != "" {
		q, args = `SELECT `+importCols+` FROM imports WHERE created_by = ? ORDER BY id DESC LIMIT ?`, []any{createdBy, limit}
	}
	out, err := queryAll(ctx, db, "list imports", scanImport, q, args...)
	if out == nil && err == nil {
		out = []*crm.Import{}
	}
	return out, err
}

// ImportRows returns rows of an import after a record, in record order.
func (db *DB) ImportRows(ctx context.Context, importID string, after, limit int) ([]*crm.ImportRow, error) {
	return queryAll(ctx, db, "list import rows", scanImportRow, qRows, importID, after, limit)
}

// ImportRowsMatching returns earlier rows of an import sharing a key.
func (db *DB) ImportRowsMatching(ctx context.Context, importID string, before int, keys []crm.DuplicateKeys) ([]*crm.ImportRow, error) {
	q, args := matchingQuery(importID, before, keys)
	if q == "" {
		return nil, nil
	}
	return queryAll(ctx, db, "match import rows", scanImportRow, q, args...)
}

// matchingQuery is the query of ImportRowsMatching: each key column its own
// branch (each served by its partial index), "" when no key is set.
func matchingQuery(importID string, before int, keys []crm.DuplicateKeys) (string, []any) {
	var ors []string
	var args []any
	for i, col := range []string{"email_key", "phone_key", "name_key"} {
		var vals []any
		for _, k := range keys {
			if v := [...]string{k.Email, k.Phone, k.Name}[i]; v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		ors = append(ors, "record IN (SELECT record FROM import_rows WHERE import_id = ? AND "+col+" <> '' AND "+col+
			" IN (?"+strings.Repeat(", ?", len(vals)-1)+"))")
		args = append(append(args, importID), vals...)
	}
	if len(ors) == 0 {
		return "", nil
	}
	q := `SELECT ` + rowCols + ` FROM import_rows WHERE import_id = ? AND record < ? AND
		(status IN ('valid', 'imported', 'skipped') OR (status = 'duplicate' AND
		(SELECT allow_duplicates FROM imports WHERE id = import_id) = 1)) AND (` + strings.Join(ors, " OR ") + `)`
	return q, append([]any{importID, before}, args...)
}

// ImportedRecords returns the records of a file some import has written.
func (db *DB) ImportedRecords(ctx context.Context, contentHash string, records []int) ([]int, error) {
	if len(records) == 0 {
		return nil, nil
	}
	q, args := importedQuery(contentHash, records)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, mapErr("imported records", "", err)
	}
	return scanInts(rows)
}

func importedQuery(contentHash string, records []int) (string, []any) {
	args := []any{contentHash}
	for _, r := range records {
		args = append(args, r)
	}
	return `SELECT record FROM imported_records WHERE content_hash = ? AND record IN (?` +
		strings.Repeat(", ?", len(records)-1) + `)`, args
}

func scanInts(rows *sql.Rows) ([]int, error) {
	defer rows.Close()
	var out []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, mapErr("imported records", "", err)
		}
		out = append(out, n)
	}
	return out, mapErr("imported records", "", rows.Err())
}

func (t *tx) ImportedRecords(ctx context.Context, contentHash string, records []int) ([]int, error) {
	if len(records) == 0 {
		return nil, nil
	}
	q, args := importedQuery(contentHash, records)
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr("imported records", "", err)
	}
	return scanInts(rows)
}

func (t *tx) InsertImport(ctx context.Context, im *crm.Import) error {
	header, err := jsonText(im.Header)
	if err != nil {
		return mapErr("insert import", "", err)
	}
	mapping, err := jsonText(im.Mapping)
	if err != nil {
		return mapErr("insert import", "", err)
	}
	errs, err := jsonText(importErrors(im.Errors))
	if err != nil {
		return mapErr("insert import", "", err)
	}
	return mapErr("insert import", "", t.exec(ctx, qImportIns, im.ID, im.Status, im.CreatedBy, nullStr(im.OwnerID),
		string(im.Source), im.FileName, im.ContentHash, im.Separator, header, mapping, boolInt(im.AllowDuplicates),
		im.Generation, im.Total, im.Checked, im.Valid, im.Invalid, im.Duplicates, im.Skipped, im.Imported, im.Cursor,
		errs, im.Error, fmtTime(im.CreatedAt), fmtTime(im.UpdatedAt), nullTimeText(im.FinishedAt)))
}

func importErrors(e []crm.ImportError) []crm.ImportError {
	if e == nil {
		return []crm.ImportError{}
	}
	return e
}

func (t *tx) LockImport(ctx context.Context, id string) (*crm.Import, error) {
	im, err := scanImport(t.queryRow(ctx, qImport, id))
	return im, mapErr("lock import", importNoun, err)
}

func (t *tx) UpdateImport(ctx context.Context, im *crm.Import) error {
	mapping, err := jsonText(im.Mapping)
	if err != nil {
		return mapErr("update import", "", err)
	}
	errs, err := jsonText(importErrors(im.Errors))
	if err != nil {
		return mapErr("update import", "", err)
	}
	return mapErr("update import", importNoun, t.execOne(ctx, qImportUpd, im.Status, nullStr(im.OwnerID),
		string(im.Source), mapping, boolInt(im.AllowDuplicates), im.Generation, im.Total, im.Checked, im.Valid,
		im.Invalid, im.Duplicates, im.Skipped, im.Imported, im.Cursor, errs, im.Error, fmtTime(im.UpdatedAt),
		nullTimeText(im.FinishedAt), im.ID))
}

func (t *tx) InsertImportRows(ctx context.Context, rows []*crm.ImportRow) error {
	for _, r := range rows {
		fields, err := jsonText(r.Fields)
		if err != nil {
			return mapErr("insert import row", "", err)
		}
		if err := t.exec(ctx, qRowIns, r.ImportID, r.Record, fields, r.Status, r.Keys.Email, r.Keys.Phone,
			r.Keys.Name, nullStr(r.LeadID)); err != nil {
			return mapErr("insert import row", "", err)
		}
	}
	return nil
}

func (t *tx) UpdateImportRows(ctx context.Context, rows []*crm.ImportRow) error {
	for _, r := range rows {
		if err := t.execOne(ctx, qRowUpd, r.Status, r.Keys.Email, r.Keys.Phone, r.Keys.Name, nullStr(r.LeadID),
			r.ImportID, r.Record); err != nil {
			return mapErr("update import row", "import row", err)
		}
	}
	return nil
}

func (t *tx) DeleteImportRows(ctx context.Context, importID string) error {
	return mapErr("delete import rows", "", t.exec(ctx, qRowsDel, importID))
}

func (t *tx) InsertImportedRecord(ctx context.Context, contentHash string, record int, leadID, importID string) error {
	return mapErr("insert imported record", "", t.exec(ctx, qImportedIns, contentHash, record, leadID, importID))
}
