// Package jobs runs the service's background work on River
// (github.com/riverqueue/river), in the service's own database: riverpgxv5 on
// the PostgreSQL store's pgx pool, riversqlite on the SQLite store's one
// writer connection.
//
// Jobs are enqueued by the stores, in the transaction of the change that
// causes them (crm.Tx.Enqueue, River's InsertManyTx on the store's own
// transaction), and River's tables are created by the stores' migrations,
// under the same lock as ours. This package owns the client that works them:
// its workers, its timeouts and its stop.
//
// Timing, and why:
//   - JobTimeout (30 s by default) bounds one run of a job. A webhook delivery
//     waits at most 15 s for its receiver, so 30 s leaves room for the
//     database work around it.
//   - RescueStuckJobsAfter (60 s by default) is how long a job may stay
//     "running" before River's rescuer (which runs on the elected leader every
//     30 s) makes it available again. A job is only ever left running that long
//     when its process died (kill -9, a lost machine): a live process either
//     finishes it or cancels it at JobTimeout. After a crash, the job runs again
//     on another process or on the same one restarted within about
//     60 s + 30 s + the leader's election (up to about 20 s after the old
//     leader died): under 2 minutes. It must stay above JobTimeout, or a slow
//     but live job would run twice.
//   - Stop is soft first: no new job starts and running ones get SoftStop
//     (20 s by default) to finish; then their contexts are cancelled (hard
//     stop). A job cut off returns an error, which River records and retries;
//     one whose process is killed before it can is rescued as above. A job is
//     therefore retried, never lost; its work must be idempotent (a webhook
//     delivery keeps its webhook-id, so receivers deduplicate).
//
// Task reminders (crm.TaskDueJob) are scheduled jobs: enqueued with the
// task's create or move, at its due time, and checked against the task when
// they run (a moved, done or deleted task makes them stale), so no change of
// a task ever has to find and cancel one.
//
// The calibration refit (crm.CalibrationRefitJob) is a periodic job of River:
// only the elected leader among the replicas runs River's periodic enqueuer,
// so one refit is enqueued per interval however many replicas run. A new
// leader enqueues one at once (RunOnStart: a leader that keeps changing, as
// in rolling deploys, would otherwise never reach an interval's end), and
// the job is unique by period, so a leader elected in the same interval as
// its predecessor's run adds nothing. A refit run twice (River runs a job at
// least once) writes the same fit twice: harmless.
//
// A CSV import (crm.ImportJob) previews and commits a slice of batches per
// run (crm.DefaultImportSlice) and snoozes for zero seconds in between, so a
// file of any size never nears the job timeout, and a crash costs one batch.
//
// A batch re-analysis (crm.AIBatchJob) is one job that snoozes between its
// polls of the provider (CRM_AI_BATCH_POLL_INTERVAL), so no goroutine sleeps
// through a batch that may take hours, and a restart loses nothing: the job
// wakes on whichever replica is there.
//
// Snoozes carry a webhook's own retry schedule (River's attempts count only
// failures of the service itself: errors and rescues), so the schedule lives
// in the domain, where it is tested, and River's default retry policy with
// its 25 attempts covers the rest.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// Defaults of Config.
const (
	DefaultJobTimeout  = 30 * time.Second
	DefaultRescueAfter = 60 * time.Second
	DefaultSoftStop    = 20 * time.Second
	DefaultMaxWorkers  = 10
	// DefaultRefitInterval is how often the calibrations are refitted.
	// Outcomes arrive as deals close, a few a day for most teams; a fit
	// moves little between two of them, and it reads every outcome, so
	// hourly is fresh enough and cheap.
	DefaultRefitInterval = time.Hour
)

// Config configures an Engine. Zero values take the defaults above.
type Config struct {
	Logger *slog.Logger
	// Webhooks, when set, registers the webhook fan-out and delivery workers.
	Webhooks Webhooks
	// Reminders, when set, registers the worker of task reminders.
	Reminders Reminders
	// Calibrations, when set, registers the periodic refit of the AI's
	// calibrations, every RefitInterval (DefaultRefitInterval when 0).
	Calibrations  Calibrations
	RefitInterval time.Duration
	// Batches, when set, registers the worker of batch re-analyses.
	Batches Batches
	// Imports, when set, registers the worker of CSV imports.
	Imports Imports

	MaxWorkers  int
	JobTimeout  time.Duration
	RescueAfter time.Duration
	SoftStop    time.Duration
	// PollInterval is how often the client looks for jobs it was not told
	// about (River's FetchPollInterval); 0 keeps River's default of 1 s.
	PollInterval time.Duration
	// ID names the client in River's tables (leader election, attempts);
	// random when empty.
	ID string
	// Observer, when set, is told how every job ended and how every webhook
	// delivery went (the metrics).
	Observer Observer
	// Plugins are River plugins to install (otelriver's tracing middleware,
	// when tracing is on).
	Plugins []rivertype.Plugin
}

// Observer is told what the engine did. Its methods must be quick: they run
// on the engine's own goroutines.
type Observer interface {
	// JobEnded is called once a run of a job is recorded: outcome is
	// completed, failed (River retries it), discarded (out of attempts),
	// cancelled or snoozed; run is the time the worker took.
	JobEnded(kind, outcome string, run time.Duration)
	// WebhookDelivered is called after each attempt of a webhook delivery:
	// result is delivered, retrying (another attempt is scheduled) or
	// given_up (the delivery is dead); event is the event's type.
	WebhookDelivered(event, result string)
}

// QueueDepth is how many jobs of one queue and kind are in one state that is
// not final (available, scheduled, running or retryable).
type QueueDepth struct {
	Queue, Kind, State string
	Jobs               int
}

// depthSQL counts the jobs still to do, in either dialect. River's
// fetching index leads with state, and jobs in these states are few next to
// finished ones, so the query stays cheap however long River keeps history.
const depthSQL = `SELECT queue, kind, CAST(state AS text), count(*) FROM river_job
WHERE state IN ('available', 'scheduled', 'running', 'retryable')
GROUP BY queue, kind, state ORDER BY queue, kind, state`

// Engine works the background jobs until it is stopped.
type Engine interface {
	// Start starts working jobs; it returns once the client runs.
	Start(ctx context.Context) error
	// Stop stops softly (running jobs get Config.SoftStop to finish), then
	// hard (their contexts are cancelled), and returns when every job has
	// returned or ctx is done.
	Stop(ctx context.Context) error
	// Depth counts the jobs not yet finished by queue, kind and state, read
	// from River's table (for the metrics; it works on a stopped engine too).
	Depth(ctx context.Context) ([]QueueDepth, error)
}

// NewPostgres returns an engine on the PostgreSQL store's pool.
func NewPostgres(pool *pgxpool.Pool, cfg Config) (Engine, error) {
	e, err := newEngine[pgx.Tx](riverpgxv5.New(pool), cfg, false)
	if err != nil {
		return nil, err
	}
	e.depth = func(ctx context.Context) ([]QueueDepth, error) {
		rows, err := pool.Query(ctx, depthSQL)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (QueueDepth, error) {
			var d QueueDepth
			err := r.Scan(&d.Queue, &d.Kind, &d.State, &d.Jobs)
			return d, err
		})
	}
	return e, nil
}

// NewSQLite returns an engine on the SQLite store's writer pool (see
// sqlite.DB.Writer). River's SQLite driver is young and wants one connection
// for its writes; it shares ours.
func NewSQLite(writer *sql.DB, cfg Config) (Engine, error) {
	e, err := newEngine[*sql.Tx](riversqlite.New(writer), cfg, true)
	if err != nil {
		return nil, err
	}
	e.depth = func(ctx context.Context) ([]QueueDepth, error) {
		rows, err := writer.QueryContext(ctx, depthSQL)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []QueueDepth
		for rows.Next() {
			var d QueueDepth
			if err := rows.Scan(&d.Queue, &d.Kind, &d.State, &d.Jobs); err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		return out, rows.Err()
	}
	return e, nil
}

type engine[TTx any] struct {
	client   *river.Client[TTx]
	idle     bool // no workers: Start and Stop do nothing
	observer Observer
	depth    func(ctx context.Context) ([]QueueDepth, error)
	// unsubscribe ends the subscription to River's job events, once the
	// client has stopped; observed is closed when their reader is done.
	unsubscribe func()
	observed    chan struct{}
}

func newEngine[TTx any](driver riverdriver.Driver[TTx], cfg Config, sqlite bool) (*engine[TTx], error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	workers := river.NewWorkers()
	if cfg.Webhooks != nil {
		river.AddWorker(workers, &fanOutWorker{hooks: cfg.Webhooks})
		river.AddWorker(workers, &deliverWorker{hooks: cfg.Webhooks, observer: cfg.Observer})
	}
	if cfg.Reminders != nil {
		river.AddWorker(workers, &reminderWorker{tasks: cfg.Reminders})
	}
	if cfg.Batches != nil {
		river.AddWorker(workers, &batchWorker{batches: cfg.Batches})
	}
	if cfg.Imports != nil {
		river.AddWorker(workers, &importWorker{imports: cfg.Imports})
	}
	var periodic []*river.PeriodicJob
	if cfg.Calibrations != nil {
		river.AddWorker(workers, &refitWorker{cals: cfg.Calibrations})
		periodic = append(periodic, refitJob(cmpOr(cfg.RefitInterval, DefaultRefitInterval)))
	}
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = DefaultMaxWorkers
	}
	if sqlite {
		// One writer at a time: more workers would only queue on the
		// connection (and hold the deliveries' HTTP calls meanwhile, which
		// they do outside any transaction, so a few still help).
		cfg.MaxWorkers = min(cfg.MaxWorkers, 4)
	}
	timeout := cmpOr(cfg.JobTimeout, DefaultJobTimeout)
	rescue := cmpOr(cfg.RescueAfter, DefaultRescueAfter)
	if rescue <= timeout {
		return nil, fmt.Errorf("jobs: the rescue window (%s) must be longer than the job timeout (%s)", rescue, timeout)
	}
	rc := &river.Config{
		ID:                   cfg.ID,
		Logger:               cfg.Logger.With("component", "river"),
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}},
		Workers:              workers,
		JobTimeout:           timeout,
		RescueStuckJobsAfter: rescue,
		SoftStopTimeout:      cmpOr(cfg.SoftStop, DefaultSoftStop),
		FetchPollInterval:    cfg.PollInterval,
		ErrorHandler:         &errorLogger{log: cfg.Logger},
		PeriodicJobs:         periodic,
		Plugins:              cfg.Plugins,
	}
	idle := cfg.Webhooks == nil && cfg.Reminders == nil && cfg.Calibrations == nil && cfg.Batches == nil && cfg.Imports == nil
	if idle {
		// Nothing to work: River refuses to start without a worker.
		rc.Queues, rc.Workers = nil, nil
	}
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return &engine[TTx]{client: client, idle: idle, observer: cfg.Observer}, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (e *engine[TTx]) Start(ctx context.Context) error {
	if e.idle {
		return nil
	}
	if e.observer != nil && e.unsubscribe == nil {
		// River's events carry the state it recorded (a failed job is
		// retryable or discarded), which a worker's own error cannot tell.
		// The channel is buffered and the reader only counts, so none is
		// dropped in practice.
		events, cancel := e.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
			river.EventKindJobCancelled, river.EventKindJobSnoozed)
		e.unsubscribe, e.observed = cancel, make(chan struct{})
		go func() {
			defer close(e.observed)
			for ev := range events {
				var run time.Duration
				if ev.JobStats != nil {
					run = ev.JobStats.RunDuration
				}
				e.observer.JobEnded(ev.Job.Kind, outcome(ev), run)
			}
		}()
	}
	if err := e.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// outcome names how a run of a job ended, from River's event.
func outcome(ev *river.Event) string {
	switch ev.Kind {
	case river.EventKindJobCompleted:
		return "completed"
	case river.EventKindJobSnoozed:
		return "snoozed"
	case river.EventKindJobCancelled:
		return "cancelled"
	}
	switch ev.Job.State {
	case rivertype.JobStateDiscarded:
		return "discarded"
	case rivertype.JobStateCancelled:
		return "cancelled"
	}
	return "failed"
}

func (e *engine[TTx]) Depth(ctx context.Context) ([]QueueDepth, error) {
	d, err := e.depth(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: depth: %w", err)
	}
	return d, nil
}

func (e *engine[TTx]) Stop(ctx context.Context) error {
	if e.idle {
		return nil
	}
	// River escalates to a hard stop by itself after SoftStopTimeout; Stop
	// then waits for the cancelled jobs to return.
	err := e.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// Out of time: cancel what still runs and wait a little for it.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err = e.client.StopAndCancel(hctx)
	}
	if e.unsubscribe != nil {
		// The events of the last jobs are sent before Stop returns; the
		// reader counts what is buffered, then ends.
		e.unsubscribe()
		<-e.observed
		e.unsubscribe = nil
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}
