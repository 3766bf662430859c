package ui

import (
	"net/http"
	"net/url"

	"github.com/crmleads/crm"
)

// savedFilter is one of the user's saved lead filters in the list's sidebar.
type savedFilter struct {
	ID, Name string
	URL      string // the list with its query
	Current  bool   // the list shows it now
}

// A saved filter keeps the query of GET /leads (owner_id, no_next_step=true),
// so that one saved in the app and one saved through the API are alike; the
// list's own query says owner (me for oneself) and no_next_step=1.

// apiQuery turns the list's query into the API's, for saving; "" when the
// list is neither filtered nor sorted.
func apiQuery(v *view, q url.Values) string {
	out := listQuery(q, "stage", "source", "q", "sort")
	if q.Get("no_next_step") == "1" {
		out.Set("no_next_step", "true")
	}
	if owner := q.Get("owner"); owner != "" && v.User.Role.SeesAll() {
		if owner == "me" {
			owner = v.User.ID
		}
		out.Set("owner_id", owner)
	}
	return out.Encode()
}

// listURL turns a saved filter's API query back into the list's URL.
func listURL(v *view, query string) string {
	q, _ := url.ParseQuery(query) // saved only after SaveFilter parsed it
	out := listQuery(q, "stage", "source", "q", "sort")
	if q.Get("no_next_step") == "true" || q.Get("no_next_step") == "1" {
		out.Set("no_next_step", "1")
	}
	if owner := q.Get("owner_id"); owner != "" {
		if owner == v.User.ID {
			owner = "me"
		}
		out.Set("owner", owner)
	}
	if len(out) == 0 {
		return "/app/leads"
	}
	return "/app/leads?" + out.Encode()
}

// savedFilters lists the user's filters for the sidebar, marking the one the
// list shows; the list does without them when they cannot be read.
func (a *App) savedFilters(r *http.Request, v *view, current string) []savedFilter {
	fs, err := a.deps.Leads.SavedFilters(r.Context())
	if err != nil {
		a.logInternal(r, "saved filters", err)
		return nil
	}
	out := make([]savedFilter, len(fs))
	for i, f := range fs {
		u := listURL(v, f.Query)
		out[i] = savedFilter{ID: f.ID, Name: f.Name, URL: u, Current: u == current}
	}
	return out
}

// filterSave keeps the list's current query under a name, then shows the
// list with it.
func (a *App) filterSave(w http.ResponseWriter, r *http.Request, v *view) {
	query := r.PostFormValue("query")
	f, err := a.deps.Leads.SaveFilter(r.Context(), r.PostFormValue("name"), query)
	back := "/app/leads"
	if q, perr := url.ParseQuery(query); perr == nil && len(q) > 0 {
		back = listURL(v, query)
	}
	switch {
	case err == nil:
		a.redirect(w, r, listURL(v, f.Query), ok(v.L.T("filters.saved", f.Name)))
	case crm.IsKind(err, crm.ECONFLICT):
		a.redirect(w, r, back, bad(v.L.T("filters.too_many", v.L.Int(crm.MaxSavedFilters))))
	case crm.IsKind(err, crm.EINVALID):
		a.redirect(w, r, back, bad(a.explain(v.L, err)))
	default:
		a.fail(w, r, v, err)
	}
}

// filterDelete removes one of the user's filters; somebody else's is the 404
// page, as an unknown one is.
func (a *App) filterDelete(w http.ResponseWriter, r *http.Request, v *view) {
	if err := a.deps.Leads.DeleteFilter(r.Context(), r.PathValue("id")); err != nil {
		a.fail(w, r, v, err)
		return
	}
	a.redirect(w, r, listBack(r.PostFormValue("back")), ok(v.L.T("filters.deleted")))
}
