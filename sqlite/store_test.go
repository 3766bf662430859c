package sqlite_test

import (
	"context"
	"io"
	"testing"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/testdb"
	"github.com/crmleads/crm/sqlite"
	"github.com/crmleads/crm/storetest"
)

// TestConformance runs the one store suite against sqlite, a fresh migrated
// database per subtest.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) crm.Store {
		t.Helper()
		ctx := context.Background()
		db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if err := db.Migrate(ctx, "up", io.Discard); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		return db
	})
}

// TestReplicas runs the two-process tests: two stores, each with its own
// connections, on one database file.
func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T) (crm.Store, crm.Store) {
		t.Helper()
		ctx := context.Background()
		path := testdb.SQLitePath(t)
		var out [2]crm.Store
		for i := range out {
			db, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { _ = db.Close() })
			if err := db.Migrate(ctx, "up", io.Discard); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			out[i] = db
		}
		return out[0], out[1]
	})
}
