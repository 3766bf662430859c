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
type DeliveryNext struct {
	Retry bool
	After time.Duration
}
