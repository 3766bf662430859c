package crm

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
)

// RemindTask runs a TaskDueJob: it tells the task's current assignee, in
// the app's bell, that the task is due. A stale job does nothing and returns
// nil: the task is gone, done, or due at another time than the job's (it was
// moved, and the move scheduled a job of its own). The check is made on the
// task locked after its lead, as every writer of tasks takes them, so a move
// or a completion committed before the reminder is always seen.
//
// It is idempotent: the reminder of one task at one due time has one id, so
// a job run twice (River runs a job at least once; a process killed after
// the commit runs it again) or enqueued twice (a task moved away and back)
// writes one notification. It acts as the system and sees every task.
// Errors: those of the store (the engine retries the job).
func (s *LeadService) RemindTask(ctx context.Context, job TaskDueJob) error {
	id := NormalizeID(job.TaskID)
	if !ValidID(id) {
		return nil
	}
	cur, err := s.store.Task(ctx, id)
	if IsKind(err, ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		l, err := tx.LockLead(ctx, cur.LeadID)
		if err != nil {
			return err
		}
		t, err := tx.LockTask(ctx, id)
		if err != nil {
			return err
		}
		if t.Done() || !t.DueAt.Equal(job.DueAt) {
			return nil
		}
		n := &Notification{ID: reminderID(t), UserID: t.AssigneeID, Kind: NotifyTaskDue, LeadID: l.ID,
			TaskID: t.ID, Subject: t.Title, Text: notificationText(NotifyTaskDue, t.Title), Created: s.timestamp()}
		return tx.InsertNotification(ctx, n)
	})
	switch {
	case IsKind(err, ENOTFOUND): // deleted meanwhile
		return nil
	case isDuplicate(err): // reminded already
		return nil
	}
	return err
}

// reminderID is the id of the reminder of t at its due time: a UUID version
// 7 whose time is the due time (notifications list newest first by id, and
// a reminder belongs where its task fell due) and whose random bits are a
// hash of the task and the time, so that every run of the reminder names the
// same row.
func reminderID(t *Task) string {
	h := sha256.Sum256([]byte("task_due\x00" + t.ID + "\x00" + t.DueAt.UTC().Format("2006-01-02T15:04:05.999999Z07:00")))
	var b [16]byte
	copy(b[:], h[:16])
	ms := uint64(max(t.DueAt.UnixMilli(), 0))
	binary.BigEndian.PutUint64(b[:8], ms<<16|uint64(binary.BigEndian.Uint16(b[6:8])))
	b[6] = b[6]&0x0f | 0x70 // version 7
	b[8] = b[8]&0x3f | 0x80 // variant 10
	return FormatUUID(b)
}

// isDuplicate reports whether err is the stores' unique violation (Duplicate).
func isDuplicate(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == ECONFLICT && e.Message == Duplicate(nil).Message
}
