package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmleads/crm"
)

// DriveImport runs an import's jobs as the engine would, slice after slice,
// until it is neither previewing nor running (or is stuck), and returns it.
func DriveImport(t *testing.T, svc *crm.Services, st crm.Store, id string) *crm.Import {
	t.Helper()
	bg := context.Background()
	for range 10000 {
		im, err := st.Import(bg, id)
		if err != nil {
			t.Fatalf("Import(%s): %v", id, err)
		}
		var job crm.ImportJob
		switch im.Status {
		case crm.ImportPreviewing:
			job = crm.ImportJob{ImportID: id, Phase: crm.PhasePreview, Generation: im.Generation}
		case crm.ImportRunning:
			job = crm.ImportJob{ImportID: id, Phase: crm.PhaseCommit}
		default:
			return im
		}
		if _, err := svc.Imports.Run(bg, job); err != nil {
			t.Fatalf("Run(%+v): %v", job, err)
		}
	}
	t.Fatalf("import %s never settled", id)
	return nil
}

func (b *bundle) upload(t *testing.T, u *crm.User, in crm.ImportInput, csv string) *crm.Import {
	t.Helper()
	im, err := b.svc.Imports.Start(as(u), in, strings.NewReader(csv))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return im
}

func (b *bundle) countLeads(t *testing.T, u *crm.User) int {
	t.Helper()
	n := 0
	if err := b.svc.Leads.EachLead(as(u), crm.LeadFilter{}, func(*crm.Lead) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// counts is what an import's counters should read.
type counts struct{ Total, Valid, Invalid, Duplicates, Skipped, Imported int }

func countsOf(im *crm.Import) counts {
	return counts{im.Total, im.Valid, im.Invalid, im.Duplicates, im.Skipped, im.Imported}
}

// importRows builds a file of n valid, distinct rows.
func importRows(n int) string {
	var sb strings.Builder
	sb.WriteString("source,name,email,phone,company\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&sb, "partner,Person %d,p%d@example.com,+38050%07d,Co %d\n", i, i, i, i)
	}
	return sb.String()
}

var importTests = []test{
	{"PreviewValidatesEveryRowAsCreateLead", func(t *testing.T, b *bundle) {
		// An open lead of the manager's, which row 6 looks like, and one of
		// another manager's, which row 7 looks like but may not see.
		if _, err := b.svc.Leads.CreateLead(as(b.mgr), crm.LeadInput{Source: crm.SourceManual, Email: "Known@Example.com"}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Leads.CreateLead(as(b.mgr2), crm.LeadInput{Source: crm.SourceManual, Email: "theirs@example.com"}); err != nil {
			t.Fatal(err)
		}
		file := "Source,Name,E-mail,Phone,Business domain,Messages,Owner,Stage\n" +
			"partner,Ann,ann@example.com,'+380501112233,first,3,,contacted\n" + // 1: valid; stage ignored
			"fax,Bob,,,,,,\n" + // 2: bad source
			"manual,\"Multi\nline\",not-an-email,,tenth,x,,\n" + // 3: three errors, a quoted newline
			"scanner,Cy,,,,," + b.mgr2.ID + ",\n" + // 4: another owner: a manager may not
			"scanner,Dee,ANN@example.com,,,,,\n" + // 5: duplicate of row 1
			"manual,Eve,known@example.com,,,,,\n" + // 6: duplicate of an open lead of theirs
			"manual,Fay,theirs@example.com,,,,,\n" // 7: another's lead is not compared
		im := b.upload(t, b.mgr, crm.ImportInput{FileName: "leads.csv"}, file)
		if im.Status != crm.ImportPreviewing || im.Total != 7 || im.Separator != "," {
			t.Fatalf("after upload: status %s, total %d, separator %q", im.Status, im.Total, im.Separator)
		}
		want := []string{"source", "name", "email", "phone", "business_domain", "messages_count", "owner_id", ""}
		if diff := cmp.Diff(want, im.Mapping); diff != "" {
			t.Errorf("mapping (-want +got):\n%s", diff)
		}
		im = DriveImport(t, b.svc, b.st, im.ID)
		if im.Status != crm.ImportReady {
			t.Fatalf("status %s, want ready", im.Status)
		}
		if diff := cmp.Diff(counts{Total: 7, Valid: 2, Invalid: 3, Duplicates: 2}, countsOf(im)); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
		wantErrs := []crm.ImportError{
			{Row: 2, Field: "source", Message: "must be one of scanner, partner, manual"},
			{Row: 3, Field: "messages_count", Message: "must be a whole number"},
			{Row: 3, Field: "business_domain", Message: "must be one of first, second, third"},
			{Row: 3, Field: "email", Message: "must be an email address like name@example.com"},
			{Row: 4, Field: "owner_id", Message: "only a senior manager or an admin can choose the owner"},
			{Row: 5, Field: "email", Message: "possible duplicate of row 1 (same email)"},
		}
		got := im.Errors
		if len(got) != 7 {
			t.Fatalf("errors: %+v, want 7", got)
		}
		if diff := cmp.Diff(wantErrs, got[:6]); diff != "" {
			t.Errorf("errors (-want +got):\n%s", diff)
		}
		if e := got[6]; e.Row != 6 || e.Field != "email" || !strings.HasPrefix(e.Message, "possible duplicate of an open lead") {
			t.Errorf("row 6's error: %+v", e)
		}
		// Nothing written before the commit.
		if n := b.countLeads(t, b.mgr); n != 1 {
			t.Errorf("the manager sees %d leads before the commit, want 1", n)
		}
		im, err := b.svc.Imports.Commit(as(b.mgr), im.ID)
		if err != nil || im.Status != crm.ImportRunning {
			t.Fatalf("Commit: %v, %v", im, err)
		}
		im = DriveImport(t, b.svc, b.st, im.ID)
		if im.Status != crm.ImportDone || im.Imported != 2 {
			t.Fatalf("after the commit: status %s, imported %d", im.Status, im.Imported)
		}
		var ann *crm.Lead
		_ = b.svc.Leads.EachLead(as(b.mgr), crm.LeadFilter{}, func(l *crm.Lead) error {
			if l.Name == "Ann" {
				ann = l
			}
			return nil
		})
		if ann == nil {
			t.Fatal("Ann was not imported")
		}
		// The export's ' before + is gone; the stage is new, as POST /leads makes it.
		if ann.Phone != "+380501112233" || ann.Stage != crm.LeadNew || ann.OwnerID != b.mgr.ID ||
			ann.BusinessDomain != "first" || ann.MessagesCount != 3 || ann.Source != crm.SourcePartner {
			t.Errorf("Ann as imported: %+v", ann)
		}
		evs, err := b.st.Events(context.Background(), crm.EventFilter{LeadID: ann.ID, Limit: 10})
		if err != nil || len(evs) != 1 || evs[0].Action != crm.ActionLeadCreated || evs[0].ActorID != b.mgr.ID ||
			evs[0].Data["import_id"] != im.ID {
			t.Errorf("Ann's events: %+v, %v", evs, err)
		}
		if _, err := b.svc.Imports.Commit(as(b.mgr), im.ID); !crm.IsKind(err, crm.ECONFLICT) {
			t.Errorf("a second commit: %v, want ECONFLICT", err)
		}
	}},
	{"SameFileAgainIsSkipped", func(t *testing.T, b *bundle) {
		file := importRows(3)
		im := b.upload(t, b.senior, crm.ImportInput{OwnerID: b.mgr.ID}, file)
		DriveImport(t, b.svc, b.st, im.ID)
		if _, err := b.svc.Imports.Commit(as(b.senior), im.ID); err != nil {
			t.Fatal(err)
		}
		if im = DriveImport(t, b.svc, b.st, im.ID); im.Imported != 3 {
			t.Fatalf("imported %d, want 3", im.Imported)
		}
		if n := b.countLeads(t, b.mgr); n != 3 {
			t.Fatalf("the owner has %d leads, want 3", n)
		}
		again := DriveImport(t, b.svc, b.st, b.upload(t, b.senior, crm.ImportInput{OwnerID: b.mgr.ID}, file).ID)
		if diff := cmp.Diff(counts{Total: 3, Skipped: 3}, countsOf(again)); diff != "" {
			t.Errorf("the same file again (-want +got):\n%s", diff)
		}
		if _, err := b.svc.Imports.Commit(as(b.senior), again.ID); err != nil {
			t.Fatal(err)
		}
		if again = DriveImport(t, b.svc, b.st, again.ID); again.Status != crm.ImportDone || again.Imported != 0 {
			t.Errorf("commit of the same file: %s, imported %d", again.Status, again.Imported)
		}
		if n := b.countLeads(t, b.mgr); n != 3 {
			t.Errorf("the owner has %d leads after the same file twice, want 3", n)
		}
	}},
	{"CancelBetweenBatchesAndResume", func(t *testing.T, b *bundle) {
		// One batch per run, as if every run were cut short after one.
		svc := crm.NewServices(crm.Config{Store: b.st, Scorer: b.scorer, Hasher: Hasher{}, Domains: Domains,
			Now: b.clock.Now, ImportSlice: -1})
		n := crm.ImportBatch*2 + 7
		file := importRows(n)
		im, err := svc.Imports.Start(as(b.admin), crm.ImportInput{}, strings.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if im = DriveImport(t, svc, b.st, im.ID); im.Valid != n {
			t.Fatalf("valid %d, want %d", im.Valid, n)
		}
		if _, err := svc.Imports.Commit(as(b.admin), im.ID); err != nil {
			t.Fatal(err)
		}
		job := crm.ImportJob{ImportID: im.ID, Phase: crm.PhaseCommit}
		next, err := svc.Imports.Run(context.Background(), job)
		if err != nil || !next.Again {
			t.Fatalf("first slice: %+v, %v", next, err)
		}
		if im, _ = b.st.Import(context.Background(), im.ID); im.Imported != crm.ImportBatch {
			t.Fatalf("after one batch: imported %d, want %d", im.Imported, crm.ImportBatch)
		}
		// The same run again (a rescued job): it goes on, nothing twice.
		if _, err := svc.Imports.Run(context.Background(), job); err != nil {
			t.Fatal(err)
		}
		if im, err = svc.Imports.Cancel(as(b.admin), im.ID); err != nil || im.Status != crm.ImportCancelled {
			t.Fatalf("Cancel: %v, %v", im, err)
		}
		if next, err := svc.Imports.Run(context.Background(), job); err != nil || next.Again {
			t.Fatalf("a run after the cancel: %+v, %v", next, err)
		}
		im, _ = b.st.Import(context.Background(), im.ID)
		if im.Imported != 2*crm.ImportBatch || im.Status != crm.ImportCancelled {
			t.Fatalf("after the cancel: %s, imported %d", im.Status, im.Imported)
		}
		if got := b.countLeads(t, b.admin); got != 2*crm.ImportBatch {
			t.Fatalf("%d leads after the cancel, want %d", got, 2*crm.ImportBatch)
		}
		if _, err := svc.Imports.Cancel(as(b.admin), im.ID); !crm.IsKind(err, crm.ECONFLICT) {
			t.Errorf("cancel twice: %v, want ECONFLICT", err)
		}
		// The same file again imports only the rest.
		rest, err := svc.Imports.Start(as(b.admin), crm.ImportInput{}, strings.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		rest = DriveImport(t, svc, b.st, rest.ID)
		if diff := cmp.Diff(counts{Total: n, Valid: 7, Skipped: 2 * crm.ImportBatch}, countsOf(rest)); diff != "" {
			t.Errorf("the rest (-want +got):\n%s", diff)
		}
		if _, err := svc.Imports.Commit(as(b.admin), rest.ID); err != nil {
			t.Fatal(err)
		}
		DriveImport(t, svc, b.st, rest.ID)
		if got := b.countLeads(t, b.admin); got != n {
			t.Errorf("%d leads in the end, want %d", got, n)
		}
	}},
	{"MappingOverrideRevalidates", func(t *testing.T, b *bundle) {
		// Excel in a Ukrainian locale: BOM, semicolons, Ukrainian headers.
		file := "\ufeffДжерело;Ім’я;Телефон;Компанія;Примітка\r\n" +
			"partner;Олена;+380 50 111 22 33;Зоря;перша\r\n" +
			";Петро;050 222 33 44;Зоря;без джерела\r\n"
		im := b.upload(t, b.mgr, crm.ImportInput{}, file)
		if im.Separator != ";" {
			t.Errorf("separator %q, want ;", im.Separator)
		}
		if diff := cmp.Diff([]string{"source", "name", "phone", "company", "note"}, im.Mapping); diff != "" {
			t.Errorf("mapping (-want +got):\n%s", diff)
		}
		im = DriveImport(t, b.svc, b.st, im.ID)
		if diff := cmp.Diff(counts{Total: 2, Valid: 1, Invalid: 1}, countsOf(im)); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
		// Ignore the note; a bad mapping is refused, the import unchanged.
		if _, err := b.svc.Imports.SetMapping(as(b.mgr), im.ID, []string{"source", "name", "stage", "", ""}, false); !crm.IsKind(err, crm.EINVALID) {
			t.Errorf("mapping to stage: %v, want EINVALID", err)
		}
		if _, err := b.svc.Imports.SetMapping(as(b.mgr), im.ID, []string{"name", "name", "", "", ""}, false); !crm.IsKind(err, crm.EINVALID) {
			t.Errorf("name twice: %v, want EINVALID", err)
		}
		if _, err := b.svc.Imports.SetMapping(as(b.mgr2), im.ID, []string{"", "name", "", "", ""}, false); !crm.IsKind(err, crm.ENOTFOUND) {
			t.Errorf("another manager's mapping: %v, want ENOTFOUND", err)
		}
		old := crm.ImportJob{ImportID: im.ID, Phase: crm.PhasePreview, Generation: im.Generation}
		im, err := b.svc.Imports.SetMapping(as(b.mgr), im.ID, []string{"", "name", "phone", "company", ""}, false)
		if err != nil || im.Status != crm.ImportPreviewing || im.Valid != 0 {
			t.Fatalf("SetMapping: %+v, %v", im, err)
		}
		// A preview job of the old mapping does nothing.
		if _, err := b.svc.Imports.Run(context.Background(), old); err != nil {
			t.Fatal(err)
		}
		if cur, _ := b.st.Import(context.Background(), im.ID); cur.Checked != 0 {
			t.Errorf("the old mapping's job checked %d rows", cur.Checked)
		}
		im = DriveImport(t, b.svc, b.st, im.ID)
		if diff := cmp.Diff(counts{Total: 2, Invalid: 2}, countsOf(im)); diff != "" {
			t.Errorf("without a source column (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]crm.ImportError{{Row: 1, Field: "source", Message: "must be one of scanner, partner, manual"},
			{Row: 2, Field: "source", Message: "must be one of scanner, partner, manual"}}, im.Errors); diff != "" {
			t.Errorf("errors (-want +got):\n%s", diff)
		}
	}},
	{"DefaultSourceAndCompanyNameDuplicates", func(t *testing.T, b *bundle) {
		file := "name;company\nОлена;Зоря\n олена ; ЗОРЯ \n"
		im := DriveImport(t, b.svc, b.st, b.upload(t, b.mgr, crm.ImportInput{Source: crm.SourceScanner}, file).ID)
		if diff := cmp.Diff(counts{Total: 2, Valid: 1, Duplicates: 1}, countsOf(im)); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
		// Allowed, the duplicate is imported too.
		im, err := b.svc.Imports.SetMapping(as(b.mgr), im.ID, im.Mapping, true)
		if err != nil {
			t.Fatal(err)
		}
		im = DriveImport(t, b.svc, b.st, im.ID)
		if _, err := b.svc.Imports.Commit(as(b.mgr), im.ID); err != nil {
			t.Fatal(err)
		}
		if im = DriveImport(t, b.svc, b.st, im.ID); im.Imported != 2 {
			t.Errorf("imported %d with duplicates allowed, want 2", im.Imported)
		}
	}},
	{"RefusedFilesKeepNothing", func(t *testing.T, b *bundle) {
		for name, file := range map[string]string{
			"not UTF-8":    "source,name\nmanual,\xff\xfe\n",
			"bare quote":   "source,name\nmanual,ab\"c\n",
			"open quote":   "source,name\nmanual,\"abc\n",
			"NUL":          "source,name\nmanual,a\x00b\n",
			"empty":        "",
			"header alone": "source,name\n",
			"binary":       "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U",
		} {
			_, err := b.svc.Imports.Start(as(b.mgr), crm.ImportInput{}, strings.NewReader(file))
			var e *crm.Error
			if !errors.As(err, &e) || e.Kind != crm.EINVALID || e.Code != crm.CodeImportNotCSV {
				t.Errorf("%s: %v, want EINVALID %s", name, err, crm.CodeImportNotCSV)
			}
		}
		ims, err := b.svc.Imports.Imports(as(b.admin))
		if err != nil || len(ims) != 0 {
			t.Errorf("imports after refused files: %d, %v", len(ims), err)
		}
		if _, err := b.svc.Imports.Start(as(b.mgr), crm.ImportInput{OwnerID: b.mgr2.ID}, strings.NewReader(importRows(1))); !crm.IsKind(err, crm.EFORBIDDEN) {
			t.Errorf("a manager importing for another: %v, want EFORBIDDEN", err)
		}
		if _, err := b.svc.Imports.Start(as(b.senior), crm.ImportInput{OwnerID: crm.NewID()}, strings.NewReader(importRows(1))); !crm.IsKind(err, crm.EINVALID) {
			t.Errorf("an unknown owner: %v, want EINVALID", err)
		}
	}},
	{"ManagersSeeTheirOwnImports", func(t *testing.T, b *bundle) {
		im := b.upload(t, b.mgr, crm.ImportInput{}, importRows(1))
		if _, err := b.svc.Imports.Import(as(b.mgr2), im.ID); !crm.IsKind(err, crm.ENOTFOUND) {
			t.Errorf("another manager reads it: %v, want ENOTFOUND", err)
		}
		for _, op := range []func(context.Context, string) (*crm.Import, error){b.svc.Imports.Commit, b.svc.Imports.Cancel} {
			if _, err := op(as(b.mgr2), im.ID); !crm.IsKind(err, crm.ENOTFOUND) {
				t.Errorf("another manager acts on it: %v, want ENOTFOUND", err)
			}
		}
		for _, u := range []*crm.User{b.mgr, b.senior, b.admin} {
			if _, err := b.svc.Imports.Import(as(u), im.ID); err != nil {
				t.Errorf("%s reads it: %v", u.Email, err)
			}
		}
		for u, want := range map[*crm.User]int{b.mgr: 1, b.mgr2: 0, b.senior: 1} {
			ims, err := b.svc.Imports.Imports(as(u))
			if err != nil || len(ims) != want {
				t.Errorf("%s lists %d imports (%v), want %d", u.Email, len(ims), err, want)
			}
		}
		stored, err := b.st.Import(context.Background(), im.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(im, stored); diff != "" {
			t.Errorf("stored import (-started +stored):\n%s", diff)
		}
	}},
}
