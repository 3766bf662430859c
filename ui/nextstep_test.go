package ui_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

var nextStepCell = regexp.MustCompile(`(?s)<td data-label="Next step" class="next-step">(.*?)</td>`)

// TestLeadListNextStep: each lead's next step in the list is its soonest open
// task (overdue marked); a lead whose open tasks are somebody else's shows
// their count; one without any is "no next step"; a closed one, nothing.
func TestLeadListNextStep(t *testing.T) {
	b := setup(t)
	actx := as(b.alice)
	mk := func(name string) *crm.Lead {
		t.Helper()
		l, err := b.svc.Leads.CreateLead(actx, crm.LeadInput{Source: crm.SourcePartner, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	task := func(l *crm.Lead, title string, due time.Time, assignee string) {
		t.Helper()
		if _, err := b.svc.Leads.CreateTask(actx, l.ID, crm.TaskInput{Title: title, DueAt: due, AssigneeID: assignee}); err != nil {
			t.Fatal(err)
		}
	}
	late := mk("Late Lead")
	task(late, "Later call", time.Now().Add(48*time.Hour), "")
	task(late, "Overdue call", time.Now().Add(-time.Hour), "")
	theirs := mk("Their Lead")
	task(theirs, "Sam's call", time.Now().Add(time.Hour), b.senior.ID)
	mk("Bare Lead")
	done, _ := transferredLead(t, b.alice, b.svc)

	c := b.client(t)
	c.login(b.alice.Email)
	p := c.get("/app/leads")
	checkPage(t, p, http.StatusOK)
	cells := nextStepCell.FindAllStringSubmatch(p.body, -1)
	got := map[string]string{}
	for _, row := range strings.Split(p.body, `<tr class="lead-row">`)[1:] {
		for _, l := range []string{late.Name, theirs.Name, "Bare Lead", done.Name} {
			if strings.Contains(row, ">"+l) {
				if m := nextStepCell.FindStringSubmatch(row); m != nil {
					got[l] = m[1]
				}
			}
		}
	}
	if len(cells) != 4 {
		t.Fatalf("%d next-step cells, want 4", len(cells))
	}
	for name, want := range map[string]string{late.Name: `Overdue call <time`, theirs.Name: "Open tasks: 1",
		"Bare Lead": `<span class="badge no-next">No next step</span>`, done.Name: `<span class="muted">—</span>`} {
		if !strings.Contains(got[name], want) {
			t.Errorf("%s: next step %q, want %q", name, got[name], want)
		}
	}
	if !strings.Contains(got[late.Name], `class="small overdue"`) {
		t.Errorf("the overdue task is not marked: %q", got[late.Name])
	}
}
