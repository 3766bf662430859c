package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/demo"
)

// demoManagers is how many managers the demo leads are spread over.
const demoManagers = 8

// demoLoaders is how many batches load at once.
const demoLoaders = 2

// demoCommand runs `crmleads demo seed`: it refuses a database that holds
// leads unless --force, creates the first admin as serve does, a few demo
// managers, and the leads of the demo model, then fits the calibrations.
func demoCommand(ctx context.Context, args []string, st migratingStore, cfg config, log *slog.Logger, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "seed" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("demo seed", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	n := fs.Int("leads", 1000, "how many leads")
	seed := fs.Uint64("seed", 1, "random seed (the same seed gives the same data)")
	force := fs.Bool("force", false, "seed a database that already holds leads")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("demo seed: %w\n%s", err, usage)
	}
	if *n < 0 {
		return errors.New("demo seed: --leads must be ≥ 0")
	}
	loader, ok := st.(crm.BulkLoader)
	if !ok {
		return fmt.Errorf("demo seed: a %T cannot bulk-load", st)
	}
	svc, err := newService(cfg, st)
	if err != nil {
		return err
	}
	sys := crm.WithActor(ctx, crm.System)
	existing, _, err := svc.Leads.Leads(sys, crm.LeadFilter{Limit: 1})
	if err != nil {
		return err
	}
	if len(existing) > 0 && !*force {
		return errors.New("demo seed: the database already holds leads; refusing to mix demo data into real data (use --force to do it anyway)")
	}
	if err := bootstrapAdmin(ctx, cfg, svc, log); err != nil {
		return err
	}
	var owners []string
	for i := range demoManagers {
		email := fmt.Sprintf("demo.manager%d@demo.example", i+1)
		u, err := st.UserByEmail(ctx, email)
		if crm.IsKind(err, crm.ENOTFOUND) {
			// A password nobody knows: admins set one with user set-password.
			u, err = svc.Users.CreateUser(sys, crm.UserInput{Email: email, Name: fmt.Sprintf("Demo Manager %d", i+1),
				Role: crm.RoleManager, Password: crm.NewID()})
		}
		if err != nil {
			return fmt.Errorf("demo seed: manager %s: %w", email, err)
		}
		owners = append(owners, u.ID)
	}
	start := time.Now()
	// Two loaders take batches while the next is generated: the database,
	// not the generator, is the bottleneck, and each batch is a transaction
	// of its own (a lead and its rows are always in one batch).
	batches := make(chan *crm.Bulk, 2)
	loadErr := make(chan error, demoLoaders)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range demoLoaders {
		go func() {
			var err error
			for b := range batches {
				if err == nil {
					if err = loader.BulkLoad(lctx, b); err != nil {
						cancel()
					}
				}
			}
			loadErr <- err
		}()
	}
	sum, err := demo.Generate(demo.Config{Leads: *n, Seed: *seed, Owners: owners, Now: time.Now()},
		func(b *crm.Bulk) error {
			select {
			case batches <- b:
				return nil
			case <-lctx.Done():
				return lctx.Err()
			}
		})
	close(batches)
	for range demoLoaders {
		err = errors.Join(err, <-loadErr)
	}
	if err != nil {
		return fmt.Errorf("demo seed: %w", err)
	}
	loaded := time.Since(start)
	cals, err := svc.Analyses.Recalibrate(sys)
	if err != nil {
		return fmt.Errorf("demo seed: calibrate: %w", err)
	}
	fmt.Fprintf(stdout, "demo seed: %d leads, %d analyses, %d sales, %d outcomes (%d paid) in %s; %d calibrations fitted\n",
		sum.Leads, sum.Analyses, sum.Sales, sum.Outcomes, sum.Positives, loaded.Round(time.Millisecond), len(cals))
	return nil
}
