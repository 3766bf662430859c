package crm

import "time"

// JobArgs are the arguments of a background job. Kind names the job's worker;
// the value itself is stored as JSON, so its fields need JSON tags and must
// hold ids, not whole records (a job may run long after it was enqueued, and
// reads the current state when it does).
//
// It is the job engine's own contract (River's JobArgs is this one method), so
// the domain defines jobs without depending on the engine.
type JobArgs interface {
	Kind() string
}

// WebhookFanOutJob turns one webhook event into one delivery per enabled
// subscription that wants its type. It is enqueued in the transaction that
// records the event.
type WebhookFanOutJob struct {
	EventID string `json:"event_id"`
}

// Kind implements JobArgs.
func (WebhookFanOutJob) Kind() string { return "webhook_fan_out" }

// WebhookDeliverJob attempts one delivery until it succeeds or is dead. Run
// is the delivery's run it belongs to: a replay starts a new run, and a job of
// an older run that wakes up later finds itself superseded and stops.
type WebhookDeliverJob struct {
	DeliveryID string `json:"delivery_id"`
	Run        int    `json:"run"`
}

// Kind implements JobArgs.
func (WebhookDeliverJob) Kind() string { return "webhook_deliver" }

// DeliveryNext says what follows an attempt: Retry after After, or nothing.
// Status is the delivery's status once the attempt is recorded (succeeded,
// failed with Retry, or dead), empty when no attempt was made (superseded,
// finished already, deleted); EventType is its event's, for the metrics.
type DeliveryNext struct {
	Retry     bool
	After     time.Duration
	Status    string
	EventType string
}

// ScheduledJob is a job that must not run before RunAt. The stores enqueue
// it as a scheduled job of the engine (River's InsertOpts.ScheduledAt).
type ScheduledJob interface {
	JobArgs
	RunAt() time.Time
}

// TaskDueJob reminds a task's assignee that it is due. It is enqueued,
// scheduled at the due time, in the transaction that creates the task or
// moves its due time. It carries the due time it was scheduled for: a task
// moved, done or deleted since then makes it stale, and it does nothing when
// it runs (the move enqueued the job of the new time). Nothing ever has to
// find and cancel an old job, so no change of a task can race one.
type TaskDueJob struct {
	TaskID string    `json:"task_id"`
	DueAt  time.Time `json:"due_at"`
}

// Kind implements JobArgs.
func (TaskDueJob) Kind() string { return "task_due" }

// RunAt implements ScheduledJob: the reminder waits for the due time.
func (j TaskDueJob) RunAt() time.Time { return j.DueAt }

// QueuedJob is a job as the engine holds it (for tests and tools).
type QueuedJob struct {
	Kind        string
	Args        string // JSON
	State       string // River's: scheduled, available, running, completed, ...
	ScheduledAt time.Time
}

// CalibrationRefitJob refits the calibrations of the AI's scores from the
// outcomes recorded so far (AnalysisService.Recalibrate). It is a periodic
// job: the engine's elected leader enqueues it on a schedule, so replicas
// never refit side by side.
type CalibrationRefitJob struct{}

// Kind implements JobArgs.
func (CalibrationRefitJob) Kind() string { return "ai_calibration_refit" }
