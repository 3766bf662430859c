package ui

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/request"
)

// afterMove ends a stage move of a lead or a sale. From a form it redirects
// (to the form's "next" page when it names one of ours, as the boards' move
// buttons do; to back otherwise) with a flash. From the board's script
// (Accept: application/json) it answers {ok, message}: the script keeps the
// card where it was and says why on a refusal, and reloads the board after
// a move, whose flash the reloaded page shows.
func (a *App) afterMove(w http.ResponseWriter, r *http.Request, v *view, err error, back, success string) {
	if next := r.PostFormValue("next"); localPath(next) {
		back = next
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		status, msg := http.StatusOK, success
		if err != nil {
			status, msg = request.Status(err), a.explain(v.L, err)
			if status >= 500 {
				a.logInternal(r, "move", err)
			}
		} else {
			a.setFlash(w, r, ok(success))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": err == nil, "message": msg})
		return
	}
	switch {
	case err == nil:
		a.redirect(w, r, back, ok(success))
	case crm.IsKind(err, crm.ENOTFOUND), crm.IsKind(err, crm.EUNAUTHORIZED), crm.IsKind(err, crm.EINTERNAL):
		a.fail(w, r, v, err)
	default:
		a.redirect(w, r, back, bad(a.explain(v.L, err)))
	}
}

// boardMove is one legal move offered on a board's card.
type boardMove struct {
	Stage string
	// Page is set for a move the board cannot make by itself: the transfer
	// (its value and blockers) and a loss (its reason) open the lead page.
	Page string
}

// leadMoves lists the legal moves of a lead card.
func leadMoves(l *crm.Lead) []boardMove {
	var out []boardMove
	for _, s := range l.Stage.NextStages() {
		m := boardMove{Stage: string(s)}
		switch s {
		case crm.LeadTransferred:
			m.Page = "/app/leads/" + l.ID + "#transfer-panel"
		case crm.LeadLost:
			m.Page = "/app/leads/" + l.ID + "/lose"
		}
		out = append(out, m)
	}
	return out
}

// saleMoves lists the legal moves of a sale card.
func saleMoves(s *crm.Sale) []boardMove {
	var out []boardMove
	for _, st := range s.Stage.NextStages() {
		out = append(out, boardMove{Stage: string(st)})
	}
	return out
}

// moveStages is the space-separated list the board's script reads.
func moveStages(ms []boardMove) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.Stage
	}
	return strings.Join(parts, " ")
}
