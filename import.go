package crm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// ---- CSV import (issue 13 §1) ----
//
// An upload is read as it arrives and its records stored a batch at a time
// (ImportRow), so any replica's job can work on them. A preview job then
// validates every row as POST /leads would and marks duplicates; nothing is
// written to the leads until Commit, whose job writes the valid rows a batch
// per transaction with their events. Both jobs work a slice of batches per
// run and snooze in between, so a run stays far below the engine's job
// timeout whatever the file's size, and a crash loses at most the batch in
// flight, which the next run redoes.

// Import statuses: previewing until every row is validated, ready to be
// committed, running while the commit job writes, then done; cancelled by a
// person (rows written stay written); failed when the job could not go on
// (its starter is gone).
const (
	ImportPreviewing = "previewing"
	ImportReady      = "ready"
	ImportRunning    = "running"
	ImportDone       = "done"
	ImportFailed     = "failed"
	ImportCancelled  = "cancelled"
)

// Row statuses: pending until previewed; valid (will be written), invalid
// (POST /leads would refuse it), duplicate (it looks like an open lead the
// starter may see, or like an earlier row of the file), skipped (this file's
// record was imported before), imported.
const (
	RowPending   = "pending"
	RowValid     = "valid"
	RowInvalid   = "invalid"
	RowDuplicate = "duplicate"
	RowSkipped   = "skipped"
	RowImported  = "imported"
)

// Import is one CSV file on its way in.
type Import struct {
	ID        string
	Status    string
	CreatedBy string // the user who uploaded it; the jobs act as them
	// OwnerID owns the rows without an owner_id; "" is the uploader.
	OwnerID string
	// Source is the source of rows without one; "" means none (such rows
	// are invalid, as POST /leads without a source is).
	Source      Source
	FileName    string
	ContentHash string // hex SHA-256 of the file's bytes
	Separator   string // "," or ";"
	Header      []string
	Mapping     []string // per column, the ImportFields field it fills; "" ignored
	// AllowDuplicates imports duplicate rows too (as allow_duplicate=true
	// does for POST /leads).
	AllowDuplicates bool
	// Generation counts mapping changes: a preview job of an older mapping
	// finds itself superseded and stops.
	Generation int
	Total      int // records in the file
	Checked    int // rows the preview has validated so far
	Valid      int
	Invalid    int
	Duplicates int
	Skipped    int
	Imported   int
	// Cursor is the last record the running phase (preview or commit) has
	// finished.
	Cursor     int
	Errors     []ImportError // the first MaxImportErrors
	Error      string        // why it failed
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time // zero until done, failed or cancelled
}

// Finished reports whether nothing more happens to the import.
func (im *Import) Finished() bool {
	return im.Status == ImportDone || im.Status == ImportFailed || im.Status == ImportCancelled
}

// ImportError is one problem of one row: Row is the 1-based number of the
// data record (the header not counted; a quoted newline does not start a
// record).
type ImportError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ImportRow is one record of an import as stored.
type ImportRow struct {
	ImportID string
	Record   int
	Fields   []string
	Status   string
	Keys     DuplicateKeys // set by the preview
	LeadID   string        // set once imported
}

// ImportInput is what an upload says besides its file.
type ImportInput struct {
	FileName string
	OwnerID  string // senior managers and admins: the owner of rows without one
	Source   Source // the source of rows without one
}

// ImportJob runs one phase of an import a slice at a time: "preview" (of
// Generation) or "commit". It is enqueued in the transaction that starts the
// phase.
type ImportJob struct {
	ImportID   string `json:"import_id"`
	Phase      string `json:"phase"`
	Generation int    `json:"generation,omitempty"`
}

// Kind implements JobArgs.
func (ImportJob) Kind() string { return "lead_import" }

// Import job phases.
const (
	PhasePreview = "preview"
	PhaseCommit  = "commit"
)

// ImportNext says whether an import job runs again (at once: a slice ended).
type ImportNext struct{ Again bool }

// ImportService reads CSV files into leads: upload, preview, commit, cancel.
type ImportService struct {
	base
	leads *LeadService
	// slice bounds one run of an import job (DefaultImportSlice when 0;
	// negative: one batch per run, for tests).
	slice time.Duration
}

// DefaultImportSlice is how long one run of an import job works before it
// snoozes: well below the engine's 30 s job timeout.
const DefaultImportSlice = 5 * time.Second

func requireImporter(ctx context.Context) (Actor, error) {
	a, err := actor(ctx)
	if err != nil {
		return Actor{}, err
	}
	switch a.Role {
	case RoleManager, RoleSeniorManager, RoleAdmin:
		return a, nil
	}
	return Actor{}, Errorf(EFORBIDDEN, CodeForbidden, "only managers, senior managers and admins import leads")
}

// Start reads a CSV file from r as it arrives, stores its records a batch at
// a time and enqueues the preview. Managers import only leads they own: an
// owner (in.OwnerID or a row's owner_id) other than themselves is refused.
// Errors: EFORBIDDEN, EINVALID (CodeImportNotCSV: not UTF-8 CSV, or no
// record; CodeImportTooLarge over a limit; a bad owner or source); nothing is
// kept then.
func (s *ImportService) Start(ctx context.Context, in ImportInput, r io.Reader) (*Import, error) {
	a, err := requireImporter(ctx)
	if err != nil {
		return nil, err
	}
	in.OwnerID = NormalizeID(in.OwnerID)
	if in.OwnerID == a.UserID {
		in.OwnerID = ""
	}
	if in.OwnerID != "" && !a.Role.SeesAll() {
		return nil, Errorf(EFORBIDDEN, CodeForbidden, "only a senior manager or an admin can choose the owner")
	}
	if in.Source != "" && !in.Source.Valid() {
		return nil, Invalid(FieldError{Field: "source", Message: "must be one of scanner, partner, manual"})
	}
	if err := CheckText("file_name", in.FileName); err != nil {
		return nil, err
	}
	if len([]rune(in.FileName)) > MaxShortText {
		in.FileName = string([]rune(in.FileName)[:MaxShortText])
	}
	if in.OwnerID != "" {
		if err := s.store.InTx(ctx, func(tx Tx) error { return checkOwner(ctx, tx, in.OwnerID) }); err != nil {
			return nil, err
		}
	}
	f, err := ReadCSV(r)
	if err != nil {
		return nil, err
	}
	now := s.timestamp()
	im := &Import{ID: NewID(), Status: ImportPreviewing, CreatedBy: a.UserID, OwnerID: in.OwnerID, Source: in.Source,
		FileName: in.FileName, Separator: string(f.Separator), Header: f.Header, Mapping: DefaultMapping(f.Header),
		Errors: []ImportError{}, CreatedAt: now, UpdatedAt: now}
	// The rows go first, a batch per transaction, and the import last, with
	// its job: an upload cut short leaves no import (its rows are deleted;
	// a process that dies meanwhile leaves rows no import refers to).
	ctx = context.WithoutCancel(ctx) // a client gone mid-file: clean up still
	batch := make([]*ImportRow, 0, ImportBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.store.InTx(ctx, func(tx Tx) error { return tx.InsertImportRows(ctx, batch) })
		batch = batch[:0]
		return err
	}
	fail := func(err error) (*Import, error) {
		if derr := s.store.InTx(ctx, func(tx Tx) error { return tx.DeleteImportRows(ctx, im.ID) }); derr != nil {
			return nil, errors.Join(err, derr)
		}
		return nil, err
	}
	for {
		rec, n, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		batch = append(batch, &ImportRow{ImportID: im.ID, Record: n, Fields: append([]string(nil), rec...), Status: RowPending})
		im.Total = n
		if len(batch) == ImportBatch {
			if err := flush(); err != nil {
				return fail(err)
			}
		}
	}
	if err := flush(); err != nil {
		return fail(err)
	}
	if im.Total == 0 {
		return fail(notCSV("the file has a header and no records: nothing to import"))
	}
	im.ContentHash = f.Hash()
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertImport(ctx, im); err != nil {
			return err
		}
		return tx.Enqueue(ctx, ImportJob{ImportID: im.ID, Phase: PhasePreview})
	})
	if err != nil {
		return fail(err)
	}
	return im, nil
}

// Import returns an import the actor may see: managers their own only (an
// import of another reads as unknown). Errors: ENOTFOUND, EFORBIDDEN.
func (s *ImportService) Import(ctx context.Context, id string) (*Import, error) {
	if _, err := requireImporter(ctx); err != nil {
		return nil, err
	}
	return visible(ctx, "import", id, s.store.Import, func(im *Import) string { return im.CreatedBy })
}

// Imports returns the latest imports the actor may see, newest first.
// Errors: EFORBIDDEN.
func (s *ImportService) Imports(ctx context.Context) ([]*Import, error) {
	a, err := requireImporter(ctx)
	if err != nil {
		return nil, err
	}
	by := ""
	if !a.Role.SeesAll() {
		by = a.UserID
	}
	return s.store.Imports(ctx, by, MaxPageSize)
}

// change runs fn on the import locked, after checking the actor may see it.
func (s *ImportService) change(ctx context.Context, id string, fn func(tx Tx, im *Import) error) (*Import, error) {
	if _, err := s.Import(ctx, id); err != nil {
		return nil, err
	}
	var out *Import
	err := s.store.InTx(ctx, func(tx Tx) error {
		im, err := tx.LockImport(ctx, NormalizeID(id))
		if err != nil {
			return err
		}
		if err := fn(tx, im); err != nil {
			return err
		}
		im.UpdatedAt = s.timestamp()
		out = im
		return tx.UpdateImport(ctx, im)
	})
	return out, err
}

// SetMapping replaces the mapping of columns to fields (one entry per
// column, "" to ignore one) and whether duplicates are imported too, and
// validates every row again. Errors: ENOTFOUND, EINVALID, ECONFLICT once the
// commit has started.
func (s *ImportService) SetMapping(ctx context.Context, id string, mapping []string, allowDuplicates bool) (*Import, error) {
	return s.change(ctx, id, func(tx Tx, im *Import) error {
		if im.Status != ImportPreviewing && im.Status != ImportReady {
			return Errorf(ECONFLICT, CodeConflict, "the import is %s: its mapping can no longer change", im.Status)
		}
		if err := CheckMapping(mapping, len(im.Header)); err != nil {
			return err
		}
		im.Mapping, im.AllowDuplicates = mapping, allowDuplicates
		im.Generation++
		im.Status, im.Cursor, im.Checked = ImportPreviewing, 0, 0
		im.Valid, im.Invalid, im.Duplicates, im.Skipped = 0, 0, 0, 0
		im.Errors = []ImportError{}
		return tx.Enqueue(ctx, ImportJob{ImportID: im.ID, Phase: PhasePreview, Generation: im.Generation})
	})
}

// Commit starts writing the valid rows (and the duplicates, if the mapping
// allows them). Errors: ENOTFOUND, ECONFLICT unless the import is ready.
func (s *ImportService) Commit(ctx context.Context, id string) (*Import, error) {
	return s.change(ctx, id, func(tx Tx, im *Import) error {
		if im.Status != ImportReady {
			return Errorf(ECONFLICT, CodeConflict, "the import is %s: only a ready import (previewed) can be committed", im.Status)
		}
		im.Status, im.Cursor = ImportRunning, 0
		return tx.Enqueue(ctx, ImportJob{ImportID: im.ID, Phase: PhaseCommit})
	})
}

// Cancel stops an import between two batches: rows written stay written.
// Errors: ENOTFOUND, ECONFLICT once it is finished.
func (s *ImportService) Cancel(ctx context.Context, id string) (*Import, error) {
	return s.change(ctx, id, func(tx Tx, im *Import) error {
		if im.Finished() {
			return Errorf(ECONFLICT, CodeConflict, "the import is %s already", im.Status)
		}
		im.Status, im.FinishedAt = ImportCancelled, s.timestamp()
		return nil
	})
}

// Run runs one slice of an import job and says whether to run again. Each
// batch is one transaction that checks the import is still in the job's
// phase (and generation), so a cancel or a new mapping stops it between
// batches, and a rerun after a crash redoes only the batch in flight. It acts
// as the import's starter. Errors: those of the store (the engine retries).
func (s *ImportService) Run(ctx context.Context, job ImportJob) (ImportNext, error) {
	im, err := s.store.Import(ctx, NormalizeID(job.ImportID))
	if IsKind(err, ENOTFOUND) {
		return ImportNext{}, nil
	}
	if err != nil {
		return ImportNext{}, err
	}
	if !s.current(im, job) {
		return ImportNext{}, nil
	}
	u, err := s.store.User(ctx, im.CreatedBy)
	if err != nil && !IsKind(err, ENOTFOUND) {
		return ImportNext{}, err
	}
	if err != nil || !u.Active {
		return ImportNext{}, s.fail(ctx, im.ID, "the user who started the import is no longer active")
	}
	a := Actor{UserID: u.ID, Role: u.Role}
	ctx = WithActor(ctx, a)
	slice := s.slice
	if slice == 0 {
		slice = DefaultImportSlice
	}
	// Real time, not the service's clock: the slice is about the job
	// engine's timeout.
	until := time.Now().Add(slice)
	for {
		done, err := s.step(ctx, a, job)
		if err != nil || done {
			return ImportNext{}, err
		}
		if !time.Now().Before(until) {
			return ImportNext{Again: true}, nil
		}
	}
}

// current reports whether the import is still in the job's phase.
func (s *ImportService) current(im *Import, job ImportJob) bool {
	switch job.Phase {
	case PhasePreview:
		return im.Status == ImportPreviewing && im.Generation == job.Generation
	case PhaseCommit:
		return im.Status == ImportRunning
	}
	return false
}

func (s *ImportService) fail(ctx context.Context, id, why string) error {
	return s.store.InTx(context.WithoutCancel(ctx), func(tx Tx) error {
		im, err := tx.LockImport(ctx, id)
		if err != nil || im.Finished() {
			return err
		}
		im.Status, im.Error = ImportFailed, why
		im.FinishedAt, im.UpdatedAt = s.timestamp(), s.timestamp()
		return tx.UpdateImport(ctx, im)
	})
}

// step does one batch of the job's phase; done when the phase is over (or
// no longer the import's).
func (s *ImportService) step(ctx context.Context, a Actor, job ImportJob) (done bool, err error) {
	im, err := s.store.Import(ctx, NormalizeID(job.ImportID))
	if err != nil {
		return false, err
	}
	if !s.current(im, job) {
		return true, nil
	}
	rows, err := s.store.ImportRows(ctx, im.ID, im.Cursor, ImportBatch)
	if err != nil {
		return false, err
	}
	if job.Phase == PhasePreview {
		return s.previewBatch(ctx, a, job, im, rows)
	}
	return s.commitBatch(ctx, a, im, rows)
}

// checked is a row as the preview (or the commit, again) judges it.
type checked struct {
	in     LeadInput
	lead   *Lead
	status string
	errs   []ImportError
}

// checkRow validates one row exactly as CreateLead does (the same Normalize,
// Validate and owner rule; the duplicate rule is checked by the caller), and
// returns the lead it would create.
func (s *ImportService) checkRow(ctx context.Context, a Actor, im *Import, row *ImportRow, domains []string, owners map[string]bool) checked {
	in, fe := RowInput(row.Fields, im.Mapping, im.Source)
	if in.OwnerID == "" {
		in.OwnerID = im.OwnerID
	}
	c := checked{in: in, status: RowValid}
	add := func(fes ...FieldError) {
		for _, f := range fes {
			c.errs = append(c.errs, ImportError{Row: row.Record, Field: f.Field, Message: f.Message})
			c.status = RowInvalid
		}
	}
	add(fe...)
	l, err := s.leads.newLead(a, &c.in, domains)
	var e *Error
	if errors.As(err, &e) && e.Kind == EINVALID {
		add(e.Fields...)
	} else if err != nil {
		add(FieldError{Field: "owner_id", Message: errMessage(err)})
	}
	if c.status == RowValid && l.OwnerID != a.UserID {
		ok, seen := owners[l.OwnerID]
		if !seen {
			u, err := s.store.User(ctx, l.OwnerID)
			ok = err == nil && u.Active
			owners[l.OwnerID] = ok
		}
		if !ok {
			add(FieldError{Field: "owner_id", Message: "must be the id of an active user"})
		}
	}
	if c.status == RowInvalid {
		return c
	}
	c.lead = l
	return c
}

func errMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// previewBatch validates one batch of rows and marks duplicates: against
// open leads the starter may see (the rule of POST /leads), and against
// earlier rows of the file that will be (or were) imported.
func (s *ImportService) previewBatch(ctx context.Context, a Actor, job ImportJob, im *Import, rows []*ImportRow) (bool, error) {
	if len(rows) == 0 {
		return true, s.finishPhase(ctx, job, im.Cursor)
	}
	domains, err := s.leads.catalog(ctx)
	if err != nil {
		return false, err
	}
	records := make([]int, len(rows))
	for i, r := range rows {
		records[i] = r.Record
	}
	done, err := s.store.ImportedRecords(ctx, im.ContentHash, records)
	if err != nil {
		return false, err
	}
	already := map[int]bool{}
	for _, n := range done {
		already[n] = true
	}
	owners := map[string]bool{}
	results := make([]checked, len(rows))
	var keys []DuplicateKeys
	for i, r := range rows {
		if already[r.Record] {
			results[i] = checked{status: RowSkipped}
			continue
		}
		results[i] = s.checkRow(ctx, a, im, r, domains, owners)
		if results[i].lead != nil {
			r.Keys = results[i].lead.Keys()
			keys = append(keys, r.Keys)
		}
	}
	// Earlier rows of the file, then this batch's own earlier rows.
	earlier, err := s.store.ImportRowsMatching(ctx, im.ID, rows[0].Record, keys)
	if err != nil {
		return false, err
	}
	firstRow := map[string]int{}
	note := func(k DuplicateKeys, record int) {
		for _, v := range []string{"e" + k.Email, "p" + k.Phone, "n" + k.Name} {
			if len(v) > 1 {
				if _, ok := firstRow[v]; !ok {
					firstRow[v] = record
				}
			}
		}
	}
	for _, r := range earlier {
		note(r.Keys, r.Record)
	}
	for i, r := range rows {
		c := &results[i]
		if c.lead == nil {
			continue
		}
		k := r.Keys
		for _, m := range []struct{ key, field string }{{"e" + k.Email, "email"}, {"p" + k.Phone, "phone"}, {"n" + k.Name, "name"}} {
			if len(m.key) == 1 {
				continue
			}
			if first, ok := firstRow[m.key]; ok && first < r.Record {
				c.status = RowDuplicate
				c.errs = append(c.errs, ImportError{Row: r.Record, Field: m.field,
					Message: fmt.Sprintf("possible duplicate of row %d (same %s)", first, dupWhat(m.field))})
				break
			}
		}
		if c.status == RowValid {
			owner := ""
			if !a.Role.SeesAll() {
				owner = a.UserID
			}
			found, err := s.store.Duplicates(ctx, k, owner, 1)
			if err != nil {
				return false, err
			}
			if len(found) > 0 {
				c.status = RowDuplicate
				c.errs = append(c.errs, ImportError{Row: r.Record, Field: dupField(k, found[0]),
					Message: "possible duplicate of an open lead (" + leadLabel(found[0]) + ")"})
			}
		}
		if c.status == RowValid || (c.status == RowDuplicate && im.AllowDuplicates) {
			note(k, r.Record)
		}
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.LockImport(ctx, im.ID)
		if err != nil {
			return err
		}
		if !s.current(cur, job) || cur.Cursor != im.Cursor {
			return nil // cancelled, remapped, or another run did this batch
		}
		for i, r := range rows {
			c := results[i]
			r.Status = c.status
			switch c.status {
			case RowValid:
				cur.Valid++
			case RowInvalid:
				cur.Invalid++
			case RowDuplicate:
				cur.Duplicates++
			case RowSkipped:
				cur.Skipped++
			}
			cur.addErrors(c.errs)
		}
		cur.Checked += len(rows)
		cur.Cursor = rows[len(rows)-1].Record
		cur.UpdatedAt = s.timestamp()
		if err := tx.UpdateImportRows(ctx, rows); err != nil {
			return err
		}
		return tx.UpdateImport(ctx, cur)
	})
	return false, err
}

func dupWhat(field string) string {
	if field == "name" {
		return "company and name"
	}
	return field
}

// dupField names the field by which l matches the keys k.
func dupField(k DuplicateKeys, l *Lead) string {
	lk := l.Keys()
	switch {
	case k.Email != "" && k.Email == lk.Email:
		return "email"
	case k.Phone != "" && k.Phone == lk.Phone:
		return "phone"
	}
	return "name"
}

func leadLabel(l *Lead) string {
	if l.Name != "" {
		return l.Name + ", id " + l.ID
	}
	return "id " + l.ID
}

func (im *Import) addErrors(errs []ImportError) {
	for _, e := range errs {
		if len(im.Errors) >= MaxImportErrors {
			return
		}
		im.Errors = append(im.Errors, e)
	}
}

// finishPhase ends the preview (ready) or the commit (done).
func (s *ImportService) finishPhase(ctx context.Context, job ImportJob, cursor int) error {
	return s.store.InTx(context.WithoutCancel(ctx), func(tx Tx) error {
		cur, err := tx.LockImport(ctx, job.ImportID)
		if err != nil {
			return err
		}
		if !s.current(cur, job) || cur.Cursor != cursor {
			return nil
		}
		now := s.timestamp()
		cur.UpdatedAt, cur.Cursor = now, 0
		if job.Phase == PhasePreview {
			cur.Status = ImportReady
		} else {
			cur.Status, cur.FinishedAt = ImportDone, now
		}
		return tx.UpdateImport(ctx, cur)
	})
}

// commitBatch writes one batch: every row the preview found valid (and the
// duplicates, if allowed) is validated again (the catalog or an owner may
// have changed since) and, still valid and not imported from this file
// before, written as CreateLead writes a lead, with its event, in one
// transaction with the rows' status, the file's record of what it imported
// and the import's progress.
func (s *ImportService) commitBatch(ctx context.Context, a Actor, im *Import, rows []*ImportRow) (bool, error) {
	if len(rows) == 0 {
		return true, s.finishPhase(ctx, ImportJob{ImportID: im.ID, Phase: PhaseCommit}, im.Cursor)
	}
	domains, err := s.leads.catalog(ctx)
	if err != nil {
		return false, err
	}
	owners := map[string]bool{}
	var todo []*ImportRow
	var leads []*Lead
	var lateErrs []ImportError
	lateValid, lateDup := 0, 0
	for _, r := range rows {
		if r.Status != RowValid && !(r.Status == RowDuplicate && im.AllowDuplicates) {
			continue
		}
		c := s.checkRow(ctx, a, im, r, domains, owners)
		if c.lead == nil {
			if r.Status == RowValid {
				lateValid++
			} else {
				lateDup++
			}
			r.Status = RowInvalid
			lateErrs = append(lateErrs, c.errs...)
			todo = append(todo, r)
			continue
		}
		c.lead.ID = NewID()
		todo = append(todo, r)
		leads = append(leads, c.lead)
		r.LeadID = c.lead.ID
	}
	records := make([]int, 0, len(todo))
	for _, r := range todo {
		records = append(records, r.Record)
	}
	last := rows[len(rows)-1].Record
	job := ImportJob{ImportID: im.ID, Phase: PhaseCommit}
	err = s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.LockImport(ctx, im.ID)
		if err != nil {
			return err
		}
		if !s.current(cur, job) || cur.Cursor != im.Cursor {
			return nil
		}
		// Read in the transaction: another import of the same file may have
		// written these records meanwhile (and a unique key on them makes a
		// race of two fail one transaction, which the engine retries).
		done, err := tx.ImportedRecords(ctx, im.ContentHash, records)
		if err != nil {
			return err
		}
		already := map[int]bool{}
		for _, n := range done {
			already[n] = true
		}
		now := s.timestamp()
		li := 0
		for _, r := range todo {
			if r.Status == RowInvalid {
				continue
			}
			l := leads[li]
			li++
			if already[r.Record] {
				if r.Status == RowValid {
					cur.Valid--
				} else {
					cur.Duplicates--
				}
				r.Status, r.LeadID = RowSkipped, ""
				cur.Skipped++
				continue
			}
			l.CreatedAt, l.UpdatedAt = now, now
			if err := tx.InsertLead(ctx, l); err != nil {
				return err
			}
			e := s.event(a, ActionLeadCreated, l)
			e.To = string(LeadNew)
			e.Data = map[string]any{"import_id": im.ID, "row": r.Record}
			if err := tx.InsertEvent(ctx, e); err != nil {
				return err
			}
			if err := tx.InsertImportedRecord(ctx, im.ContentHash, r.Record, l.ID, im.ID); err != nil {
				return err
			}
			r.Status = RowImported
			cur.Imported++
		}
		cur.Invalid += lateValid + lateDup
		cur.Valid -= lateValid
		cur.Duplicates -= lateDup
		cur.addErrors(lateErrs)
		cur.Cursor, cur.UpdatedAt = last, now
		if err := tx.UpdateImportRows(ctx, todo); err != nil {
			return err
		}
		return tx.UpdateImport(ctx, cur)
	})
	return false, err
}
