package crm

import (
	"context"
	"time"
)

// Notification kinds.
const (
	NotifyLeadAssigned  = "lead_assigned"
	NotifyTaskDue       = "task_due"
	NotifySalePaid      = "sale_paid"
	NotifySaleLost      = "sale_lost"
	NotifyBatchFinished = "batch_finished"
)

// NotificationRetention is how long a notification is kept.
const NotificationRetention = 90 * 24 * time.Hour

// MaxNotifications bounds one read of a user's notifications.
const MaxNotifications = 200

// Notification is a message to one user in the app's bell.
type Notification struct {
	ID      string
	UserID  string
	Kind    string
	LeadID  string // "" when not about a lead
	SaleID  string
	TaskID  string
	Subject string // the lead's name (or company), or the task's title, when written
	Text    string // in English; the pages compose their own from Kind and Subject
	ActorID string // who caused it; "" for the system (a job)
	Created time.Time
	ReadAt  time.Time // zero while unread
}

// Unread reports whether the user has not read it yet.
func (n *Notification) Unread() bool { return n.ReadAt.IsZero() }

// Label names a lead for people: its name, else its company ("" for neither).
func (l *Lead) Label() string {
	if l.Name != "" {
		return l.Name
	}
	return l.Company
}

// leadSubject is the lead's label, or "a lead".
func leadSubject(l *Lead) string {
	if s := l.Label(); s != "" {
		return s
	}
	return "a lead"
}

// notificationText is the English text of a notification.
func notificationText(kind, subject string) string {
	switch kind {
	case NotifyLeadAssigned:
		return "Lead " + subject + " was assigned to you"
	case NotifyTaskDue:
		return "Task due: " + subject
	case NotifySalePaid:
		return "The sale of " + subject + " is paid"
	case NotifySaleLost:
		return "The sale of " + subject + " is lost"
	case NotifyBatchFinished:
		return "Batch finished: " + subject
	}
	return subject
}

// notify writes a notification to user inside tx: in the transaction of the
// change it tells about, so it exists if and only if the change does. Nobody
// is told of their own action, and nothing is written for no user.
func (s *LeadService) notify(ctx context.Context, tx Tx, a Actor, userID, kind string, l *Lead, saleID, taskID string) error {
	if userID == "" || userID == a.UserID {
		return nil
	}
	subject := leadSubject(l)
	n := &Notification{ID: NewID(), UserID: userID, Kind: kind, LeadID: l.ID, SaleID: saleID, TaskID: taskID,
		Subject: subject, Text: notificationText(kind, subject), ActorID: a.UserID, Created: s.timestamp()}
	return tx.InsertNotification(ctx, n)
}

// Notifications returns the actor's own notifications, newest first, and how
// many of all of them are unread. Only the last NotificationRetention are kept.
func (s *LeadService) Notifications(ctx context.Context, unreadOnly bool, limit int) ([]*Notification, int, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > MaxNotifications {
		limit = MaxNotifications
	}
	since := s.timestamp().Add(-NotificationRetention)
	ns, err := s.store.Notifications(ctx, a.UserID, NotificationFilter{UnreadOnly: unreadOnly, Since: since, Limit: limit})
	if err != nil {
		return nil, 0, err
	}
	n, err := s.store.CountUnread(ctx, a.UserID, since)
	if err != nil {
		return nil, 0, err
	}
	return ns, n, nil
}

// UnreadCount returns how many of the actor's notifications are unread.
func (s *LeadService) UnreadCount(ctx context.Context) (int, error) {
	a, err := actor(ctx)
	if err != nil {
		return 0, err
	}
	return s.store.CountUnread(ctx, a.UserID, s.timestamp().Add(-NotificationRetention))
}

// MarkRead marks the actor's notifications with the given ids read (all of
// them when ids is empty). Ids that are not the actor's are ignored, like
// unknown ones. Errors: EINVALID (too many ids).
func (s *LeadService) MarkRead(ctx context.Context, ids []string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if len(ids) > MaxNotifications {
		return Invalid(FieldError{Field: "ids", Message: "must list at most 200 ids"})
	}
	if len(ids) == 0 {
		return s.store.MarkRead(ctx, a.UserID, nil, s.timestamp())
	}
	// An id that is not an id matches nothing, as an unknown one does.
	clean := make([]string, 0, len(ids))
	for _, id := range ids {
		if id = NormalizeID(id); ValidID(id) {
			clean = append(clean, id)
		}
	}
	ids = clean
	if len(ids) == 0 {
		return nil
	}
	return s.store.MarkRead(ctx, a.UserID, ids, s.timestamp())
}

// NotificationFilter selects a user's notifications, newest first.
type NotificationFilter struct {
	UnreadOnly bool
	Since      time.Time
	Limit      int
}
