package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

var settingTests = []test{
	{"RoundTrip", func(t *testing.T, b *bundle) {
		bg := context.Background()
		_, err := b.st.Setting(bg, "some_key")
		wantErr(t, err, crm.ENOTFOUND, "")
		put := func(key, value string) {
			t.Helper()
			must(t, b.st.InTx(bg, func(tx crm.Tx) error { return tx.PutSetting(bg, key, value) }))
		}
		put("some_key", `["a","b"]`)
		v, err := b.st.Setting(bg, "some_key")
		must(t, err)
		if v != `["a","b"]` {
			t.Errorf("Setting = %q, want the value put", v)
		}
		put("some_key", "über ✓")
		v, err = b.st.Setting(bg, "some_key")
		must(t, err)
		if v != "über ✓" {
			t.Errorf("Setting after overwrite = %q, want the new value", v)
		}
		_, err = b.st.Setting(bg, "other_key")
		wantErr(t, err, crm.ENOTFOUND, "")

		// EnsureSetting does not overwrite a value put before it.
		got, err := b.st.EnsureSetting(bg, "some_key", "ensured")
		must(t, err)
		if got != "über ✓" {
			t.Errorf("EnsureSetting over a put value = %q, want the put value", got)
		}
		v, err = b.st.Setting(bg, "some_key")
		must(t, err)
		if v != "über ✓" {
			t.Errorf("Setting after EnsureSetting = %q, want the put value", v)
		}
		// A put inside a rolled-back transaction leaves nothing.
		err = b.st.InTx(bg, func(tx crm.Tx) error {
			if err := tx.PutSetting(bg, "rolled_back", "x"); err != nil {
				return err
			}
			return crm.Errorf(crm.ECONFLICT, crm.CodeConflict, "roll back")
		})
		wantErr(t, err, crm.ECONFLICT, crm.CodeConflict)
		_, err = b.st.Setting(bg, "rolled_back")
		wantErr(t, err, crm.ENOTFOUND, "")
	}},
	{"DomainsDefault", func(t *testing.T, b *bundle) {
		for _, u := range []*crm.User{b.admin, b.senior, b.mgr} {
			d, err := b.svc.Leads.Domains(as(u))
			must(t, err)
			diff(t, "default catalog", Domains, d)
		}
		// The caller's copy is its own.
		d, err := b.svc.Leads.Domains(context.Background())
		must(t, err)
		d[0] = "changed"
		d, err = b.svc.Leads.Domains(context.Background())
		must(t, err)
		diff(t, "catalog after changing a returned copy", Domains, d)
	}},
	{"SetDomains", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		kept := b.newLead(t, ctx, crm.LeadInput{BusinessDomain: "second"})
		got, err := b.svc.Leads.SetDomains(as(b.admin), []string{" first ", "fourth", "ще один"})
		must(t, err)
		want := []string{"first", "fourth", "ще один"}
		diff(t, "SetDomains result", want, got)
		d, err := b.svc.Leads.Domains(ctx)
		must(t, err)
		diff(t, "catalog after SetDomains", want, d)

		// A new domain may be chosen; a removed one may not.
		l := b.newLead(t, ctx, crm.LeadInput{BusinessDomain: "fourth"})
		if l.BusinessDomain != "fourth" {
			t.Errorf("created lead domain = %q, want fourth", l.BusinessDomain)
		}
		_, err = b.svc.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.SourceManual, BusinessDomain: "second"})
		e := wantErr(t, err, crm.EINVALID, crm.CodeValidation)
		if len(e.Fields) != 1 || e.Fields[0].Field != "business_domain" {
			t.Errorf("fields = %+v, want business_domain", e.Fields)
		}
		second := "second"
		_, err = b.svc.Leads.UpdateLead(ctx, l.ID, crm.LeadUpdate{BusinessDomain: &second})
		e = wantErr(t, err, crm.EINVALID, crm.CodeValidation)
		if len(e.Fields) != 1 || e.Fields[0].Field != "business_domain" {
			t.Errorf("fields = %+v, want business_domain", e.Fields)
		}
		if got := b.lead(t, l.ID).BusinessDomain; got != "fourth" {
			t.Errorf("lead domain after a refused edit = %q, want fourth", got)
		}

		// The existing lead keeps its removed domain and is still edited otherwise.
		if got := b.lead(t, kept.ID).BusinessDomain; got != "second" {
			t.Errorf("existing lead domain = %q, want second", got)
		}
		name := "Still editable"
		up, err := b.svc.Leads.UpdateLead(ctx, kept.ID, crm.LeadUpdate{Name: &name})
		must(t, err)
		if up.Name != name || up.BusinessDomain != "second" {
			t.Errorf("edited lead = name %q domain %q", up.Name, up.BusinessDomain)
		}
		// Sending the removed domain back unchanged (as the web form does) is
		// no error and changes nothing.
		second = "second"
		up, err = b.svc.Leads.UpdateLead(ctx, kept.ID, crm.LeadUpdate{Name: &name, BusinessDomain: &second})
		must(t, err)
		if up.BusinessDomain != "second" {
			t.Errorf("domain after an unchanged resend = %q, want second", up.BusinessDomain)
		}
		_, err = b.svc.Leads.MoveLead(ctx, kept.ID, crm.LeadContacted)
		must(t, err)
		if got := b.lead(t, kept.ID); got.BusinessDomain != "second" || got.Name != name {
			t.Errorf("existing lead after edits = %+v", got)
		}
		// And may move to a domain of the new catalog.
		fourth := "fourth"
		up, err = b.svc.Leads.UpdateLead(ctx, kept.ID, crm.LeadUpdate{BusinessDomain: &fourth})
		must(t, err)
		if up.BusinessDomain != "fourth" {
			t.Errorf("domain = %q, want fourth", up.BusinessDomain)
		}
	}},
	{"SetDomainsForbidden", func(t *testing.T, b *bundle) {
		before := b.events(t)
		for _, u := range []*crm.User{b.mgr, b.senior} {
			_, err := b.svc.Leads.SetDomains(as(u), []string{"mine"})
			wantErr(t, err, crm.EFORBIDDEN, crm.CodeForbidden)
		}
		_, err := b.svc.Leads.SetDomains(context.Background(), []string{"mine"})
		wantErr(t, err, crm.EUNAUTHORIZED, "")
		d, err := b.svc.Leads.Domains(context.Background())
		must(t, err)
		diff(t, "catalog after refused changes", Domains, d)
		_, err = b.st.Setting(context.Background(), crm.SettingBusinessDomains)
		wantErr(t, err, crm.ENOTFOUND, "")
		if ev := only(added(before, b.events(t)), crm.ActionSettingsUpdated); len(ev) != 0 {
			t.Errorf("refused changes wrote %d settings.updated events", len(ev))
		}
	}},
	{"SetDomainsInvalid", func(t *testing.T, b *bundle) {
		many := make([]string, crm.MaxDomains+1)
		for i := range many {
			many[i] = "d" + strings.Repeat("x", i%10) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		}
		long := strings.Repeat("я", crm.MaxDomainLength+1)
		cases := []struct {
			name string
			in   []string
		}{
			{"nil", nil},
			{"empty", []string{}},
			{"too many", many},
			{"blank", []string{"first", ""}},
			{"spaces only", []string{"first", "   "}},
			{"overlong", []string{long}},
			{"duplicate", []string{"first", "second", "first"}},
			{"duplicate after trim", []string{"first", " first\t"}},
			{"control character", []string{"fi\x00rst"}},
			{"newline inside", []string{"fi\nrst"}},
		}
		for _, c := range cases {
			_, err := crm.CheckDomains(c.in)
			if e := wantErr(t, err, crm.EINVALID, crm.CodeValidation); len(e.Fields) != 1 || e.Fields[0].Field != "business_domains" {
				t.Errorf("%s: CheckDomains fields = %+v, want business_domains", c.name, e.Fields)
			}
			_, err = b.svc.Leads.SetDomains(as(b.admin), c.in)
			if e := wantErr(t, err, crm.EINVALID, crm.CodeValidation); len(e.Fields) != 1 || e.Fields[0].Field != "business_domains" {
				t.Errorf("%s: SetDomains fields = %+v, want business_domains", c.name, e.Fields)
			}
		}
		// The limits themselves are accepted.
		limit := many[:crm.MaxDomains]
		got, err := b.svc.Leads.SetDomains(as(b.admin), limit)
		must(t, err)
		diff(t, "catalog at the size limit", limit, got)
		got, err = b.svc.Leads.SetDomains(as(b.admin), []string{long[2:]})
		must(t, err)
		diff(t, "catalog with a domain at the length limit", []string{long[2:]}, got)
		d, err := b.svc.Leads.Domains(context.Background())
		must(t, err)
		diff(t, "catalog", []string{long[2:]}, d)
	}},
	{"SettingsEvent", func(t *testing.T, b *bundle) {
		before := b.events(t)
		_, err := b.svc.Leads.SetDomains(as(b.admin), []string{"first", "fourth"})
		must(t, err)
		_, err = b.svc.Leads.SetDomains(as(b.admin), []string{"fifth"})
		must(t, err)
		ev := byTime(only(added(before, b.events(t)), crm.ActionSettingsUpdated))
		if len(ev) != 2 {
			t.Fatalf("%d settings.updated events, want 2", len(ev))
		}
		for _, e := range ev {
			if e.ActorID != b.admin.ID || e.RequestID != "req-"+b.admin.Email || e.LeadID != "" || e.SaleID != "" {
				t.Errorf("event = %+v", e)
			}
			wantUTC(t, "settings event CreatedAt", e.CreatedAt)
		}
		diff(t, "first event data", map[string]any{"changes": map[string]any{"business_domains": map[string]any{
			"from": []any{"first", "second", "third"}, "to": []any{"first", "fourth"}}}}, ev[0].Data)
		diff(t, "second event data", map[string]any{"changes": map[string]any{"business_domains": map[string]any{
			"from": []any{"first", "fourth"}, "to": []any{"fifth"}}}}, ev[1].Data)
		// The audit filter by action finds them.
		audit, err := b.st.Events(context.Background(), crm.EventFilter{Action: crm.ActionSettingsUpdated, Limit: 10})
		must(t, err)
		if len(audit) != 2 {
			t.Errorf("audit by action: %d events, want 2", len(audit))
		}
	}},
}

// events returns the whole audit trail.
func (b *bundle) events(t *testing.T) []*crm.Event {
	t.Helper()
	ev, err := b.st.Events(context.Background(), crm.EventFilter{Limit: crm.MaxPageSize})
	if err != nil {
		t.Fatalf("store.Events: %v", err)
	}
	return ev
}
