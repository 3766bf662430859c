package ui

import (
	"net/http"
	"strings"

	"github.com/crmleads/crm"
)

type settingsData struct {
	Domains  string // the catalog, one domain a line, as shown in the textarea
	MinScore float64
	Gate     string // raw | calibrated
	Errors   map[string]string
}

// settingsPage shows the business-domain catalog for an admin to edit. The
// catalog itself is readable by anyone signed in (the lead forms need it), so
// the page checks the role; the service checks it again on saving.
func (a *App) settingsPage(w http.ResponseWriter, r *http.Request, v *view) {
	if !v.IsAdmin() {
		a.renderError(w, r, v, http.StatusForbidden)
		return
	}
	d, err := a.deps.Leads.Domains(r.Context())
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	a.showSettings(w, r, v, strings.Join(d, "\n"), nil, http.StatusOK)
}

func (a *App) showSettings(w http.ResponseWriter, r *http.Request, v *view, domains string, errs map[string]string, status int) {
	v.Title, v.Nav = v.L.T("settings.title"), "admin"
	gate, err := a.deps.Leads.TransferGate(r.Context())
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	v.Data = settingsData{Domains: domains, MinScore: a.deps.Leads.MinScore(), Gate: gate, Errors: errs}
	a.render(w, r, v, "settings", status)
}

// domainLines reads a textarea of one domain a line; blank lines are skipped.
func domainLines(s string) []string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.TrimSpace(line) != "" {
			out = append(out, strings.TrimRight(line, "\r\n"))
		}
	}
	return out
}

// settingsGate switches the score the transfer gate compares (audited by the
// service).
func (a *App) settingsGate(w http.ResponseWriter, r *http.Request, v *view) {
	if _, err := a.deps.Leads.SetTransferGate(r.Context(), r.PostFormValue("transfer_gate")); err != nil {
		a.fail(w, r, v, err)
		return
	}
	a.redirect(w, r, "/app/admin/settings", ok(v.L.T("flash.settings_saved")))
}

func (a *App) settingsUpdate(w http.ResponseWriter, r *http.Request, v *view) {
	text := r.PostFormValue("business_domains")
	_, err := a.deps.Leads.SetDomains(r.Context(), domainLines(text))
	if err == nil {
		a.redirect(w, r, "/app/admin/settings", ok(v.L.T("flash.settings_saved")))
		return
	}
	if errs, invalid := fieldErrors(v.L, err); invalid {
		v.Flash = bad(v.L.T("error.form"))
		a.showSettings(w, r, v, text, errs, http.StatusUnprocessableEntity)
		return
	}
	a.fail(w, r, v, err)
}

// domainsMessage translates the catalog's field errors; ok is false for a
// message it does not know.
func domainsMessage(l *Locale, f crm.FieldError) (string, bool) {
	if f.Field != "business_domains" {
		return "", false
	}
	switch {
	case strings.HasPrefix(f.Message, "must list 1 to "):
		return l.T("fe.domains_count", crm.MaxDomains), true
	case strings.HasPrefix(f.Message, "each domain must be 1 to "):
		return l.T("fe.domain_length", crm.MaxDomainLength), true
	case f.Message == "a domain must be printable text":
		return l.T("fe.domain_printable"), true
	case strings.HasSuffix(f.Message, " is listed twice"):
		return l.T("fe.domain_twice", strings.TrimSuffix(f.Message, " is listed twice")), true
	}
	return "", false
}
