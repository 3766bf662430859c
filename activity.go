package crm

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ActivityKind is what happened with a lead: a communication (call, email,
// meeting) or a note.
type ActivityKind string

const (
	ActivityCall    ActivityKind = "call"
	ActivityEmail   ActivityKind = "email"
	ActivityMeeting ActivityKind = "meeting"
	ActivityNote    ActivityKind = "note"
)

// ActivityKinds lists every kind.
var ActivityKinds = []ActivityKind{ActivityCall, ActivityEmail, ActivityMeeting, ActivityNote}

// Valid reports whether k is a known kind.
func (k ActivityKind) Valid() bool { return slices.Contains(ActivityKinds, k) }

// Communication reports whether the activity is one of the communications
// messages_count counts.
func (k ActivityKind) Communication() bool { return k != ActivityNote && k.Valid() }

// Activity is one entry of a lead's conversation; entries are added, never
// overwritten.
type Activity struct {
	ID        string
	LeadID    string
	Kind      ActivityKind
	Text      string
	At        time.Time // when it happened
	ActorID   string
	CreatedAt time.Time
}

// ActivityInput logs an activity; a zero At means now.
type ActivityInput struct {
	Kind ActivityKind
	Text string
	At   time.Time
}

// LogActivity adds an activity to a lead the actor may see. A communication
// adds one to the lead's messages_count in the same transaction (recorded as a
// lead.messages_set event naming the activity); a closed lead takes notes but
// no communications, its AI facts being frozen.
// Errors: ENOTFOUND, EINVALID, ECONFLICT (CodeLeadClosed).
func (s *LeadService) LogActivity(ctx context.Context, leadID string, in ActivityInput) (*Activity, error) {
	in.Text = strings.TrimSpace(in.Text)
	var fe []FieldError
	if !in.Kind.Valid() {
		fe = append(fe, FieldError{Field: "kind", Message: "must be one of call, email, meeting, note"})
	}
	if !ValidText(in.Text) {
		fe = checkText(fe, "text", &in.Text)
	} else if utf8.RuneCountInString(in.Text) > MaxNoteText {
		fe = append(fe, FieldError{Field: "text", Message: "must be at most 5000 characters"})
	} else if in.Kind == ActivityNote && in.Text == "" {
		fe = append(fe, FieldError{Field: "text", Message: "a note needs text"})
	}
	if fe != nil {
		return nil, Invalid(fe...)
	}
	var out *Activity
	_, err := s.changeLead(ctx, leadID, func(tx Tx, a Actor, l *Lead) (*Event, error) {
		if in.Kind.Communication() {
			if l.Stage.Final() {
				return nil, Errorf(ECONFLICT, CodeLeadClosed, "the lead is %s; it takes notes, not communications", l.Stage)
			}
			if l.MessagesCount >= MaxMessagesCount {
				return nil, Invalid(FieldError{Field: "messages_count", Message: "must be between 0 and 1000000"})
			}
		}
		now := s.timestamp()
		at := in.At.UTC().Truncate(time.Microsecond)
		if in.At.IsZero() {
			at = now
		}
		out = &Activity{ID: NewID(), LeadID: l.ID, Kind: in.Kind, Text: in.Text, At: at, ActorID: a.UserID, CreatedAt: now}
		if err := tx.InsertActivity(ctx, out); err != nil {
			return nil, err
		}
		if !in.Kind.Communication() {
			return nil, nil // a note changes nothing on the lead
		}
		e := s.event(a, ActionLeadMessages, l)
		e.Data = map[string]any{"from": l.MessagesCount, "to": l.MessagesCount + 1,
			"activity_id": out.ID, "kind": string(in.Kind)}
		l.MessagesCount++
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Activities returns a lead's activities, newest first. Errors: ENOTFOUND.
func (s *LeadService) Activities(ctx context.Context, leadID string) ([]*Activity, error) {
	if _, err := s.Lead(ctx, leadID); err != nil {
		return nil, err
	}
	return s.store.Activities(ctx, leadID, MaxTrail)
}

// TimelineEntry is one line of a lead's timeline: an activity or an event of
// its audit trail (stage changes, analyses, tasks, the transfer, …).
type TimelineEntry struct {
	At       time.Time
	ActorID  string
	Activity *Activity
	Event    *Event
}

// Timeline returns everything that happened to a lead, newest first. The
// messages_set events of logged communications are left out: the activity
// says it already. Errors: ENOTFOUND.
func (s *LeadService) Timeline(ctx context.Context, leadID string) ([]TimelineEntry, error) {
	acts, err := s.Activities(ctx, leadID)
	if err != nil {
		return nil, err
	}
	events, err := s.store.Events(ctx, EventFilter{LeadID: leadID, Limit: MaxTrail})
	if err != nil {
		return nil, err
	}
	out := make([]TimelineEntry, 0, len(acts)+len(events))
	for _, a := range acts {
		out = append(out, TimelineEntry{At: a.At, ActorID: a.ActorID, Activity: a})
	}
	for _, e := range events {
		if _, ok := e.Data["activity_id"]; ok && e.Action == ActionLeadMessages {
			continue
		}
		out = append(out, TimelineEntry{At: e.CreatedAt, ActorID: e.ActorID, Event: e})
	}
	slices.SortStableFunc(out, func(x, y TimelineEntry) int { return y.At.Compare(x.At) })
	return out, nil
}
