package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmleads/crm"
)

// ---- CSV imports ----

const importCols = `id, status, created_by, owner_id, source, file_name, content_hash, sep, header, mapping,
	allow_duplicates, generation, total, checked, valid, invalid, duplicates, skipped, imported, cursor_record,
	errors, error, created_at, updated_at, finished_at`

const importRowCols = `import_id, record, fields, status, email_key, phone_key, name_key, lead_id`

func scanImport(row pgx.Row) (*crm.Import, error) {
	var (
		im     crm.Import
		owner  *string
		source string
		fin    *time.Time
	)
	if err := row.Scan(&im.ID, &im.Status, &im.CreatedBy, &owner, &source, &im.FileName, &im.ContentHash,
		&im.Separator, &im.Header, &im.Mapping, &im.AllowDuplicates, &im.Generation, &im.Total, &im.Checked,
		&im.Valid, &im.Invalid, &im.Duplicates, &im.Skipped, &im.Imported, &im.Cursor, &im.Errors, &im.Error,
		&im.CreatedAt, &im.UpdatedAt, &fin); err != nil {
		return nil, err
	}
	im.OwnerID, im.Source = str(owner), crm.Source(source)
	im.CreatedAt, im.UpdatedAt, im.FinishedAt = im.CreatedAt.UTC(), im.UpdatedAt.UTC(), timeOf(fin)
	if im.Errors == nil {
		im.Errors = []crm.ImportError{}
	}
	return &im, nil
}

func scanImportRow(row pgx.Row) (*crm.ImportRow, error) {
	var (
		r    crm.ImportRow
		lead *string
	)
	if err := row.Scan(&r.ImportID, &r.Record, &r.Fields, &r.Status, &r.Keys.Email, &r.Keys.Phone, &r.Keys.Name,
		&lead); err != nil {
		return nil, err
	}
	r.LeadID = str(lead)
	return &r, nil
}

func getImport(ctx context.Context, q querier, id, suffix string) (*crm.Import, error) {
	if !crm.ValidID(id) {
		return nil, crm.NotFound("import")
	}
	im, err := scanImport(q.QueryRow(ctx, `SELECT `+importCols+` FROM imports WHERE id = $1`+suffix, id))
	if err != nil {
		return nil, classify("get import", err, "import")
	}
	return im, nil
}

// Import returns an import.
func (db *DB) Import(ctx context.Context, id string) (*crm.Import, error) {
	return getImport(ctx, db.q, id, "")
}

// Imports returns up to n imports, newest first.
func (db *DB) Imports(ctx context.Context, createdBy string, n int) ([]*crm.Import, error) {
	if createdBy != "" && !crm.ValidID(createdBy) {
		return []*crm.Import{}, nil
	}
	q, args := `SELECT `+importCols+` FROM imports ORDER BY id DESC LIMIT $1`, []any{limit(n)}
	if createdBy != "" {
		q, args = `SELECT `+importCols+` FROM imports WHERE created_by = $2 ORDER BY id DESC LIMIT $1`, []any{limit(n), createdBy}
	}
	out, err := collect(ctx, db, "list imports", scanImport, q, args...)
	if out == nil && err == nil {
		out = []*crm.Import{}
	}
	return out, err
}

// ImportRows returns rows of an import after a record, in record order.
func (db *DB) ImportRows(ctx context.Context, importID string, after, n int) ([]*crm.ImportRow, error) {
	if !crm.ValidID(importID) {
		return nil, nil
	}
	return collect(ctx, db, "list import rows", scanImportRow, `SELECT `+importRowCols+` FROM import_rows
		WHERE import_id = $1 AND record > $2 ORDER BY record LIMIT $3`, importID, after, limit(n))
}

// ImportRowsMatching returns earlier rows of an import sharing a key.
func (db *DB) ImportRowsMatching(ctx context.Context, importID string, before int, keys []crm.DuplicateKeys) ([]*crm.ImportRow, error) {
	if !crm.ValidID(importID) {
		return nil, nil
	}
	var ors []string
	args := []any{importID, before}
	for i, col := range []string{"email_key", "phone_key", "name_key"} {
		var vals []string
		for _, k := range keys {
			if v := [...]string{k.Email, k.Phone, k.Name}[i]; v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		args = append(args, vals)
		// Each branch repeats its partial index's predicate.
		ors = append(ors, "("+col+" <> '' AND "+col+" = ANY($"+strconv.Itoa(len(args))+"))")
	}
	if len(ors) == 0 {
		return nil, nil
	}
	return collect(ctx, db, "match import rows", scanImportRow, `SELECT `+importRowCols+` FROM import_rows r
		WHERE import_id = $1 AND record < $2 AND (status IN ('valid', 'imported', 'skipped') OR (status = 'duplicate'
		AND (SELECT allow_duplicates FROM imports WHERE id = r.import_id))) AND (`+strings.Join(ors, " OR ")+`)`, args...)
}

const qImported = `SELECT record FROM imported_records WHERE content_hash = $1 AND record = ANY($2)`

func importedRecords(ctx context.Context, q querier, contentHash string, records []int) ([]int, error) {
	if len(records) == 0 {
		return nil, nil
	}
	rows, err := q.Query(ctx, qImported, contentHash, records)
	if err != nil {
		return nil, classify("imported records", err, "")
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, classify("imported records", err, "")
	}
	return out, nil
}

// ImportedRecords returns the records of a file some import has written.
func (db *DB) ImportedRecords(ctx context.Context, contentHash string, records []int) ([]int, error) {
	return importedRecords(ctx, db.q, contentHash, records)
}

func (t *tx) ImportedRecords(ctx context.Context, contentHash string, records []int) ([]int, error) {
	q, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	return importedRecords(ctx, q, contentHash, records)
}

func importErrors(e []crm.ImportError) []crm.ImportError {
	if e == nil {
		return []crm.ImportError{}
	}
	return e
}

func (t *tx) InsertImport(ctx context.Context, im *crm.Import) error {
	if err := checkIDs("id", im.ID, im.CreatedBy, im.OwnerID); err != nil {
		return err
	}
	t.write("insert import", "", `INSERT INTO imports (`+importCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
		$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`,
		im.ID, im.Status, im.CreatedBy, nullID(im.OwnerID), string(im.Source), im.FileName, im.ContentHash,
		im.Separator, im.Header, im.Mapping, im.AllowDuplicates, im.Generation, im.Total, im.Checked, im.Valid,
		im.Invalid, im.Duplicates, im.Skipped, im.Imported, im.Cursor, importErrors(im.Errors), im.Error,
		im.CreatedAt, im.UpdatedAt, nullTime(im.FinishedAt))
	return nil
}

func (t *tx) LockImport(ctx context.Context, id string) (*crm.Import, error) {
	q, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	return getImport(ctx, q, id, " FOR NO KEY UPDATE")
}

func (t *tx) UpdateImport(ctx context.Context, im *crm.Import) error {
	if !crm.ValidID(im.ID) {
		return crm.NotFound("import")
	}
	if err := checkIDs("owner_id", im.OwnerID); err != nil {
		return err
	}
	t.write("update import", "import", `UPDATE imports SET status = $2, owner_id = $3, source = $4, mapping = $5,
		allow_duplicates = $6, generation = $7, total = $8, checked = $9, valid = $10, invalid = $11,
		duplicates = $12, skipped = $13, imported = $14, cursor_record = $15, errors = $16, error = $17,
		updated_at = $18, finished_at = $19 WHERE id = $1`, im.ID, im.Status, nullID(im.OwnerID), string(im.Source),
		im.Mapping, im.AllowDuplicates, im.Generation, im.Total, im.Checked, im.Valid, im.Invalid, im.Duplicates,
		im.Skipped, im.Imported, im.Cursor, importErrors(im.Errors), im.Error, im.UpdatedAt, nullTime(im.FinishedAt))
	return nil
}

func (t *tx) InsertImportRows(ctx context.Context, rows []*crm.ImportRow) error {
	for _, r := range rows {
		if err := checkIDs("id", r.ImportID, r.LeadID); err != nil {
			return err
		}
		t.write("insert import row", "", `INSERT INTO import_rows (`+importRowCols+`) VALUES ($1, $2, $3, $4, $5, $6,
			$7, $8)`, r.ImportID, r.Record, r.Fields, r.Status, r.Keys.Email, r.Keys.Phone, r.Keys.Name, nullID(r.LeadID))
	}
	return nil
}

func (t *tx) UpdateImportRows(ctx context.Context, rows []*crm.ImportRow) error {
	for _, r := range rows {
		if err := checkIDs("id", r.ImportID, r.LeadID); err != nil {
			return err
		}
		t.write("update import row", "import row", `UPDATE import_rows SET status = $3, email_key = $4,
			phone_key = $5, name_key = $6, lead_id = $7 WHERE import_id = $1 AND record = $2`, r.ImportID, r.Record,
			r.Status, r.Keys.Email, r.Keys.Phone, r.Keys.Name, nullID(r.LeadID))
	}
	return nil
}

func (t *tx) DeleteImportRows(ctx context.Context, importID string) error {
	if !crm.ValidID(importID) {
		return nil
	}
	t.write("delete import rows", "", `DELETE FROM import_rows WHERE import_id = $1`, importID)
	return nil
}

func (t *tx) InsertImportedRecord(ctx context.Context, contentHash string, record int, leadID, importID string) error {
	if err := checkIDs("id", leadID, importID); err != nil {
		return err
	}
	t.write("insert imported record", "", `INSERT INTO imported_records (content_hash, record, lead_id, import_id)
		VALUES ($1, $2, $3, $4)`, contentHash, record, leadID, importID)
	return nil
}
