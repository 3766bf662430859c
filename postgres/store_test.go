package postgres_test

import (
	"context"
	"io"
	"testing"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/testdb"
	"github.com/crmleads/crm/postgres"
	"github.com/crmleads/crm/storetest"
)

// TestConformance runs the one store suite against postgres, a fresh migrated
// database per subtest.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) crm.Store {
		t.Helper()
		ctx := context.Background()
		db, err := postgres.Open(ctx, testdb.PostgresURL(t))
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
// pool, on one fresh schema.
func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T) (crm.Store, crm.Store) {
		t.Helper()
		ctx := context.Background()
		url := testdb.PostgresURL(t)
		var out [2]crm.Store
		for i := range out {
			db, err := postgres.Open(ctx, url)
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
