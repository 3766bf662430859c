// Command crmleads runs the CRM leads service: `crmleads` or `crmleads serve`
// migrates the database and serves the API and the web app; `crmleads migrate
// up|down|status`, `crmleads user add`, `crmleads version` do what they say.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	metricnoop "go.opentelemetry.io/otel/metric/noop"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai"
	"github.com/crmleads/crm/auth"
	"github.com/crmleads/crm/internal/metrics"
	"github.com/crmleads/crm/internal/tracing"
	"github.com/crmleads/crm/jobs"
	"github.com/crmleads/crm/postgres"
	"github.com/crmleads/crm/sqlite"
	"github.com/crmleads/crm/ui"
	"github.com/crmleads/crm/web"
	"github.com/crmleads/crm/webhook"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "crmleads:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  crmleads [serve]                      migrate the database, then serve
  crmleads migrate up|down|status       manage the schema
  crmleads user add --email E --role R [--name N]   add a user; the password is read from stdin
  crmleads user set-password --email E  set a user's password (read from stdin); works while the service runs
  crmleads demo seed --leads N [--seed S] [--force]   fill the database with demo data (docs/AI.md, "Demo data")
  crmleads batch status ID              the progress of a batch re-analysis (docs/AI.md, "Batch re-analysis")
  crmleads import --as EMAIL [--owner EMAIL] [--source S] [--allow-duplicates] [--dry-run] FILE
                                        import leads from a CSV file (- for stdin), progress on stderr (docs/IMPORT.md)
  crmleads healthcheck                  exit 0 when the local server is ready (for container health checks)
  crmleads version`

// run is the whole program, with its environment passed in so that tests can
// start it for real with a fake one.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 1 {
		cmd = args[1]
	}
	if cmd == "version" {
		fmt.Fprintln(stdout, "crmleads", version)
		return nil
	}
	if cmd == "healthcheck" {
		return healthcheck(ctx, getenv)
	}
	if cmd != "serve" && cmd != "migrate" && cmd != "user" && cmd != "demo" && cmd != "batch" && cmd != "import" {
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	getenv, err := envWithDotenv(getenv)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	// Traces only from the server: the other commands are short and local.
	tcfg := cfg.Tracing
	if cmd != "serve" {
		tcfg = tracing.Config{}
	}
	tr, err := tracing.New(ctx, tcfg)
	if err != nil {
		return err
	}
	defer func() {
		// Last, after the server and the job engine stopped: their final
		// spans are flushed too.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := tr.Shutdown(sctx); err != nil {
			log.Warn("traces not flushed", "err", err)
		}
	}()
	st, err := openStoreWith(ctx, cfg.DatabaseURL, tr.QueryTracer())
	if err != nil {
		return err
	}
	defer st.Close()

	switch cmd {
	case "migrate":
		if len(args) < 3 {
			return errors.New(usage)
		}
		return st.Migrate(ctx, args[2], stdout)
	case "user":
		if err := st.Migrate(ctx, "up", io.Discard); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return userCommand(ctx, args[2:], st, cfg, stdin, stdout)
	case "demo":
		if err := st.Migrate(ctx, "up", io.Discard); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return demoCommand(ctx, args[2:], st, cfg, log, stdout)
	case "batch":
		if err := st.Migrate(ctx, "up", io.Discard); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return batchCommand(ctx, args[2:], st, cfg, stdout)
	case "import":
		if err := st.Migrate(ctx, "up", io.Discard); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return importCommand(ctx, args[2:], st, cfg, stdin, stdout, stderr)
	}
	return serve(ctx, cfg, st, log, tr)
}

// migratingStore is a store that can also manage its schema.
type migratingStore interface {
	crm.Store
	Migrate(ctx context.Context, cmd string, w io.Writer) error
}

func openStore(ctx context.Context, url string) (migratingStore, error) {
	return openStoreWith(ctx, url, nil)
}

// openStoreWith opens the store; tracer, when not nil, traces PostgreSQL's
// statements (SQLite's are not traced).
func openStoreWith(ctx context.Context, url string, tracer pgx.QueryTracer) (migratingStore, error) {
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		return db, nil
	}
	db, err := postgres.OpenWith(ctx, url, postgres.Options{Tracer: tracer})
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return db, nil
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// newService wires the domain services; wrap, when given, wraps the scorer
// in turn (the metrics, the traces), so every AI call is recorded.
func newService(cfg config, st crm.Store, wrap ...func(crm.Scorer) crm.Scorer) (*crm.Services, error) {
	var scorer crm.Scorer
	scorer, err := ai.New(cfg.AI)
	if err != nil {
		return nil, fmt.Errorf("AI: %w", err)
	}
	for _, w := range wrap {
		scorer = w(scorer)
	}
	// The batch client is the concrete one: the metrics wrap single calls only.
	batcher, err := ai.NewBatcher(cfg.AI)
	if err != nil {
		return nil, fmt.Errorf("AI: %w", err)
	}
	sender := webhook.New(webhook.Config{AllowPrivate: cfg.WebhookAllowPrivate, TelegramAPI: cfg.TelegramAPI})
	return crm.NewServices(crm.Config{Store: st, Scorer: scorer, Hasher: auth.Bcrypt{Cost: cfg.BcryptCost},
		MinScore: cfg.MinScore, Domains: cfg.Domains, RateLimit: cfg.RateLimit, AIDailyQuota: cfg.AIDailyQuota,
		Batches: batcher, BatchPollInterval: cfg.BatchPollInterval, MonthlyBudgetUSD: cfg.MonthlyBudgetUSD,
		Webhooks:    crm.WebhookConfig{Sender: sender, AllowPrivate: cfg.WebhookAllowPrivate, Schedule: cfg.WebhookSchedule},
		ImportSlice: cfg.importSlice,
	}), nil
}

func serve(ctx context.Context, cfg config, st migratingStore, log *slog.Logger, tr *tracing.Tracing) error {
	// Concurrent replicas may start at once: the PostgreSQL store serializes
	// migrations with an advisory lock.
	if err := st.Migrate(ctx, "up", io.Discard); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	ms := metrics.New()
	registerDB(ms, st)
	wrap := []func(crm.Scorer) crm.Scorer{ms.Scorer}
	var plugins []rivertype.Plugin
	if tr.Enabled() {
		wrap = append(wrap, func(s crm.Scorer) crm.Scorer { return ai.Traced(s, tr.Tracer()) })
		plugins = append(plugins, otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
			TracerProvider: tr.Provider(), MeterProvider: metricnoop.NewMeterProvider(), // metrics are Prometheus's
			EnableWorkSpanJobKindSuffix: true}))
	}
	svc, err := newService(cfg, st, wrap...)
	if err != nil {
		return err
	}
	if err := bootstrapAdmin(ctx, cfg, svc, log); err != nil {
		return err
	}
	key, err := auth.SigningKey(ctx, st, cfg.JWTSecret)
	if err != nil {
		return err
	}
	tokens := auth.NewTokens(key, cfg.TokenTTL)
	// The web app parses its templates here: a broken one stops the start
	// with an error rather than a panic or a failing click.
	app, err := ui.New(ui.Deps{Services: svc, Tokens: tokens, Logger: log})
	if err != nil {
		return fmt.Errorf("web app: %w", err)
	}
	deps := web.Deps{Services: svc, Tokens: tokens, Logger: log, Version: version,
		CORSOrigins: cfg.CORSOrigins, TrustedProxies: cfg.Proxies, Pages: app.Mount, Metrics: ms}
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           tr.Handler(web.NewServer(deps)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second, // longer than the bound on an AI call
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("CRM_ADDR: %w", err)
	}
	engine, err := newEngine(st, jobs.Config{Logger: log, Webhooks: svc.Webhooks, Reminders: svc.Leads,
		Calibrations: svc.Analyses, RefitInterval: cfg.RefitInterval, Batches: svc.Analyses, Imports: svc.Imports,
		JobTimeout: cfg.JobTimeout, RescueAfter: cfg.JobRescueAfter, Observer: ms, Plugins: plugins})
	if err != nil {
		ln.Close()
		return err
	}
	ms.RegisterQueue(func(ctx context.Context) ([]metrics.QueueDepth, error) {
		depth, err := engine.Depth(ctx)
		out := make([]metrics.QueueDepth, len(depth))
		for i, d := range depth {
			out[i] = metrics.QueueDepth{Queue: d.Queue, Kind: d.Kind, State: d.State, Jobs: d.Jobs}
		}
		return out, err
	})
	// The engine stops when serve says so, below, not when the signal
	// arrives: it must stop softly, alongside the HTTP server.
	if err := engine.Start(context.WithoutCancel(ctx)); err != nil {
		ln.Close()
		return err
	}
	log.Info("listening", "addr", ln.Addr().String(), "database", dbKind(cfg.DatabaseURL),
		"ai_provider", aiProvider(cfg.AI), "version", version, "tracing", tr.Enabled())
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	// Metrics have a listener of their own, kept off the public port; none
	// without CRM_METRICS_ADDR.
	var msrv *http.Server
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			srv.Close()
			return fmt.Errorf("CRM_METRICS_ADDR: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", ms.Handler())
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		log.Info("metrics listening", "addr", mln.Addr().String())
		go func() {
			if err := msrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("metrics listener: %w", err)
			}
		}()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Graceful shutdown, within one window: stop accepting and let in-flight
	// requests finish; at the same time stop the job engine softly (running
	// jobs finish), then hard (they are cancelled, and retried later).
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	jobsStopped := make(chan error, 1)
	go func() { jobsStopped <- engine.Stop(sctx) }()
	err = srv.Shutdown(sctx)
	if msrv != nil {
		_ = msrv.Shutdown(sctx)
	}
	if jerr := <-jobsStopped; jerr != nil {
		log.Warn("job engine stop", "err", jerr)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// newEngine returns the job engine on the store's own database.
func newEngine(st migratingStore, cfg jobs.Config) (jobs.Engine, error) {
	switch db := st.(type) {
	case *postgres.DB:
		return jobs.NewPostgres(db.Pool(), cfg)
	case *sqlite.DB:
		return jobs.NewSQLite(db.Writer(), cfg)
	}
	return nil, fmt.Errorf("no job engine for a %T", st)
}

func dbKind(url string) string {
	if strings.HasPrefix(url, "sqlite:") {
		return "sqlite"
	}
	return "postgres"
}

func aiProvider(c ai.Config) string {
	if c.Provider != "" {
		return c.Provider
	}
	if c.APIKey != "" {
		return "claude"
	}
	return "baseline"
}

// bootstrapAdmin creates the first admin on an empty database: the configured
// one, or admin@localhost with a random password printed once to the log.
func bootstrapAdmin(ctx context.Context, cfg config, svc *crm.Services, log *slog.Logger) error {
	email, password := cfg.AdminEmail, cfg.AdminPassword
	generated := email == ""
	if generated {
		b := make([]byte, 15)
		_, _ = rand.Read(b)
		email, password = "admin@localhost", base64.RawURLEncoding.EncodeToString(b)
	}
	created, err := svc.Users.Bootstrap(ctx, email, password)
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	if created && generated {
		log.Warn("created the first admin; this password is shown only once, change it after signing in",
			"email", email, "password", password)
	} else if created {
		log.Info("created the first admin", "email", email)
	}
	return nil
}

func userCommand(ctx context.Context, args []string, st crm.Store, cfg config, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "set-password") {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	email := fs.String("email", "", "email (required)")
	role := fs.String("role", "manager", "manager, senior_manager or admin")
	name := fs.String("name", "", "display name")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	pw, err := io.ReadAll(io.LimitReader(stdin, 4096))
	if err != nil {
		return fmt.Errorf("read the password from stdin: %w", err)
	}
	password := strings.TrimRight(string(pw), "\r\n")
	svc, err := newService(cfg, st)
	if err != nil {
		return err
	}
	ctx = crm.WithActor(ctx, crm.System)
	if args[0] == "set-password" {
		if *email == "" {
			return errors.New("user set-password: --email is required")
		}
		u, err := svc.Users.SetPassword(ctx, *email, password)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password set for %s (%s); the user's older sign-ins have ended\n", u.Email, u.ID)
		return nil
	}
	u, err := svc.Users.CreateUser(ctx, crm.UserInput{Email: *email, Name: *name,
		Role: crm.Role(*role), Password: password})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s %s (%s)\n", u.Role, u.Email, u.ID)
	return nil
}

// healthcheck asks the server on CRM_ADDR for /readyz: container images
// without a shell or curl use it as their health check.
func healthcheck(ctx context.Context, getenv func(string) string) error {
	addr := or(getenv("CRM_ADDR"), ":8000")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("CRM_ADDR: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s", resp.Status)
	}
	return nil
}

// registerDB exports the connection pools of st to the metrics.
func registerDB(ms *metrics.Set, st crm.Store) {
	fromSQL := func(db *sql.DB) func() metrics.DBStats {
		return func() metrics.DBStats {
			s := db.Stats()
			return metrics.DBStats{Open: s.OpenConnections, InUse: s.InUse, Idle: s.Idle,
				Max: s.MaxOpenConnections, WaitCount: s.WaitCount, WaitDuration: s.WaitDuration}
		}
	}
	switch db := st.(type) {
	case *postgres.DB:
		ms.RegisterDB("postgres", func() metrics.DBStats {
			s := db.Pool().Stat()
			return metrics.DBStats{Open: int(s.TotalConns()), InUse: int(s.AcquiredConns()), Idle: int(s.IdleConns()),
				Max: int(s.MaxConns()), WaitCount: s.EmptyAcquireCount(), WaitDuration: s.EmptyAcquireWaitTime()}
		})
	case *sqlite.DB:
		ms.RegisterDB("sqlite_writer", fromSQL(db.Writer()))
		ms.RegisterDB("sqlite_reader", fromSQL(db.Reader()))
	}
}

// batchCommand reads a batch re-analysis as the system (the command runs on
// the database's own machine, as user set-password does).
func batchCommand(ctx context.Context, args []string, st crm.Store, cfg config, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "status" {
		return errors.New(usage)
	}
	svc, err := newService(cfg, st)
	if err != nil {
		return err
	}
	b, err := svc.Analyses.Batch(crm.WithActor(ctx, crm.System), args[1])
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, batchStatus(b))
	return nil
}

// batchStatus is a batch's progress in one line.
func batchStatus(b *crm.AIBatch) string {
	pct := 0
	if b.Total > 0 {
		pct = (b.Done + b.Failed) * 100 / b.Total
	}
	line := fmt.Sprintf("batch %s %s: %d of %d done, %d failed (%d%%); created %s", b.ID, b.Status, b.Done, b.Total,
		b.Failed, pct, b.CreatedAt.Format(time.RFC3339))
	if !b.FinishedAt.IsZero() {
		line += ", finished " + b.FinishedAt.Format(time.RFC3339)
	}
	if b.Error != "" {
		line += "; error: " + b.Error
	}
	return line
}
