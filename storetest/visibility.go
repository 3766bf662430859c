package storetest

import (
	"testing"

	"github.com/crmleads/crm"
)

var visibilityTests = []test{
	{"ManagerSeesOwnLeads", func(t *testing.T, b *bundle) {
		mine := b.leadAt(t, crm.LeadNew)
		theirs := b.eligibleOf(t, b.mgr2)
		ctx := as(b.mgr)

		got, err := b.svc.Leads.Lead(ctx, mine.ID)
		must(t, err)
		diff(t, "own lead", mine, got)
		notFound := func(what string, err error) {
			t.Helper()
			wantErrNoFatal(t, err, crm.ENOTFOUND, crm.CodeNotFound, what)
		}
		_, err = b.svc.Leads.Lead(ctx, theirs.ID)
		notFound("Lead", err)
		name, second := "mine now", "second"
		_, err = b.svc.Leads.UpdateLead(ctx, theirs.ID, crm.LeadUpdate{Name: &name, BusinessDomain: &second})
		notFound("UpdateLead", err)
		_, err = b.svc.Leads.SetMessages(ctx, theirs.ID, 9)
		notFound("SetMessages", err)
		_, err = b.svc.Leads.IncrementMessages(ctx, theirs.ID)
		notFound("IncrementMessages", err)
		_, err = b.svc.Leads.MoveLead(ctx, theirs.ID, crm.LeadLost)
		notFound("MoveLead", err)
		_, err = b.svc.Analyses.Analyze(ctx, theirs.ID)
		notFound("Analyze", err)
		_, err = b.svc.Analyses.Analyses(ctx, theirs.ID)
		notFound("Analyses", err)
		_, err = b.svc.Leads.TransferCheck(ctx, theirs.ID)
		notFound("TransferCheck", err)
		_, err = b.svc.Leads.Transfer(ctx, theirs.ID)
		notFound("Transfer", err)
		_, err = b.svc.Leads.LeadEvents(ctx, theirs.ID)
		notFound("LeadEvents", err)
		_, err = b.svc.Leads.LeadSale(ctx, theirs.ID)
		notFound("LeadSale", err)
		diff(t, "their lead after my attempts", theirs, b.lead(t, theirs.ID))

		list, next, err := b.svc.Leads.Leads(ctx, crm.LeadFilter{})
		must(t, err)
		diff(t, "my list", []string{mine.ID}, ids(list, leadID))
		if next != "" {
			t.Errorf("next = %q", next)
		}
		list, _, err = b.svc.Leads.Leads(ctx, crm.LeadFilter{OwnerID: b.mgr2.ID})
		must(t, err)
		diff(t, "filtered by another owner", []string{}, ids(list, leadID))
		list, _, err = b.svc.Leads.Leads(ctx, crm.LeadFilter{OwnerID: b.mgr.ID})
		must(t, err)
		diff(t, "filtered by myself", []string{mine.ID}, ids(list, leadID))
	}},
	{"ManagerCannotChooseOwner", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		_, err := b.svc.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.SourceManual, OwnerID: b.mgr2.ID})
		wantErr(t, err, crm.EFORBIDDEN, crm.CodeForbidden)
		l, err := b.svc.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.SourceManual, OwnerID: b.mgr.ID})
		must(t, err)
		if l.OwnerID != b.mgr.ID {
			t.Errorf("owner = %q", l.OwnerID)
		}
		_, err = b.svc.Leads.UpdateLead(ctx, l.ID, crm.LeadUpdate{OwnerID: &b.mgr2.ID})
		wantErr(t, err, crm.EFORBIDDEN, crm.CodeForbidden)
		if got := b.lead(t, l.ID); got.OwnerID != b.mgr.ID {
			t.Errorf("owner after a refused reassignment = %q", got.OwnerID)
		}
		list, _, err := b.svc.Leads.Leads(as(b.senior), crm.LeadFilter{OwnerID: b.mgr2.ID})
		must(t, err)
		if len(list) != 0 {
			t.Errorf("manager 2 owns %d leads, want 0", len(list))
		}
	}},
	{"SeniorSeesAllAndReassigns", func(t *testing.T, b *bundle) {
		a := b.leadAt(t, crm.LeadNew)
		c := b.leadOf(t, b.mgr2, crm.LeadContacted)
		ctx := as(b.senior)
		for _, l := range []*crm.Lead{a, c} {
			got, err := b.svc.Leads.Lead(ctx, l.ID)
			must(t, err)
			diff(t, "senior reads", l, got)
		}
		list, _, err := b.svc.Leads.Leads(ctx, crm.LeadFilter{})
		must(t, err)
		diff(t, "senior list", sortedDesc([]string{a.ID, c.ID}), ids(list, leadID))

		up, err := b.svc.Leads.UpdateLead(ctx, a.ID, crm.LeadUpdate{OwnerID: &b.mgr2.ID})
		must(t, err)
		if up.OwnerID != b.mgr2.ID || b.lead(t, a.ID).OwnerID != b.mgr2.ID {
			t.Errorf("owner after reassignment = %q", b.lead(t, a.ID).OwnerID)
		}
		ev := b.trail(t, a.ID)
		last := ev[len(ev)-1]
		if last.Action != crm.ActionLeadOwner || last.ActorID != b.senior.ID {
			t.Errorf("reassignment event = %+v", last)
		}
		_, err = b.svc.Leads.Lead(as(b.mgr), a.ID)
		wantErr(t, err, crm.ENOTFOUND, crm.CodeNotFound)
		if _, err := b.svc.Leads.Lead(as(b.mgr2), a.ID); err != nil {
			t.Errorf("new owner cannot read the lead: %v", err)
		}
		// The senior works the lead too.
		_, err = b.svc.Leads.MoveLead(ctx, c.ID, crm.LeadQualified)
		must(t, err)

		// Only an active user can own a lead.
		ghost := crm.NewID()
		_, err = b.svc.Leads.UpdateLead(ctx, a.ID, crm.LeadUpdate{OwnerID: &ghost})
		wantErr(t, err, crm.EINVALID, crm.CodeValidation)
		_, err = b.svc.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.SourceManual, OwnerID: ghost})
		wantErr(t, err, crm.EINVALID, crm.CodeValidation)
		l, err := b.svc.Leads.CreateLead(as(b.admin), crm.LeadInput{Source: crm.SourceManual, OwnerID: b.mgr.ID})
		must(t, err)
		if got := b.lead(t, l.ID).OwnerID; got != b.mgr.ID {
			t.Errorf("admin-created lead owner = %q", got)
		}
	}},
}
