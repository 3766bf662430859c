package crm

import (
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// LeadStage is a stage of the cold-lead pipeline.
type LeadStage string

const (
	LeadNew         LeadStage = "new"
	LeadContacted   LeadStage = "contacted"
	LeadQualified   LeadStage = "qualified"
	LeadTransferred LeadStage = "transferred"
	LeadLost        LeadStage = "lost"
)

// LeadStages lists every lead stage in pipeline order.
var LeadStages = []LeadStage{LeadNew, LeadContacted, LeadQualified, LeadTransferred, LeadLost}

// Valid reports whether s is a known stage.
func (s LeadStage) Valid() bool { return slices.Contains(LeadStages, s) }

// Final reports whether no further change of the lead is possible.
func (s LeadStage) Final() bool { return s == LeadTransferred || s == LeadLost }

// leadMoves is the lead state machine for stage changes. transferred is absent
// on purpose: only Service.Transfer reaches it.
var leadMoves = map[LeadStage][]LeadStage{
	LeadNew:       {LeadContacted, LeadLost},
	LeadContacted: {LeadQualified, LeadLost},
	LeadQualified: {LeadLost},
}

// NextStages returns the stages a stage change may move the lead to from s.
func (s LeadStage) NextStages() []LeadStage { return slices.Clone(leadMoves[s]) }

// CheckOpen returns a conflict (CodeLeadClosed) when s is final. A closed
// lead is frozen: its stage, its AI facts (source, messages_count,
// business_domain) and its analysis no longer change, and it is not
// transferred again. Every guard of that rule calls this, so the rule and its
// message exist once.
func (s LeadStage) CheckOpen() error {
	if s.Final() {
		return Errorf(ECONFLICT, CodeLeadClosed, "the lead is %s: a closed lead can no longer change", s)
	}
	return nil
}

// CheckMove returns nil when a stage change from s to to is allowed, else a
// conflict error saying why (CodeLeadClosed or CodeInvalidTransition).
func (s LeadStage) CheckMove(to LeadStage) error {
	if err := s.CheckOpen(); err != nil {
		return err
	}
	if to == LeadTransferred {
		return Errorf(ECONFLICT, CodeInvalidTransition, "a lead reaches transferred only by the transfer action")
	}
	if !slices.Contains(leadMoves[s], to) {
		return Errorf(ECONFLICT, CodeInvalidTransition, "a lead cannot move from %s to %s", s, to)
	}
	return nil
}

// Source is where a lead came from.
type Source string

const (
	SourceScanner Source = "scanner"
	SourcePartner Source = "partner"
	SourceManual  Source = "manual"
)

// Sources lists every source.
var Sources = []Source{SourceScanner, SourcePartner, SourceManual}

// Valid reports whether s is a known source.
func (s Source) Valid() bool { return slices.Contains(Sources, s) }

// Lead is a potential customer worked by a manager.
type Lead struct {
	ID             string
	Source         Source
	Stage          LeadStage
	BusinessDomain string // "" when not set
	MessagesCount  int
	Name           string
	Email          string
	Phone          string
	Company        string
	Note           string
	OwnerID        string // "" when nobody owns it
	LostReason     string // why it was lost; "" when open, transferred, or lost without a reason
	// OpenTasks counts the lead's tasks not done yet, kept in the transactions
	// that change them, so "no next step" is a filter on the row itself.
	OpenTasks int
	AI        *LeadAnalysis
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NoNextStep reports whether the lead is open and has no open task (a deal
// rotting in the pipeline).
func (l *Lead) NoNextStep() bool { return !l.Stage.Final() && l.OpenTasks == 0 }

// HasBusinessDomain reports whether a business domain is set.
func (l *Lead) HasBusinessDomain() bool { return l.BusinessDomain != "" }

// AnalysisStale reports whether the lead has changed in one of the four facts
// since its analysis. A closed lead's analysis is never stale: it is the record
// of what the decision relied on, and the closing move itself (qualified →
// transferred) is what differs. A lead with no analysis is not stale either.
func (l *Lead) AnalysisStale() bool {
	return l.AI != nil && !l.Stage.Final() && l.AI.Facts != l.Facts()
}

// Facts returns the four facts the AI is allowed to see.
func (l *Lead) Facts() Facts {
	return Facts{Source: l.Source, Stage: l.Stage, MessagesCount: l.MessagesCount, HasBusinessDomain: l.HasBusinessDomain()}
}

// Limits on free-text fields, also enforced by the schemas.
const (
	MaxShortText     = 200
	MaxNoteText      = 5000
	MaxMessagesCount = 1_000_000
	MaxDomainLength  = 64
	MaxLostReason    = 500
)

// LeadInput is what a client gives to create a lead.
type LeadInput struct {
	Source         Source
	BusinessDomain string
	MessagesCount  int
	Name           string
	Email          string
	Phone          string
	Company        string
	Note           string
	OwnerID        string // "" means the creator
	// AllowDuplicate creates the lead even when it looks like an open one.
	AllowDuplicate bool
}

// LeadUpdate is a partial edit; nil fields stay as they are. An empty string
// clears a text field (ClearBusinessDomain clears the domain).
type LeadUpdate struct {
	Name                *string
	Email               *string
	Phone               *string
	Company             *string
	Note                *string
	BusinessDomain      *string
	ClearBusinessDomain bool
	OwnerID             *string
}

// Empty reports whether the update changes nothing.
func (u LeadUpdate) Empty() bool {
	return u.Name == nil && u.Email == nil && u.Phone == nil && u.Company == nil && u.Note == nil &&
		u.BusinessDomain == nil && !u.ClearBusinessDomain && u.OwnerID == nil
}

// checkContact appends problems with the contact fields to fe.
func checkContact(fe []FieldError, name, email, phone, company, note *string) []FieldError {
	short := map[string]*string{"name": name, "email": email, "phone": phone, "company": company}
	for _, f := range []string{"name", "email", "phone", "company"} {
		if v := short[f]; v != nil && !ValidText(*v) {
			fe = checkText(fe, f, v)
		} else if v != nil && utf8.RuneCountInString(*v) > MaxShortText {
			fe = append(fe, FieldError{Field: f, Message: "must be at most 200 characters"})
		}
	}
	if note != nil && !ValidText(*note) {
		fe = checkText(fe, "note", note)
	} else if note != nil && utf8.RuneCountInString(*note) > MaxNoteText {
		fe = append(fe, FieldError{Field: "note", Message: "must be at most 5000 characters"})
	}
	if email != nil && *email != "" && ValidText(*email) {
		if a, err := mail.ParseAddress(*email); err != nil || a.Address != *email {
			fe = append(fe, FieldError{Field: "email", Message: "must be an email address like name@example.com"})
		}
	}
	return fe
}

// Normalize trims surrounding whitespace from the one-line fields (name,
// email, phone, company) and the owner id, and lower-cases the id; the API and
// the pages both pass their input through it (via the service), so the same
// typed text gives the same lead. Emails keep the case they were typed in.
func (in *LeadInput) Normalize() {
	for _, p := range []*string{&in.Name, &in.Email, &in.Phone, &in.Company} {
		*p = strings.TrimSpace(*p)
	}
	in.BusinessDomain = strings.TrimSpace(in.BusinessDomain)
	in.OwnerID = NormalizeID(in.OwnerID)
}

// Normalize is LeadInput.Normalize for the fields the update sets.
func (u *LeadUpdate) Normalize() {
	for _, p := range []*string{u.Name, u.Email, u.Phone, u.Company, u.BusinessDomain} {
		if p != nil {
			*p = strings.TrimSpace(*p)
		}
	}
	if u.OwnerID != nil {
		id := NormalizeID(*u.OwnerID)
		u.OwnerID = &id
	}
}

// Validate checks the input against the catalog of business domains.
func (in *LeadInput) Validate(domains []string) error {
	var fe []FieldError
	if !in.Source.Valid() {
		fe = append(fe, FieldError{Field: "source", Message: "must be one of scanner, partner, manual"})
	}
	fe = checkText(fe, "business_domain", &in.BusinessDomain)
	if in.BusinessDomain != "" && !slices.Contains(domains, in.BusinessDomain) {
		fe = append(fe, FieldError{Field: "business_domain", Message: "must be one of " + strings.Join(domains, ", ")})
	}
	if in.MessagesCount < 0 || in.MessagesCount > MaxMessagesCount {
		fe = append(fe, FieldError{Field: "messages_count", Message: "must be between 0 and 1000000"})
	}
	fe = checkContact(fe, &in.Name, &in.Email, &in.Phone, &in.Company, &in.Note)
	if fe != nil {
		return Invalid(fe...)
	}
	return nil
}

// Validate checks the update against the catalog of business domains.
func (u *LeadUpdate) Validate(domains []string) error {
	var fe []FieldError
	fe = checkText(fe, "business_domain", u.BusinessDomain)
	if u.BusinessDomain != nil && ValidText(*u.BusinessDomain) && !slices.Contains(domains, *u.BusinessDomain) {
		fe = append(fe, FieldError{Field: "business_domain", Message: "must be one of " + strings.Join(domains, ", ") + ", or null to clear"})
	}
	fe = checkContact(fe, u.Name, u.Email, u.Phone, u.Company, u.Note)
	if fe != nil {
		return Invalid(fe...)
	}
	return nil
}

// LeadFilter selects leads for a list, newest first unless Sort says
// otherwise. Given to the service, After is the cursor of the previous page;
// the service hands the store the id of that page's last lead in After and
// its sort value in AfterValue (keyset pagination). With the default sort the
// cursor is the id itself.
type LeadFilter struct {
	Stage      LeadStage
	Source     Source
	OwnerID    string
	Q          string
	NoNextStep bool // open leads without an open task only
	Sort       Sort
	After      string
	AfterValue any
	Limit      int
}

// Default and maximum page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)
