package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crmleads/crm"
)

// importCommand runs `crmleads import FILE`: the same service calls as
// POST /imports, then the import's job run here, in this process, slice after
// slice (a server running alongside may take some slices: each batch checks
// the import's cursor in its transaction, so none is done twice), with a
// progress bar on stderr; the preview's counts and errors on stdout; then the
// commit, unless --dry-run.
func importCommand(ctx context.Context, args []string, st crm.Store, cfg config, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	as := fs.String("as", "", "the email of the user who imports (required): their role decides what they may import")
	owner := fs.String("owner", "", "senior managers and admins: the email or id of the owner of rows without an owner_id")
	source := fs.String("source", "", "the source of rows without one: scanner, partner or manual")
	dryRun := fs.Bool("dry-run", false, "preview only: validate every row and report, write no lead")
	allowDup := fs.Bool("allow-duplicates", false, "import rows that look like an open lead too")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("import: %w\n%s", err, usage)
	}
	if fs.NArg() != 1 || *as == "" {
		return errors.New("import: give --as EMAIL and one FILE (- for stdin)\n" + usage)
	}
	cfg.importSlice = 300 * time.Millisecond // a bar that moves
	svc, err := newService(cfg, st)
	if err != nil {
		return err
	}
	u, err := st.UserByEmail(ctx, strings.TrimSpace(*as))
	if err != nil || !u.Active {
		return fmt.Errorf("import: --as %s: no active user with that email", *as)
	}
	me := crm.WithActor(ctx, crm.Actor{UserID: u.ID, Role: u.Role})
	in := crm.ImportInput{Source: crm.Source(*source), OwnerID: *owner}
	if strings.Contains(*owner, "@") {
		o, err := st.UserByEmail(ctx, *owner)
		if err != nil {
			return fmt.Errorf("import: --owner %s: no user with that email", *owner)
		}
		in.OwnerID = o.ID
	}
	var r io.Reader = stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		r, in.FileName = f, filepath.Base(name)
	}
	im, err := svc.Imports.Start(me, in, r)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	bar := &progressBar{w: stderr}
	if *allowDup {
		if im, err = svc.Imports.SetMapping(me, im.ID, im.Mapping, true); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	if im, err = runImport(ctx, svc, st, im, bar, "preview"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "import %s of %s: %d records, %d valid, %d invalid, %d duplicates, %d skipped (imported before)\n",
		im.ID, displayName(im), im.Total, im.Valid, im.Invalid, im.Duplicates, im.Skipped)
	for _, e := range im.Errors {
		fmt.Fprintf(stdout, "  row %d: %s: %s\n", e.Row, e.Field, e.Message)
	}
	if shown := len(im.Errors); shown == crm.MaxImportErrors {
		fmt.Fprintf(stdout, "  (the first %d problems)\n", shown)
	}
	if *dryRun {
		fmt.Fprintf(stdout, "dry run: nothing written; the import is ready to commit in the app\n")
		return nil
	}
	if im, err = svc.Imports.Commit(me, im.ID); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if im, err = runImport(ctx, svc, st, im, bar, "import"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "import %s %s: %d leads written\n", im.ID, im.Status, im.Imported)
	if im.Status != crm.ImportDone {
		return fmt.Errorf("import: ended %s %s", im.Status, im.Error)
	}
	return nil
}

func displayName(im *crm.Import) string {
	if im.FileName == "" {
		return "stdin"
	}
	return im.FileName
}

// runImport runs the import's job for the phase it is in until it leaves it,
// drawing the bar after each slice. ctx acts as the importer. An interrupt (Ctrl-C) cancels the import
// between batches, as POST /imports/{id}/cancel does.
func runImport(ctx context.Context, svc *crm.Services, st crm.Store, im *crm.Import, bar *progressBar, label string) (*crm.Import, error) {
	job := crm.ImportJob{ImportID: im.ID, Phase: crm.PhasePreview, Generation: im.Generation}
	if im.Status == crm.ImportRunning {
		job.Phase = crm.PhaseCommit
	}
	bg := context.WithoutCancel(ctx)
	for {
		if ctx.Err() != nil {
			if _, err := svc.Imports.Cancel(bg, im.ID); err != nil {
				return nil, fmt.Errorf("import: cancel: %w", err)
			}
			bar.done()
			return nil, fmt.Errorf("import: interrupted: cancelled between batches")
		}
		next, err := svc.Imports.Run(bg, job)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		cur, err := st.Import(bg, im.ID)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		done := cur.Checked
		if job.Phase == crm.PhaseCommit {
			done = cur.Total // the cursor is back at 0 once done
			if cur.Status == crm.ImportRunning {
				done = cur.Cursor
			}
		}
		bar.draw(label, done, cur.Total)
		if !next.Again {
			bar.done()
			return cur, nil
		}
	}
}

// progressBar draws "label [#####     ]  45% 4500/10000" on one line of
// stderr, redrawn in place.
type progressBar struct {
	w     io.Writer
	drawn bool
}

func (b *progressBar) draw(label string, done, total int) {
	const width = 30
	if total <= 0 {
		total = 1
	}
	done = min(max(done, 0), total)
	n := done * width / total
	fmt.Fprintf(b.w, "\r%-7s [%s%s] %3d%% %d/%d", label, strings.Repeat("#", n), strings.Repeat(" ", width-n),
		done*100/total, done, total)
	b.drawn = true
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}
