package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/migrate"
	"github.com/crmleads/crm/internal/riverjobs"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is a crm.Store on one SQLite database file.
type DB struct {
	w *sql.DB // one connection; transactions BEGIN IMMEDIATE
	r *sql.DB // readers

	migrations fs.FS
	versions   []int64 // versions of the embedded migrations, ascending

	// Prepared statements, keyed by query text, one cache per pool. The set of
	// query texts is small and fixed (filters only toggle whole clauses), so
	// the caches stay bounded. Preparing once saves SQLite's parse and plan on
	// every call, which is most of the cost of a short insert.
	mu     sync.Mutex
	wStmts map[string]*sql.Stmt
	rStmts map[string]*sql.Stmt
	// txPrepared is set once every query of txQueries is in wStmts.
	txPrepared bool

	// jobs is an insert-only River client on the writer pool: Tx.Enqueue
	// inserts through it on the store's own transaction.
	jobs *river.Client[*sql.Tx]
}

var _ crm.Store = (*DB)(nil)

// busyTimeoutMS is how long a connection waits for a lock held by another
// connection (or process) before failing with SQLITE_BUSY.
const busyTimeoutMS = 5000

// Open opens (creating it if missing, with its parent directory) the database
// file at path. It does not migrate.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: create directory: %w", err)
		}
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	db := &DB{migrations: sub, wStmts: map[string]*sql.Stmt{}, rStmts: map[string]*sql.Stmt{}}
	if db.versions, err = migrationVersions(sub); err != nil {
		return nil, err
	}

	// The pragmas go in the DSN so that every connection the pools open gets
	// them, including those reopened after an error.
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	base := "file:" + (&url.URL{Path: path}).EscapedPath()

	wq := cloneValues(q)
	// BEGIN IMMEDIATE takes the write lock at the start of the transaction,
	// so reads inside it are protected from other writers (see package doc),
	// and a busy database fails at BEGIN, before any work is done.
	wq.Set("_txlock", "immediate")
	db.w, err = sql.Open("sqlite", base+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)
	// The writer connection is opened first: it switches the file to WAL mode
	// (a persistent setting), which readers then find already done.
	if err := db.w.PingContext(ctx); err != nil {
		db.w.Close()
		return nil, mapErr("open", "", err)
	}

	rq := cloneValues(q)
	// Readers never write; query_only turns a mistake into an error.
	rq.Add("_pragma", "query_only(1)")
	db.r, err = sql.Open("sqlite", base+"?"+rq.Encode())
	if err != nil {
		db.w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.r.SetMaxOpenConns(n)
	db.r.SetMaxIdleConns(n)
	db.r.SetConnMaxLifetime(0)
	db.r.SetConnMaxIdleTime(0)
	if err := db.r.PingContext(ctx); err != nil {
		db.Close()
		return nil, mapErr("open", "", err)
	}
	if db.jobs, err = river.NewClient(riversqlite.New(db.w), &river.Config{}); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: job client: %w", err)
	}
	return db, nil
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// migrationVersions lists the versions of the embedded migrations, from the
// numeric prefix of their file names as goose reads them.
func migrationVersions(fsys fs.FS) ([]int64, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	var vs []int64
	for _, n := range names {
		v, err := goose.NumericComponent(n)
		if err != nil {
			return nil, fmt.Errorf("sqlite: migration %s: %w", n, err)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// Writer returns the pool of the one writer connection. The job engine runs
// River on it: River's SQLite driver needs a single connection for its writes
// (a second writer would fail with SQLITE_BUSY), and sharing ours serializes
// River's writes with the store's.
func (db *DB) Writer() *sql.DB { return db.w }

// Reader returns the pool of read connections (for its metrics).
func (db *DB) Reader() *sql.DB { return db.r }

// Close closes both pools.
func (db *DB) Close() error {
	db.dropStmts()
	err := db.r.Close()
	return errors.Join(db.w.Close(), err)
}

// Migrate runs a goose command on the embedded migrations: "up" (all
// pending), "down" (the last applied one) or "status" (printed to w).
func (db *DB) Migrate(ctx context.Context, cmd string, w io.Writer) error {
	if w == nil {
		w = io.Discard
	}
	// Goose runs on the writer pool: migrations are writes, and its single
	// connection keeps them serialized with the store's own transactions.
	p, err := goose.NewProvider(goose.DialectSQLite3, db.w, db.migrations,
		goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger()))
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if err := migrate.Run(ctx, p, cmd, w); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	// River's own tables, after ours, on the same single writer connection
	// (which serializes them with everything else that writes).
	m, err := rivermigrate.New(riversqlite.New(db.w), &rivermigrate.Config{Logger: migrate.QuietLogger})
	if err != nil {
		return fmt.Errorf("sqlite: migrate river: %w", err)
	}
	if err := migrate.River(ctx, m, cmd, w); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	// Migrations change the schema: statements prepared before may be stale.
	db.dropStmts()
	return nil
}

func (db *DB) dropStmts() {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.txPrepared = false
	for _, m := range []map[string]*sql.Stmt{db.wStmts, db.rStmts} {
		for k, s := range m {
			s.Close()
			delete(m, k)
		}
	}
}

// Ping checks that the database answers and every embedded migration is
// applied. It only reads, unlike goose's own checks which create the version
// table.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	err := db.r.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, goose.DefaultTablename).Scan(&n)
	if err != nil {
		return mapErr("ping", "", err)
	}
	pending := crm.DBNotMigrated(nil)
	if n == 0 {
		return pending
	}
	rows, err := db.r.QueryContext(ctx,
		`SELECT DISTINCT version_id FROM `+goose.DefaultTablename+` WHERE is_applied = 1`)
	if err != nil {
		return mapErr("ping", "", err)
	}
	defer rows.Close()
	applied := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return mapErr("ping", "", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return mapErr("ping", "", err)
	}
	for _, v := range db.versions {
		if !applied[v] {
			pending.Cause = fmt.Errorf("migration %d not applied", v)
			return pending
		}
	}
	return nil
}

// stmt returns the prepared statement for query on the writer pool (w) or
// the reader pool, preparing it on first use.
func (db *DB) stmt(ctx context.Context, writer bool, query string) (*sql.Stmt, error) {
	db.mu.Lock()
	m, pool := db.rStmts, db.r
	if writer {
		m, pool = db.wStmts, db.w
	}
	s, ok := m[query]
	db.mu.Unlock()
	if ok {
		return s, nil
	}
	// Prepared outside the lock: preparing on the writer may wait for the
	// writer connection, which a running InTx holds.
	s, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if old, ok := m[query]; ok {
		s.Close()
		return old, nil
	}
	m[query] = s
	return s, nil
}

// prepareTx prepares the statements of Tx on the writer pool, once. It runs
// before BEGIN because preparing on the pool needs its only connection, which
// the transaction then holds. A failure (say, the schema is not migrated yet)
// is not an error: the statements then run unprepared and fail, if at all,
// with the real cause.
func (db *DB) prepareTx(ctx context.Context) {
	db.mu.Lock()
	done := db.txPrepared
	db.mu.Unlock()
	if done {
		return
	}
	for _, q := range txQueries {
		if _, err := db.stmt(ctx, true, q); err != nil {
			return
		}
	}
	db.mu.Lock()
	db.txPrepared = true
	db.mu.Unlock()
}

// queryRow runs a one-row query on the reader pool.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	s, err := db.stmt(ctx, false, query)
	if err != nil {
		return nil, err
	}
	return s.QueryRowContext(ctx, args...), nil
}

// query runs a query on the reader pool.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := db.stmt(ctx, false, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// queryAll runs a query on the reader pool and scans every row; op prefixes
// any error.
func queryAll[T any](ctx context.Context, db *DB, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, mapErr(op, "", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr(op, "", err)
		}
		out = append(out, v)
	}
	return out, mapErr(op, "", rows.Err())
}

// whereSQL joins conditions into a WHERE clause ("" when there are none).
func whereSQL(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return ` WHERE ` + strings.Join(conds, " AND ")
}

// exec runs a statement on the writer pool, outside any InTx.
func (db *DB) exec(ctx context.Context, query string, args ...any) error {
	s, err := db.stmt(ctx, true, query)
	if err != nil {
		return err
	}
	_, err = s.ExecContext(ctx, args...)
	return err
}

// InTx runs fn in a write transaction (BEGIN IMMEDIATE on the writer
// connection) and commits it when fn returns nil.
func (db *DB) InTx(ctx context.Context, fn func(tx crm.Tx) error) error {
	db.prepareTx(ctx)
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr("begin", "", err)
	}
	defer sqlTx.Rollback() //nolint:errcheck // a no-op after Commit
	t := &tx{db: db, tx: sqlTx}
	defer t.closeStmts()
	if err := fn(t); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return mapErr("commit", "", err)
	}
	return nil
}

// tx is the crm.Tx of InTx.
type tx struct {
	db *DB
	tx *sql.Tx
	// Transaction-bound forms of the cached statements used in this tx.
	stmts map[*sql.Stmt]*sql.Stmt
}

var _ crm.Tx = (*tx)(nil)

// stmt returns the transaction-bound form of the cached writer statement
// for query, or nil when there is none (the query then runs unprepared).
func (t *tx) stmt(ctx context.Context, query string) *sql.Stmt {
	t.db.mu.Lock()
	s := t.db.wStmts[query]
	t.db.mu.Unlock()
	if s == nil {
		return nil
	}
	if ts, ok := t.stmts[s]; ok {
		return ts
	}
	ts := t.tx.StmtContext(ctx, s)
	if t.stmts == nil {
		t.stmts = make(map[*sql.Stmt]*sql.Stmt, 4)
	}
	t.stmts[s] = ts
	return ts
}

func (t *tx) closeStmts() {
	for _, s := range t.stmts {
		s.Close()
	}
}

func (t *tx) exec(ctx context.Context, query string, args ...any) error {
	var err error
	if s := t.stmt(ctx, query); s != nil {
		_, err = s.ExecContext(ctx, args...)
	} else {
		_, err = t.tx.ExecContext(ctx, query, args...)
	}
	return err
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// likePattern returns a LIKE pattern (with ESCAPE '\') matching q anywhere.
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(q) + "%"
}

// execOne runs a statement that must change exactly one row; none is
// sql.ErrNoRows (the row does not exist).
func (t *tx) execOne(ctx context.Context, query string, args ...any) error {
	var (
		res sql.Result
		err error
	)
	if s := t.stmt(ctx, query); s != nil {
		res, err = s.ExecContext(ctx, args...)
	} else {
		res, err = t.tx.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return sql.ErrNoRows
	}
	return nil
}

// Enqueue inserts the jobs with River's InsertManyTx on this transaction.
func (t *tx) Enqueue(ctx context.Context, jobs ...crm.JobArgs) error {
	if len(jobs) == 0 {
		return nil
	}
	params := riverjobs.InsertParams(jobs)
	if _, err := t.db.jobs.InsertManyTx(ctx, t.tx, params); err != nil {
		return mapErr("enqueue", "", err)
	}
	return nil
}

// CountJobs counts River's jobs of a kind, in any state (for tests and tools).
func (db *DB) CountJobs(ctx context.Context, kind string) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = ?`, kind).Scan(&n)
	return n, mapErr("count jobs", "", err)
}

// JobArgs returns the JSON arguments of River's jobs of a kind, oldest first
// (for tests and tools).
func (db *DB) JobArgs(ctx context.Context, kind string) ([][]byte, error) {
	return queryAll(ctx, db, "job args", func(r scanner) ([]byte, error) {
		var b []byte
		err := r.Scan(&b)
		return b, err
	}, `SELECT json(args) FROM river_job WHERE kind = ? ORDER BY id`, kind)
}
