package testdb

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The private cluster starts, stops and starts again, keeping its data.
func TestCluster(t *testing.T) {
	c := NewCluster(t)
	ctx := context.Background()
	exec := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, c.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE TABLE kept (n int)")
	c.Stop()
	if conn, err := pgx.Connect(ctx, c.URL()); err == nil {
		conn.Close(ctx)
		t.Fatal("the stopped cluster still accepts connections")
	}
	c.Start()
	exec("INSERT INTO kept VALUES (1)")
}
