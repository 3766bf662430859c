// Package postgres implements crm.Store on PostgreSQL through a pgx pool.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/migrate"
)

//go:embed migrations/*.sql
var embedded embed.FS

// migrationsFS is the migrations directory itself, as goose expects.
var migrationsFS = func() fs.FS {
	sub, err := fs.Sub(embedded, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}()

// migrationVersions lists the versions of the embedded migrations, read from
// their file names, so Ping can check them without building a goose provider.
var migrationVersions = func() []int64 {
	var vs []int64
	names, _ := fs.Glob(migrationsFS, "*.sql")
	for _, n := range names {
		var v int64
		if _, err := fmt.Sscanf(n, "%d_", &v); err == nil {
			vs = append(vs, v)
		}
	}
	return vs
}()

// defaultMaxConns is the pool size unless the URL sets pool_max_conns: enough
// for a busy replica, small enough that several replicas stay well below
// PostgreSQL's default max_connections of 100.
const defaultMaxConns = 16

// DB is a PostgreSQL crm.Store.
type DB struct {
	pool *pgxpool.Pool
	// q is the pool for the store's statements: each carries the request's
	// pending actor check, if any (fold.go).
	q folding
	// limits is a small pool whose commits do not wait for the WAL flush
	// (synchronous_commit off), for the rate-limit buckets and quota
	// counters (limits.go): each is a hot row, locked by its upsert until
	// commit, and a flush-long lock on every request of one user or one
	// address serialises them all. A crash may lose the last fraction of a
	// second of counted requests, which only lets a few more through.
	limits     folding
	limitsPool *pgxpool.Pool
	cfg        *pgxpool.Config
	// jobs is an insert-only River client: Tx.Enqueue inserts through it on
	// the store's own transaction. The client that works the jobs is the
	// jobs package's, on the same pool.
	jobs *river.Client[pgx.Tx]
}

var _ crm.Store = (*DB)(nil)

// Open returns a store over the database at url (a postgres:// URL; runtime
// parameters such as search_path and pgxpool's pool_* settings are honoured).
// It does not connect: connections are made on demand, so a database that is
// down at start-up gives EUNAVAILABLE errors until it is back, not a failed
// start. Open does not migrate; see Migrate.
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenWith(ctx, url, Options{})
}

// Options are the store's optional parts.
type Options struct {
	// Tracer, when set, is told of every statement (tracing); it may also
	// implement pgx.BatchTracer, as it should: the store pipelines its
	// writes as batches.
	Tracer pgx.QueryTracer
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The message of a parse error may hold the password; pgx redacts it.
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// Without a timeout a dial to a black-holed host waits for the request's
		// context (or the OS) and the readiness check hangs with it.
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	lcfg := cfg.Copy()
	lcfg.MaxConns = min(cfg.MaxConns, 4)
	lcfg.MinConns = 0
	lcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	limits, err := pgxpool.NewWithConfig(ctx, lcfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		pool.Close()
		limits.Close()
		return nil, fmt.Errorf("postgres: job client: %w", err)
	}
	return &DB{pool: pool, q: folding{q: pool}, limits: folding{q: limits}, limitsPool: limits, cfg: cfg, jobs: jobs}, nil
}

// Close closes every connection of the pool.
func (db *DB) Close() error {
	db.pool.Close()
	db.limitsPool.Close()
	return nil
}

// CountJobs counts River's jobs of a kind, in any state (for tests and tools).
func (db *DB) CountJobs(ctx context.Context, kind string) (int, error) {
	var n int
	err := db.q.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1`, kind).Scan(&n)
	return n, classify("count jobs", err, "")
}

// JobArgs returns the JSON arguments of River's jobs of a kind, oldest first
// (for tests and tools).
func (db *DB) JobArgs(ctx context.Context, kind string) ([][]byte, error) {
	rows, err := db.q.Query(ctx, `SELECT args FROM river_job WHERE kind = $1 ORDER BY id`, kind)
	if err != nil {
		return nil, classify("job args", err, "")
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	return out, classify("job args", err, "")
}

// Pool returns the underlying pool (for benchmarks and tools).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks that the database answers and that every embedded migration is
// applied, in one round trip.
func (db *DB) Ping(ctx context.Context) error {
	var applied int
	err := db.q.QueryRow(ctx,
		`SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id = ANY($1) AND is_applied`,
		migrationVersions).Scan(&applied)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: never migrated
		return crm.DBNotMigrated(fmt.Errorf("postgres: ping: %w", err))
	}
	if err != nil {
		if e := classify("ping", err, ""); crm.ErrorKind(e) == crm.EUNAVAILABLE {
			return e
		}
		return crm.DBUnavailable(fmt.Errorf("postgres: ping: %w", err))
	}
	if applied != len(migrationVersions) {
		return crm.DBNotMigrated(fmt.Errorf("postgres: ping: %d of %d migrations applied", applied, len(migrationVersions)))
	}
	return nil
}

// Migrate runs a goose command over the embedded migrations: "up" (all
// pending), "down" (the last one) or "status" (one line per migration on w).
// A session advisory lock serializes replicas migrating at once.
func (db *DB) Migrate(ctx context.Context, cmd string, w io.Writer) error {
	if w == nil {
		w = io.Discard
	}
	if err := migrate.CheckCommand(cmd); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	// A database/sql handle on the same settings as the pool (search_path
	// included); pool_* parameters were already stripped by pgxpool.
	sqlDB := stdlib.OpenDB(*db.cfg.ConnConfig.Copy())
	defer sqlDB.Close()
	// One connection holds the lock, one runs goose; more would only be idle.
	sqlDB.SetMaxOpenConns(2)

	lockID, err := migrationLockID(ctx, sqlDB)
	if err != nil {
		return classify("migrate", err, "")
	}
	// Poll every second (the minimum) for up to 5 minutes: a replica that
	// lost the race waits for the winner's migrations, then finds none pending.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	// The lock is taken here rather than by goose, so that River's migrations
	// run under the same lock as ours: a replica never sees our schema new
	// and River's old, and two replicas never race River's migrator.
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return classify("migrate", err, "")
	}
	defer conn.Close()
	if err := locker.SessionLock(ctx, conn); err != nil {
		return classify("migrate: lock", err, "")
	}
	defer func() { _ = locker.SessionUnlock(context.WithoutCancel(ctx), conn) }()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrationsFS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if err := migrate.Run(ctx, p, cmd, w); err != nil {
		return classify("migrate", err, "")
	}
	if err := db.migrateRiver(ctx, cmd, w); err != nil {
		return classify("migrate river", err, "")
	}
	return nil
}

// migrateRiver applies River's own migrations on "up" (its tables live in
// the same schema, found through search_path like ours) and reports them on
// "status". "down" leaves them: it undoes our last migration only, and River's
// tables hold no data of ours.
func (db *DB) migrateRiver(ctx context.Context, cmd string, w io.Writer) error {
	m, err := rivermigrate.New(riverpgxv5.New(db.pool), &rivermigrate.Config{Logger: migrate.QuietLogger})
	if err != nil {
		return err
	}
	return migrate.River(ctx, m, cmd, w)
}

// migrationLockID derives the advisory lock id from the database and schema:
// replicas of one deployment contend for the same lock, while separate schemas
// (such as parallel tests) do not wait for each other.
func migrationLockID(ctx context.Context, db *sql.DB) (int64, error) {
	var name string
	if err := db.QueryRowContext(ctx, `SELECT current_database() || '.' || coalesce(current_schema(), '')`).Scan(&name); err != nil {
		return 0, err
	}
	h := fnv.New64a()
	h.Write([]byte("crm-goose." + name))
	return int64(h.Sum64() & (1<<63 - 1)), nil
}

// classify turns a driver error into a *crm.Error. what names the resource of
// a single-row read ("lead", "sale", ...) for ENOTFOUND.
func classify(op string, err error, what string) error {
	if err == nil {
		return nil
	}
	var ce *crm.Error
	if errors.As(err, &ce) {
		return err
	}
	cause := fmt.Errorf("postgres: %s: %w", op, err)
	if errors.Is(err, pgx.ErrNoRows) {
		if what == "" {
			what = "row"
		}
		return crm.NotFound(what)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return cause
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			switch pe.ConstraintName {
			case "users_email_key":
				return crm.EmailTaken(cause)
			case "sales_one_per_lead":
				return crm.SaleExists(cause)
			}
			return crm.Duplicate(cause)
		case pe.Code == "23503": // foreign_key_violation
			return crm.MissingReference(cause)
		case pe.Code == "40001" || pe.Code == "40P01":
			// Serialization failure or deadlock: the losing side of a race.
			return crm.ConcurrentChange(cause)
		case strings.HasPrefix(pe.Code, "23") || strings.HasPrefix(pe.Code, "22"):
			// Integrity and data exceptions: the domain validates first, so
			// these are a last line of defence, but bad input is never a 500.
			return crm.BrokenRule(cause)
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"),
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03",
			pe.Code == "25006": // read-only transaction: a replica during failover
			return crm.DBUnavailable(cause)
		}
		return &crm.Error{Kind: crm.EINTERNAL, Code: "internal", Message: "internal error", Cause: cause}
	}
	if isConnError(err) {
		return unavailable(cause)
	}
	return &crm.Error{Kind: crm.EINTERNAL, Code: "internal", Message: "internal error", Cause: cause}
}

func unavailable(cause error) error { return crm.DBUnavailable(cause) }

// isConnError reports whether err (not a server error) comes from reaching or
// keeping the connection: dial, network, TLS, closed connection or pool.
func isConnError(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var se syscall.Errno
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.As(err, &se),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, net.ErrClosed),
		pgconn.Timeout(err):
		return true
	}
	// pgxpool reports a closed pool with a plain error, and pgconn marks
	// errors that happened before anything was sent as safe to retry.
	s := err.Error()
	return strings.Contains(s, "closed pool") || strings.Contains(s, "conn closed") || pgconn.SafeToRetry(err)
}
