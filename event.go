package crm

import "time"

// Event actions.
const (
	ActionLeadCreated     = "lead.created"
	ActionLeadUpdated     = "lead.updated"
	ActionLeadMessages    = "lead.messages_set"
	ActionLeadStage       = "lead.stage_changed"
	ActionLeadOwner       = "lead.owner_changed"
	ActionLeadAnalyzed    = "lead.analyzed"
	ActionLeadTransferred = "lead.transferred"
	ActionSaleStage       = "sale.stage_changed"
	ActionUserCreated     = "user.created"
	ActionUserUpdated     = "user.updated"
	ActionSettingsUpdated = "settings.updated"
)

// Event is one entry of the audit trail, written in the transaction of the
// change it records.
type Event struct {
	ID        string
	LeadID    string // "" for events not about a lead
	SaleID    string
	UserID    string // the user the event is about (user.* actions)
	Action    string
	From      string
	To        string
	ActorID   string // "" for the system actor
	RequestID string
	Data      map[string]any
	CreatedAt time.Time
}

// EventFilter selects events. LeadID lists a lead's trail oldest first; other
// lists are newest first. After is the id of the last event of the previous page.
type EventFilter struct {
	LeadID  string
	ActorID string
	Action  string
	Since   time.Time
	Until   time.Time
	After   string
	Limit   int
}
