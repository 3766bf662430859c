// Package migrate runs the schema commands of `crmleads migrate` the same way
// for both stores; each store builds its goose provider (dialect, embedded
// files, locking) and wraps the errors in its own terms.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/rivermigrate"
)

// QuietLogger drops River's migration log lines; Run and River write what
// they did to their writer instead.
var QuietLogger = slog.New(slog.DiscardHandler)

// River runs River's own migrations for cmd, after ours: "up" applies every
// pending one, "status" prints the version applied, "down" leaves them (it
// undoes our last migration only; River's tables are the engine's, not ours).
func River[TTx any](ctx context.Context, m *rivermigrate.Migrator[TTx], cmd string, w io.Writer) error {
	switch cmd {
	case "up":
		res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return fmt.Errorf("river migrate up: %w", err)
		}
		for _, v := range res.Versions {
			fmt.Fprintf(w, "river migration %03d %s applied\n", v.Version, v.Name)
		}
	case "status":
		vs, err := m.ExistingVersions(ctx)
		if err != nil {
			return fmt.Errorf("river migrate status: %w", err)
		}
		all := m.AllVersions()
		fmt.Fprintf(w, "%-30s %d of %d applied\n", "river (job engine)", len(vs), len(all))
	}
	return nil
}

// Commands lists what Run accepts.
var Commands = []string{"up", "down", "status"}

// CheckCommand returns an error unless cmd is one of Commands.
func CheckCommand(cmd string) error {
	switch cmd {
	case "up", "down", "status":
		return nil
	}
	return fmt.Errorf("unknown migrate command %q (want up, down or status)", cmd)
}

// Run applies every pending migration ("up"), undoes the last applied one
// ("down"), or prints each migration and whether it is applied ("status"),
// writing what it did to w.
func Run(ctx context.Context, p *goose.Provider, cmd string, w io.Writer) error {
	if err := CheckCommand(cmd); err != nil {
		return err
	}
	switch cmd {
	case "up":
		res, err := p.Up(ctx)
		for _, r := range res {
			fmt.Fprintln(w, r)
		}
		if err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		if len(res) == 0 {
			fmt.Fprintln(w, "no migrations to apply")
		}
	case "down":
		r, err := p.Down(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			fmt.Fprintln(w, "no migrations to undo")
			return nil
		}
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		fmt.Fprintln(w, r)
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		for _, s := range st {
			state := "pending"
			if s.State == goose.StateApplied {
				state = "applied " + s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%-30s %s\n", filepath.Base(s.Source.Path), state)
		}
	}
	return nil
}
