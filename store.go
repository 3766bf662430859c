package crm

import (
	"context"
	"time"
)

// Store is the persistence contract. The sqlite and postgres packages implement
// it and the storetest package holds the one conformance suite both must pass.
//
// Stores return *Error values made by the domain's constructors, so that
// both give the same kind, code and message for the same failure (the
// conformance suite checks all three): NotFound for a missing row (a read,
// a Lock*, an update of a row that is not there); EmailTaken, SaleExists or
// Duplicate for a unique violation; MissingReference for a foreign-key
// violation; BrokenRule for any other constraint; ConcurrentChange for a race
// the database detected; DBUnavailable (and DBNotMigrated from Ping) when the
// database cannot serve; anything else is internal. Reads outside InTx see
// committed data.
type Store interface {
	// InTx runs fn in one write transaction, committed when fn returns nil and
	// rolled back otherwise. Rows read with Tx.Lock* stay locked against other
	// writers until InTx returns, so a rule checked on them holds at commit.
	//
	// A store may defer writes: PostgreSQL queues them and sends them at the
	// transaction's next read or at commit, in one round trip. A Tx write
	// method may then return nil for a write that fails later; its error (a
	// unique violation, a missing row to update, ...) is returned by InTx,
	// and the whole transaction, the writes before it included, is rolled
	// back. So decide on the error of InTx, never on a write method's nil.
	InTx(ctx context.Context, fn func(tx Tx) error) error

	Lead(ctx context.Context, id string) (*Lead, error)
	// Leads returns up to f.Limit leads matching f, newest first (by id).
	Leads(ctx context.Context, f LeadFilter) ([]*Lead, error)
	Sale(ctx context.Context, id string) (*Sale, error)
	SaleByLead(ctx context.Context, leadID string) (*Sale, error)
	// Sales returns up to f.Limit sales matching f, newest first (by id).
	Sales(ctx context.Context, f SaleFilter) ([]*Sale, error)
	// Events returns up to f.Limit events: a lead's oldest first when f.LeadID
	// is set, otherwise newest first.
	Events(ctx context.Context, f EventFilter) ([]*Event, error)
	// Analyses returns a lead's analysis log, newest first.
	Analyses(ctx context.Context, leadID string, limit int) ([]*AnalysisRecord, error)

	// Duplicates returns up to limit open leads matching any non-empty key
	// of k, owned by ownerID unless it is "".
	Duplicates(ctx context.Context, k DuplicateKeys, ownerID string, limit int) ([]*Lead, error)
	// LeadCounts counts leads (owned by ownerID unless "") by stage and by
	// whether they are open without an open task. It reads a summary the
	// store keeps in the same transaction as every change of a lead (both
	// stores: database triggers), never a scan of the leads.
	LeadCounts(ctx context.Context, ownerID string) ([]LeadCount, error)
	// SaleTotals counts and sums sales (of ownerID's leads unless "") by
	// stage and currency, from a summary kept like LeadCounts'.
	SaleTotals(ctx context.Context, ownerID string) ([]SaleTotal, error)
	// SaleScores sums the open sales with a value by currency and by their
	// lead's score, prompt version and model. It is a query (the scores
	// change with every analysis and calibration).
	SaleScores(ctx context.Context, ownerID string) ([]SaleScore, error)
	// LostReasons counts lost leads by reason, most first.
	LostReasons(ctx context.Context, ownerID string) ([]ReasonCount, error)

	// Task returns a task with its lead's owner and name.
	Task(ctx context.Context, id string) (*Task, error)
	// Tasks returns up to f.Limit tasks matching f, soonest due first.
	Tasks(ctx context.Context, f TaskFilter) ([]*Task, error)
	CountTasks(ctx context.Context, f TaskFilter) (int, error)
	// Activities returns a lead's activities, newest (by At) first.
	Activities(ctx context.Context, leadID string, limit int) ([]*Activity, error)

	// Notifications returns a user's notifications, newest first.
	Notifications(ctx context.Context, userID string, f NotificationFilter) ([]*Notification, error)
	CountUnread(ctx context.Context, userID string, since time.Time) (int, error)
	// MarkRead marks the user's notifications with the ids read (all of them
	// when ids is nil); others' ids are ignored.
	MarkRead(ctx context.Context, userID string, ids []string, at time.Time) error

	// SavedFilters returns a user's saved filters by name.
	SavedFilters(ctx context.Context, userID string) ([]*SavedFilter, error)

	User(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	Users(ctx context.Context) ([]*User, error)
	CountUsers(ctx context.Context) (int, error)

	// FailLoginAttempt marks a recorded sign-in attempt as failed.
	FailLoginAttempt(ctx context.Context, id string) error
	// DeleteLoginAttempts forgets the sign-in attempts with the given ids.
	DeleteLoginAttempts(ctx context.Context, ids []string) error

	// EnsureSetting stores value under key unless the key exists, and returns
	// the value stored (so concurrent replicas agree on one).
	EnsureSetting(ctx context.Context, key, value string) (string, error)
	// Setting returns the value stored under key; ENOTFOUND when there is none.
	Setting(ctx context.Context, key string) (string, error)

	// OutcomeScores returns the outcomes matching f as a histogram: one bin
	// per provider, model, prompt version and score.
	OutcomeScores(ctx context.Context, f OutcomeFilter) ([]ScoreCount, error)
	// Calibration returns the calibration of a provider, model and prompt
	// version; ENOTFOUND when none is fitted.
	Calibration(ctx context.Context, provider, model, promptVersion string) (*Calibration, error)
	// AnalysisCosts sums the billed analysis-log rows (those with tokens)
	// matching f, one entry per model, ordered by model.
	AnalysisCosts(ctx context.Context, f CostFilter) ([]ModelCost, error)

	// AIBatch returns a batch re-analysis; ENOTFOUND when there is none.
	AIBatch(ctx context.Context, id string) (*AIBatch, error)
	// AIBatches returns up to limit batches, newest first.
	AIBatches(ctx context.Context, limit int) ([]*AIBatch, error)
	// AIBatchItems returns a batch's items (in no particular order).
	AIBatchItems(ctx context.Context, batchID string) ([]*AIBatchItem, error)

	// Subscriptions returns every webhook subscription, oldest first.
	Subscriptions(ctx context.Context) ([]*Subscription, error)
	Subscription(ctx context.Context, id string) (*Subscription, error)
	WebhookEvent(ctx context.Context, id string) (*WebhookEvent, error)
	Delivery(ctx context.Context, id string) (*Delivery, error)
	// Deliveries returns up to f.Limit deliveries of f.SubscriptionID,
	// newest first (by id).
	Deliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)

	// TakeTokens takes one token from each bucket named by keys (distinct),
	// in one atomic statement: a bucket holds at most burst tokens, refills
	// at rate per second from its last use and is created full. It returns
	// the buckets that had no token (their state, untouched); the others
	// gave theirs.
	TakeTokens(ctx context.Context, keys []string, rate, burst float64, now time.Time) ([]Bucket, error)
	// TakeQuota counts one use under key unless limit uses are counted
	// already, atomically; ok is false then.
	TakeQuota(ctx context.Context, key string, limit int, now time.Time) (ok bool, err error)
	// PruneBuckets forgets the buckets and counters last used before t.
	PruneBuckets(ctx context.Context, before time.Time) error

	// Import returns an import; ENOTFOUND when there is none.
	Import(ctx context.Context, id string) (*Import, error)
	// Imports returns up to limit imports (createdBy's only unless ""),
	// newest first.
	Imports(ctx context.Context, createdBy string, limit int) ([]*Import, error)
	// ImportRows returns up to limit rows of an import with a record number
	// above after, in record order.
	ImportRows(ctx context.Context, importID string, after, limit int) ([]*ImportRow, error)
	// ImportRowsMatching returns the rows of an import numbered below
	// before, valid, imported or skipped (or duplicates the import lets in),
	// that share a non-empty key with any of keys.
	ImportRowsMatching(ctx context.Context, importID string, before int, keys []DuplicateKeys) ([]*ImportRow, error)
	// ImportedRecords returns which of the records of the file with this
	// content hash some import has written already.
	ImportedRecords(ctx context.Context, contentHash string, records []int) ([]int, error)

	// TakeAISlot takes for holder one of the AI-call slots 0 … max-1 that
	// nobody holds or whose lease ended by now, until expires, in one
	// statement: across every process on the database at most max are held
	// at once. ok is false when all are held.
	TakeAISlot(ctx context.Context, holder string, max int, now, expires time.Time) (ok bool, err error)
	// ReleaseAISlot frees holder's slot (nothing if its lease was taken over).
	ReleaseAISlot(ctx context.Context, holder string) error

	// Ping checks that the database answers and the migrations are applied.
	Ping(ctx context.Context) error
	Close() error
}

// Tx is a write transaction of a Store. Its write methods (Insert*, Update*,
// Put*) may be deferred to the end of the transaction: see InTx.
type Tx interface {
	// LockLead reads a lead and locks it until the transaction ends.
	LockLead(ctx context.Context, id string) (*Lead, error)
	InsertLead(ctx context.Context, l *Lead) error
	// UpdateLead writes every field of l, including AI.
	UpdateLead(ctx context.Context, l *Lead) error

	// LockSale reads a sale (with its lead's owner) and locks it.
	LockSale(ctx context.Context, id string) (*Sale, error)
	// InsertSale fails with SaleExists (ECONFLICT) when the lead has a sale.
	InsertSale(ctx context.Context, s *Sale) error
	UpdateSale(ctx context.Context, s *Sale) error

	// LockTask reads a task and locks it (lead fields left empty).
	LockTask(ctx context.Context, id string) (*Task, error)
	InsertTask(ctx context.Context, t *Task) error
	UpdateTask(ctx context.Context, t *Task) error
	DeleteTask(ctx context.Context, id string) error
	// ReassignTasks gives the lead's open tasks assigned to from to to.
	ReassignTasks(ctx context.Context, leadID, from, to string, at time.Time) error
	InsertActivity(ctx context.Context, a *Activity) error
	// InsertNotification adds a notification and prunes the user's ones
	// older than NotificationRetention.
	InsertNotification(ctx context.Context, n *Notification) error
	InsertSavedFilter(ctx context.Context, f *SavedFilter) error
	// DeleteSavedFilter returns ENOTFOUND unless the user has the filter.
	DeleteSavedFilter(ctx context.Context, userID, id string) error

	InsertEvent(ctx context.Context, e *Event) error
	InsertAnalysis(ctx context.Context, a *AnalysisRecord) error
	// InsertOutcome records a lead's outcome; ECONFLICT when it has one.
	InsertOutcome(ctx context.Context, o *Outcome) error
	// PutCalibration stores c, replacing the calibration of its provider,
	// model and prompt version.
	PutCalibration(ctx context.Context, c *Calibration) error

	LockUser(ctx context.Context, id string) (*User, error)
	// InsertUser fails with EmailTaken (ECONFLICT) for a taken email.
	InsertUser(ctx context.Context, u *User) error
	UpdateUser(ctx context.Context, u *User) error
	// CountActiveAdmins counts the active admins, serialized against other
	// transactions that count them, so two demotions cannot both pass.
	CountActiveAdmins(ctx context.Context) (int, error)

	// PutSetting stores value under key, replacing any value.
	PutSetting(ctx context.Context, key, value string) error

	// LockLoginAttempts takes the sign-in lock of email, held until the
	// transaction ends, and returns its attempts at or after since, oldest
	// first. Two transactions locking one email run one after the other, the
	// second seeing what the first wrote, on every replica.
	LockLoginAttempts(ctx context.Context, email string, since time.Time) ([]*LoginAttempt, error)
	// LockClientAttempts takes the sign-in lock of a client address (taken
	// after the email's, never before) and returns the attempts from it at or
	// after since, oldest first: failed ones and those still being checked.
	LockClientAttempts(ctx context.Context, client string, since time.Time) ([]*LoginAttempt, error)
	// InsertLoginAttempt records an attempt; it may forget that email's and
	// that client's attempts older than a day.
	InsertLoginAttempt(ctx context.Context, a *LoginAttempt) error

	InsertAIBatch(ctx context.Context, b *AIBatch) error
	// LockAIBatch reads a batch and locks it.
	LockAIBatch(ctx context.Context, id string) (*AIBatch, error)
	// UpdateAIBatch writes status, provider id, counts, error and finish of b.
	UpdateAIBatch(ctx context.Context, b *AIBatch) error
	InsertAIBatchItems(ctx context.Context, items []*AIBatchItem) error
	// LockAIBatchItem reads one item of a batch by its key and locks it.
	LockAIBatchItem(ctx context.Context, batchID, key string) (*AIBatchItem, error)
	// UpdateAIBatchItem writes status and analysis id of an item.
	UpdateAIBatchItem(ctx context.Context, it *AIBatchItem) error

	// LockSubscription reads a webhook subscription and locks it.
	LockSubscription(ctx context.Context, id string) (*Subscription, error)
	InsertSubscription(ctx context.Context, s *Subscription) error
	// UpdateSubscription writes every field of s.
	UpdateSubscription(ctx context.Context, s *Subscription) error
	// DeleteSubscription removes s and its deliveries.
	DeleteSubscription(ctx context.Context, id string) error
	InsertWebhookEvent(ctx context.Context, e *WebhookEvent) error
	// InsertDelivery inserts d unless its event already has a delivery to
	// its subscription, and reports whether it did; ENOTFOUND when the
	// subscription is gone.
	InsertDelivery(ctx context.Context, d *Delivery) (bool, error)
	LockDelivery(ctx context.Context, id string) (*Delivery, error)
	// UpdateDelivery writes status, run, attempts and next attempt of d.
	UpdateDelivery(ctx context.Context, d *Delivery) error

	InsertImport(ctx context.Context, im *Import) error
	// LockImport reads an import and locks it.
	LockImport(ctx context.Context, id string) (*Import, error)
	// UpdateImport writes every field of im but its id, starter, file and
	// times of creation.
	UpdateImport(ctx context.Context, im *Import) error
	// InsertImportRows stores records of an import (no import row needed
	// yet: the upload stores its records before the import).
	InsertImportRows(ctx context.Context, rows []*ImportRow) error
	// UpdateImportRows writes status, keys and lead id of each row.
	UpdateImportRows(ctx context.Context, rows []*ImportRow) error
	// DeleteImportRows forgets an import's records.
	DeleteImportRows(ctx context.Context, importID string) error
	// InsertImportedRecord notes that a record of the file with this content
	// hash became the lead; ECONFLICT (at commit, on a deferring store) when
	// it was noted already.
	InsertImportedRecord(ctx context.Context, contentHash string, record int, leadID, importID string) error
	// ImportedRecords is Store.ImportedRecords inside the transaction.
	ImportedRecords(ctx context.Context, contentHash string, records []int) ([]int, error)

	// Enqueue adds background jobs in this transaction: they exist if and
	// only if the transaction commits, and none runs before it has.
	Enqueue(ctx context.Context, jobs ...JobArgs) error
}

// Bulk is a load of rows written together by a BulkLoader: leads with their
// analyses, sales and outcomes. No events are written for them.
type Bulk struct {
	Leads    []*Lead
	Analyses []*AnalysisRecord
	Sales    []*Sale
	Outcomes []*Outcome
}

// BulkLoader is a store that can load many rows at once (COPY on
// PostgreSQL), for the demo seed. The load is one transaction.
type BulkLoader interface {
	BulkLoad(ctx context.Context, b *Bulk) error
}
