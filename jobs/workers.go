package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/crmleads/crm"
)

// Webhooks is what the webhook workers need of the service.
type Webhooks interface {
	// FanOut creates the deliveries of one event and enqueues their jobs.
	// Running it again for the same event creates nothing new.
	FanOut(ctx context.Context, job crm.WebhookFanOutJob) error
	// Deliver makes one attempt of a delivery and says whether, and when, to
	// try again. An error is the service's own failure (the database, say):
	// River retries the job without counting an attempt of the delivery.
	Deliver(ctx context.Context, job crm.WebhookDeliverJob) (crm.DeliveryNext, error)
}

type fanOutWorker struct {
	river.WorkerDefaults[crm.WebhookFanOutJob]
	hooks Webhooks
}

func (w *fanOutWorker) Work(ctx context.Context, job *river.Job[crm.WebhookFanOutJob]) error {
	return w.hooks.FanOut(ctx, job.Args)
}

type deliverWorker struct {
	river.WorkerDefaults[crm.WebhookDeliverJob]
	hooks    Webhooks
	observer Observer
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[crm.WebhookDeliverJob]) error {
	next, err := w.hooks.Deliver(ctx, job.Args)
	if err != nil {
		return err
	}
	if w.observer != nil {
		if result := deliveryResult[next.Status]; result != "" {
			w.observer.WebhookDelivered(next.EventType, result)
		}
	}
	if next.Retry {
		// A snooze is not an attempt for River: the delivery counts its own
		// attempts and decides when it is dead.
		return river.JobSnooze(next.After)
	}
	return nil
}

// deliveryResult names the result of an attempt by the delivery's status
// after it; a run that made no attempt has none.
var deliveryResult = map[string]string{
	crm.DeliverySucceeded: "delivered",
	crm.DeliveryFailed:    "retrying",
	crm.DeliveryDead:      "given_up",
}

// Reminders is what the reminder worker needs of the service.
type Reminders interface {
	// RemindTask notifies a due task's assignee, once; a stale job (the task
	// moved, done or deleted) does nothing.
	RemindTask(ctx context.Context, job crm.TaskDueJob) error
}

type reminderWorker struct {
	river.WorkerDefaults[crm.TaskDueJob]
	tasks Reminders
}

func (w *reminderWorker) Work(ctx context.Context, job *river.Job[crm.TaskDueJob]) error {
	return w.tasks.RemindTask(ctx, job.Args)
}

// Calibrations is what the refit worker needs of the service.
type Calibrations interface {
	// Recalibrate fits and stores the calibrations of every prompt version
	// with enough outcomes.
	Recalibrate(ctx context.Context) ([]*crm.Calibration, error)
}

type refitWorker struct {
	river.WorkerDefaults[crm.CalibrationRefitJob]
	cals Calibrations
}

func (w *refitWorker) Work(ctx context.Context, job *river.Job[crm.CalibrationRefitJob]) error {
	_, err := w.cals.Recalibrate(crm.WithActor(ctx, crm.System))
	return err
}

// Batches is what the batch worker needs of the service.
type Batches interface {
	// RunBatch advances a batch re-analysis one step and says whether, and
	// when, to run again.
	RunBatch(ctx context.Context, job crm.AIBatchJob) (crm.BatchNext, error)
}

type batchWorker struct {
	river.WorkerDefaults[crm.AIBatchJob]
	batches Batches
}

func (w *batchWorker) Work(ctx context.Context, job *river.Job[crm.AIBatchJob]) error {
	next, err := w.batches.RunBatch(ctx, job.Args)
	if err != nil {
		return err
	}
	if next.Again {
		// Polling is a snooze, not a sleeping goroutine: the job leaves the
		// worker, and any replica picks it up at the next poll.
		return river.JobSnooze(next.After)
	}
	return nil
}

// Imports is what the import worker needs of the service.
type Imports interface {
	// Run works one slice of an import's preview or commit and says
	// whether to run again.
	Run(ctx context.Context, job crm.ImportJob) (crm.ImportNext, error)
}

type importWorker struct {
	river.WorkerDefaults[crm.ImportJob]
	imports Imports
}

func (w *importWorker) Work(ctx context.Context, job *river.Job[crm.ImportJob]) error {
	next, err := w.imports.Run(ctx, job.Args)
	if err != nil {
		return err
	}
	if next.Again {
		// A slice ended: available again at once, on whichever replica
		// fetches it first; no run comes near the job timeout.
		return river.JobSnooze(0)
	}
	return nil
}

// refitJob is the periodic job of the calibration refit: enqueued by the
// leader every interval and when it is elected, unique within its period.
func refitJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return crm.CalibrationRefitJob{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
	}, &river.PeriodicJobOpts{ID: crm.CalibrationRefitJob{}.Kind(), RunOnStart: true})
}

// errorLogger logs jobs that failed or panicked; River retries them.
type errorLogger struct{ log *slog.Logger }

func (h *errorLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	h.log.WarnContext(ctx, "job failed; River retries it", "kind", job.Kind, "job_id", job.ID, "attempt", job.Attempt, "err", err)
	return nil
}

func (h *errorLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, v any, trace string) *river.ErrorHandlerResult {
	h.log.ErrorContext(ctx, "job panicked; River retries it", "kind", job.Kind, "job_id", job.ID, "attempt", job.Attempt, "panic", v, "trace", trace)
	return nil
}
