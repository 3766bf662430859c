// Package testdb gives tests a fresh database of either kind.
//
// SQLite: a new file in the test's temp directory. PostgreSQL: a new schema in
// the database named by CRM_TEST_DATABASE_URL, dropped when the test ends, so
// tests run in parallel without seeing each other. Without the variable a
// PostgreSQL test skips with a message, except under CI=true, where it fails:
// CI must never pass by skipping.
package testdb

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding the PostgreSQL test database URL.
const EnvURL = "CRM_TEST_DATABASE_URL"

// SQLitePath returns the path of a new SQLite database file.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "crm.db")
}

// PostgresURL returns the URL of a fresh, empty schema (as search_path) in the
// test database, or skips the test when there is none (fails under CI).
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set, and under CI=true PostgreSQL tests must run, not skip", EnvURL)
		}
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them", EnvURL)
	}
	schema := fmt.Sprintf("t_%d_%d", time.Now().UnixNano(), os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Kinds lists the database kinds a conformance test runs against.
var Kinds = []string{"sqlite", "postgres"}

// URL returns a DATABASE_URL-style address of a fresh database of the kind.
func URL(t testing.TB, kind string) string {
	t.Helper()
	switch kind {
	case "sqlite":
		return "sqlite:" + SQLitePath(t)
	case "postgres":
		return PostgresURL(t)
	}
	t.Fatalf("unknown database kind %q", kind)
	return ""
}

// IsPostgres reports whether a DATABASE_URL selects PostgreSQL.
func IsPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}
