package crm

import "context"

// CodeWrongPassword is the code of a password change whose current password
// is wrong.
const CodeWrongPassword = "wrong_password"

// ChangePassword sets the acting user's own password after checking the
// current one, and ends every token issued before (this request's included,
// as "sign out everywhere" does).
// Errors: EFORBIDDEN (CodeWrongPassword), ETOOMANY (CodeTooManyAttempts: too many
// wrong passwords, as at sign-in), EINVALID, ENOTFOUND (the system actor).
func (s *UserService) ChangePassword(ctx context.Context, current, next string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if a.UserID == "" {
		return NotFound("user")
	}
	if fe := checkPassword(nil, next); fe != nil {
		fe[0].Field = "new_password"
		return Invalid(fe...)
	}
	u, err := s.store.User(ctx, a.UserID)
	if err != nil {
		return err
	}
	// A wrong current password counts as a failed sign-in at the user's
	// email, under the same per-email and per-client limits: a session left
	// open on a shared computer is no way to guess the password (and so to
	// keep the account after a sign-out everywhere).
	attempt, forgiven, err := s.beginAttempt(ctx, u.Email)
	if err != nil {
		return err
	}
	done := context.WithoutCancel(ctx)
	// The slow hashes run outside the transaction.
	if s.hasher.Compare(u.PasswordHash, current) != nil {
		return Errorf(EFORBIDDEN, CodeWrongPassword, "the current password is wrong").
			withCause(s.store.FailLoginAttempt(done, attempt.ID))
	}
	if err := s.store.DeleteLoginAttempts(done, append(forgiven, attempt.ID)); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(next)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		locked, err := tx.LockUser(ctx, a.UserID)
		if err != nil {
			return err
		}
		if locked.PasswordHash != u.PasswordHash { // changed since it was checked
			return Errorf(ECONFLICT, CodeConflict, "the password changed meanwhile; sign in again")
		}
		u = locked
		u.PasswordHash = hash
		u.TokenVersion++
		u.UpdatedAt = s.timestamp()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		e := s.event(a, ActionUserUpdated, nil)
		e.UserID = u.ID
		e.Data = map[string]any{"changes": map[string]any{"password": "changed by the user"}}
		return tx.InsertEvent(ctx, e)
	})
}
