// Package request carries what the access log learns about a request while
// handlers run: its id, the acting user and the cause of an internal error.
// The JSON API (web) and the pages (ui) both write to it and neither imports
// the other.
package request

import "context"

type ctxKey struct{}

// Info is the mutable record of one request, shared by pointer through its
// context.
type Info struct {
	ID    string
	Actor string
	Err   error
	// HTTPS is true when the client's connection is TLS: this server's own,
	// or a trusted proxy's (ForwardedHTTPS).
	HTTPS bool
}

// With returns ctx carrying a fresh Info with the given request id.
func With(ctx context.Context, id string) (context.Context, *Info) {
	ri := &Info{ID: id}
	return context.WithValue(ctx, ctxKey{}, ri), ri
}

// ID returns the id of the request of ctx ("" outside a request).
func ID(ctx context.Context) string {
	if ri, ok := ctx.Value(ctxKey{}).(*Info); ok {
		return ri.ID
	}
	return ""
}

// NoteError keeps the first internal error of the request for the access log.
func NoteError(ctx context.Context, err error) {
	if ri, ok := ctx.Value(ctxKey{}).(*Info); ok && ri.Err == nil {
		ri.Err = err
	}
}

// NoteActor records who made the request.
func NoteActor(ctx context.Context, userID string) {
	if ri, ok := ctx.Value(ctxKey{}).(*Info); ok {
		ri.Actor = userID
	}
}

// HTTPS reports whether the request of ctx reached us over TLS, directly or
// through a trusted proxy (false outside a request).
func HTTPS(ctx context.Context) bool {
	ri, ok := ctx.Value(ctxKey{}).(*Info)
	return ok && ri.HTTPS
}
