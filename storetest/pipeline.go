package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

// pipelineTests cover the day's work: tasks, activities, deal values and the
// boards, duplicates, lost reasons, sorting, bulk actions, notifications and
// saved filters.
var pipelineTests = []test{
	{"TaskLifecycle", testTaskLifecycle},
	{"TaskReminders", testTaskReminders},
	{"TaskVisibility", testTaskVisibility},
	{"TasksFollowReassignment", testTasksFollowReassignment},
	{"ActivitiesCountCommunications", testActivities},
	{"DealValue", testDealValue},
	{"BoardTotalsAndForecast", testBoardTotals},
	{"Duplicates", testDuplicates},
	{"LostReason", testLostReason},
	{"SortedKeysetPages", testSortedPages},
	{"Bulk", testBulk},
	{"Notifications", testNotifications},
	{"SavedFilters", testSavedFilters},
}

func testTaskLifecycle(t *testing.T, b *bundle) {
	ctx := as(b.mgr)
	l := b.leadAt(t, crm.LeadContacted)
	if !l.NoNextStep() {
		t.Fatal("a fresh lead has a next step")
	}
	due := b.clock.Peek().Add(time.Hour)
	task, err := b.svc.Leads.CreateTask(ctx, l.ID, crm.TaskInput{Title: "  Call back  ", DueAt: due})
	must(t, err)
	if task.AssigneeID != b.mgr.ID || task.Title != "Call back" || task.Done() {
		t.Errorf("task = %+v: want assigned to the owner, title trimmed, open", task)
	}
	wantUTC(t, "due_at", task.DueAt)
	if got := b.lead(t, l.ID); got.OpenTasks != 1 || got.NoNextStep() {
		t.Errorf("open_tasks = %d after a task, want 1", got.OpenTasks)
	}
	noNext, _, err := b.svc.Leads.Leads(ctx, crm.LeadFilter{NoNextStep: true})
	must(t, err)
	if slices.ContainsFunc(noNext, func(x *crm.Lead) bool { return x.ID == l.ID }) {
		t.Error("the no-next-step filter lists a lead with an open task")
	}
	stored, err := b.st.Task(context.Background(), task.ID)
	must(t, err)
	diff(t, "stored task", task, stored)

	done := true
	task, err = b.svc.Leads.UpdateTask(ctx, task.ID, crm.TaskUpdate{Done: &done})
	must(t, err)
	if !task.Done() || b.lead(t, l.ID).OpenTasks != 0 {
		t.Errorf("done: task %+v, open_tasks %d", task, b.lead(t, l.ID).OpenTasks)
	}
	noNext, _, err = b.svc.Leads.Leads(ctx, crm.LeadFilter{NoNextStep: true})
	must(t, err)
	if !slices.ContainsFunc(noNext, func(x *crm.Lead) bool { return x.ID == l.ID }) {
		t.Error("the no-next-step filter misses a lead whose only task is done")
	}
	open := false
	task, err = b.svc.Leads.UpdateTask(ctx, task.ID, crm.TaskUpdate{Done: &open})
	must(t, err)
	if task.Done() || b.lead(t, l.ID).OpenTasks != 1 {
		t.Error("reopened task is not open again")
	}
	_, err = b.svc.Leads.CreateTask(ctx, l.ID, crm.TaskInput{Title: "", DueAt: due})
	wantErr(t, err, crm.EINVALID, crm.CodeValidation)
	_, err = b.svc.Leads.CreateTask(ctx, l.ID, crm.TaskInput{Title: "no time"})
	wantErr(t, err, crm.EINVALID, crm.CodeValidation)

	later, err := b.svc.Leads.CreateTask(ctx, l.ID, crm.TaskInput{Title: "Later", DueAt: due.Add(48 * time.Hour)})
	must(t, err)
	overdue, err := b.svc.Leads.CreateTask(ctx, l.ID, crm.TaskInput{Title: "Overdue", DueAt: b.clock.Peek().Add(-time.Hour)})
	must(t, err)
	mine, err := b.svc.Leads.Tasks(ctx, crm.TaskFilter{Done: &open})
	must(t, err)
	diff(t, "my open tasks, soonest first", []string{overdue.ID, task.ID, later.ID}, ids(mine, func(t *crm.Task) string { return t.ID }))
	counts, err := b.svc.Leads.MyTaskCounts(ctx, due.Add(time.Hour))
	must(t, err)
	diff(t, "task counts", crm.TaskCounts{Overdue: 1, Today: 1}, counts)

	must(t, b.svc.Leads.DeleteTask(ctx, later.ID))
	_, err = b.st.Task(context.Background(), later.ID)
	wantErr(t, err, crm.ENOTFOUND, "")
	if got := b.lead(t, l.ID).OpenTasks; got != 2 {
		t.Errorf("open_tasks = %d after deleting an open task of three, want 2", got)
	}
	trail := actions(b.trail(t, l.ID))
	for _, a := range []string{crm.ActionTaskCreated, crm.ActionTaskDone, crm.ActionTaskReopen, crm.ActionTaskDeleted} {
		if !slices.Contains(trail, a) {
			t.Errorf("trail %v lacks %s", trail, a)
		}
	}
}

func testTaskVisibility(t *testing.T, b *bundle) {
	l := b.leadAt(t, crm.LeadNew)
	due := b.clock.Peek().Add(time.Hour)
	task, err := b.svc.Leads.CreateTask(as(b.mgr), l.ID, crm.TaskInput{Title: "Mine", DueAt: due})
	must(t, err)
	other := as(b.mgr2)
	_, err = b.svc.Leads.CreateTask(other, l.ID, crm.TaskInput{Title: "Not mine", DueAt: due})
	wantErr(t, err, crm.ENOTFOUND, "")
	title := "Hijack"
	_, err = b.svc.Leads.UpdateTask(other, task.ID, crm.TaskUpdate{Title: &title})
	wantErr(t, err, crm.ENOTFOUND, "")
	wantErr(t, b.svc.Leads.DeleteTask(other, task.ID), crm.ENOTFOUND, "")
	_, err = b.svc.Leads.LeadTasks(other, l.ID)
	wantErr(t, err, crm.ENOTFOUND, "")
	theirs, err := b.svc.Leads.Tasks(other, crm.TaskFilter{})
	must(t, err)
	if len(theirs) != 0 {
		t.Errorf("another manager lists %d tasks, want 0", len(theirs))
	}
	asked, err := b.svc.Leads.Tasks(other, crm.TaskFilter{AssigneeID: b.mgr.ID})
	must(t, err)
	if len(asked) != 0 {
		t.Error("a manager filtering by another's id sees their tasks")
	}
	// An assignee must be able to open the lead.
	_, err = b.svc.Leads.CreateTask(as(b.senior), l.ID, crm.TaskInput{Title: "For mgr2", DueAt: due, AssigneeID: b.mgr2.ID})
	wantErr(t, err, crm.EINVALID, crm.CodeValidation)
	forSenior, err := b.svc.Leads.CreateTask(as(b.mgr), l.ID, crm.TaskInput{Title: "For the senior", DueAt: due, AssigneeID: b.senior.ID})
	must(t, err)
	all, err := b.svc.Leads.Tasks(as(b.senior), crm.TaskFilter{})
	must(t, err)
	if len(all) != 2 {
		t.Errorf("a senior manager lists %d tasks, want 2", len(all))
	}
	seniors, err := b.svc.Leads.Tasks(as(b.admin), crm.TaskFilter{AssigneeID: b.senior.ID})
	must(t, err)
	diff(t, "filtered by assignee", []string{forSenior.ID}, ids(seniors, func(t *crm.Task) string { return t.ID }))
}

func testTasksFollowReassignment(t *testing.T, b *bundle) {
	l := b.leadAt(t, crm.LeadNew)
	due := b.clock.Peek().Add(time.Hour)
	task, err := b.svc.Leads.CreateTask(as(b.mgr), l.ID, crm.TaskInput{Title: "Follow up", DueAt: due})
	must(t, err)
	_, err = b.svc.Leads.UpdateLead(as(b.senior), l.ID, crm.LeadUpdate{OwnerID: &b.mgr2.ID})
	must(t, err)
	got, err := b.svc.Leads.Tasks(as(b.mgr2), crm.TaskFilter{})
	must(t, err)
	diff(t, "the new owner's tasks", []string{task.ID}, ids(got, func(t *crm.Task) string { return t.ID }))
	left, err := b.svc.Leads.Tasks(as(b.mgr), crm.TaskFilter{})
	must(t, err)
	if len(left) != 0 {
		t.Errorf("the previous owner keeps %d tasks on a lead they cannot see", len(left))
	}
}

func testActivities(t *testing.T, b *bundle) {
	ctx := as(b.mgr)
	l := b.leadAt(t, crm.LeadContacted) // messages_count 3
	call, err := b.svc.Leads.LogActivity(ctx, l.ID, crm.ActivityInput{Kind: crm.ActivityCall, Text: "Talked about pricing"})
	must(t, err)
	if got := b.lead(t, l.ID).MessagesCount; got != 4 {
		t.Errorf("messages_count = %d after a call, want 4", got)
	}
	_, err = b.svc.Leads.LogActivity(ctx, l.ID, crm.ActivityInput{Kind: crm.ActivityNote, Text: "Prefers mornings"})
	must(t, err)
	if got := b.lead(t, l.ID).MessagesCount; got != 4 {
		t.Errorf("messages_count = %d after a note, want 4 (notes are no communication)", got)
	}
	at := b.clock.Peek().Add(-24 * time.Hour)
	old, err := b.svc.Leads.LogActivity(ctx, l.ID, crm.ActivityInput{Kind: crm.ActivityMeeting, At: at})
	must(t, err)
	acts, err := b.svc.Leads.Activities(ctx, l.ID)
	must(t, err)
	if len(acts) != 3 || acts[2].ID != old.ID || acts[1].ID != call.ID {
		t.Errorf("activities not newest first by time: %v", ids(acts, func(a *crm.Activity) string { return string(a.Kind) }))
	}
	diff(t, "stored call", call, acts[1])
	msgs := only(b.trail(t, l.ID), crm.ActionLeadMessages)
	if len(msgs) != 2 || msgs[0].Data["activity_id"] != call.ID {
		t.Errorf("messages events = %v, want one per communication naming it", msgs)
	}
	timeline, err := b.svc.Leads.Timeline(ctx, l.ID)
	must(t, err)
	if len(timeline) == 0 || timeline[0].Activity == nil {
		t.Errorf("timeline does not start with the newest activity")
	}

	_, err = b.svc.Leads.LogActivity(as(b.mgr2), l.ID, crm.ActivityInput{Kind: crm.ActivityNote, Text: "x"})
	wantErr(t, err, crm.ENOTFOUND, "")
	_, err = b.svc.Leads.Activities(as(b.mgr2), l.ID)
	wantErr(t, err, crm.ENOTFOUND, "")
	_, err = b.svc.Leads.LogActivity(ctx, l.ID, crm.ActivityInput{Kind: "sms"})
	wantErr(t, err, crm.EINVALID, crm.CodeValidation)
	_, err = b.svc.Leads.LogActivity(ctx, l.ID, crm.ActivityInput{Kind: crm.ActivityNote})
	wantErr(t, err, crm.EINVALID, crm.CodeValidation)

	lost := b.leadAt(t, crm.LeadLost)
	_, err = b.svc.Leads.LogActivity(ctx, lost.ID, crm.ActivityInput{Kind: crm.ActivityNote, Text: "Asked to call in spring"})
	must(t, err)
	_, err = b.svc.Leads.LogActivity(ctx, lost.ID, crm.ActivityInput{Kind: crm.ActivityEmail, Text: "ping"})
	wantErr(t, err, crm.ECONFLICT, crm.CodeLeadClosed)
	if got := b.lead(t, lost.ID).MessagesCount; got != 3 {
		t.Errorf("a closed lead's count moved to %d", got)
	}
}

func testDealValue(t *testing.T, b *bundle) {
	ctx := as(b.mgr)
	l := b.eligible(t)
	for _, bad := range []crm.DealValue{{Amount: "-1"}, {Amount: "1e3"}, {Amount: "12.345"}, {Amount: "1 000"},
		{Amount: "10", Currency: "XYZ"}, {Amount: "1.5", Currency: "JPY"}, {Currency: "EUR"}, {Amount: "1000000000000"}} {
		_, err := b.svc.Leads.TransferDeal(ctx, l.ID, bad)
		wantErr(t, err, crm.EINVALID, crm.CodeValidation)
	}
	sale, err := b.svc.Leads.TransferDeal(ctx, l.ID, crm.DealValue{Amount: "1250.5"})
	must(t, err)
	if sale.Currency != crm.DefaultCurrency || sale.Amount.Format(sale.Currency) != "1250.50" {
		t.Errorf("sale value = %v %s, want 1250.50 %s", sale.Amount, sale.Currency, crm.DefaultCurrency)
	}
	stored, err := b.svc.Leads.Sale(ctx, sale.ID)
	must(t, err)
	diff(t, "stored sale", sale, stored)

	s2, err := b.svc.Leads.SetSaleValue(ctx, sale.ID, crm.DealValue{Amount: "999999999999.99", Currency: "usd"})
	must(t, err)
	if s2.Currency != "USD" || s2.Amount.Format("USD") != "999999999999.99" {
		t.Errorf("value = %s %s", s2.Amount.Format(s2.Currency), s2.Currency)
	}
	s2, err = b.svc.Leads.SetSaleValue(ctx, sale.ID, crm.DealValue{Amount: "7"})
	must(t, err)
	if s2.Currency != "USD" {
		t.Errorf("an amount without a currency changed the sale's currency to %s", s2.Currency)
	}
	_, err = b.svc.Leads.SetSaleValue(as(b.mgr2), sale.ID, crm.DealValue{Amount: "1"})
	wantErr(t, err, crm.ENOTFOUND, "")
	paid := b.saleAt(t, crm.SalePaid)
	_, err = b.svc.Leads.SetSaleValue(ctx, paid.ID, crm.DealValue{Amount: "1"})
	wantErr(t, err, crm.ECONFLICT, crm.CodeSaleClosed)
	if got := only(b.trail(t, l.ID), crm.ActionSaleValue); len(got) != 2 {
		t.Errorf("%d sale.value_set events, want 2", len(got))
	}
}

func testBoardTotals(t *testing.T, b *bundle) {
	ctx := as(b.mgr)
	var first *crm.Sale
	for _, v := range []crm.DealValue{{Amount: "100.10"}, {Amount: "0.20"}, {Amount: "5", Currency: "EUR"}} {
		l := b.eligible(t) // scored 0.8
		s, err := b.svc.Leads.TransferDeal(ctx, l.ID, v)
		must(t, err)
		if first == nil {
			first = s
		}
	}
	b.saleAt(t, crm.SaleKYC) // no value
	other := b.eligibleOf(t, b.mgr2)
	_, err := b.svc.Leads.TransferDeal(as(b.mgr2), other.ID, crm.DealValue{Amount: "1000"})
	must(t, err)

	board, err := b.svc.Leads.SaleSummary(ctx)
	must(t, err)
	col := func(st crm.SaleStage) crm.StageSummary { return board.Stages[crm.SaleStageRank(st)] }
	if c := col(crm.SaleNew); c.Count != 3 || len(c.Totals) != 2 ||
		c.Totals[0] != (crm.CurrencyTotal{Currency: "EUR", Amount: 5 * crm.AmountScale}) ||
		c.Totals[1].Amount.Format("UAH") != "100.30" {
		t.Errorf("manager's new column = %+v, want 3 sales, 5 EUR and 100.30 UAH (exact)", c)
	}
	if c := col(crm.SaleKYC); c.Count != 1 || len(c.Totals) != 0 {
		t.Errorf("kyc column = %+v, want one sale without a value", c)
	}
	if len(board.Forecast) != 2 || board.Forecast[1].Amount.Format("UAH") != "80.24" ||
		board.Forecast[1].Weighting() != "raw" || board.Forecast[1].Deals != 2 {
		t.Errorf("forecast = %+v, want UAH 100.30 × 0.8 = 80.24, weighed by the raw score", board.Forecast)
	}
	all, err := b.svc.Leads.SaleSummary(as(b.senior))
	must(t, err)
	if all.Stages[0].Count != 4 {
		t.Errorf("a senior manager's new column counts %d, want 4", all.Stages[0].Count)
	}
	// Where the feedback loop calibrated an analysis, its calibrated score
	// weighs the deal: 100.10 × 0.25 + 0.20 × 0.8 = 25.025 + 0.16 → 25.19.
	cal := 0.25
	must(t, b.st.InTx(context.Background(), func(tx crm.Tx) error {
		l, err := tx.LockLead(context.Background(), first.LeadID)
		if err != nil {
			return err
		}
		l.AI.ScoreCalibrated = &cal
		return tx.UpdateLead(context.Background(), l)
	}))
	cb, err := b.svc.Leads.SaleSummary(ctx)
	must(t, err)
	if f := cb.Forecast[1]; f.Amount.Format("UAH") != "25.19" || f.Weighting() != "mixed" || f.Calibrated != 1 {
		t.Errorf("forecast = %+v, want 25.19 UAH, one of two deals calibrated", f)
	}

	leads, err := b.svc.Leads.LeadSummary(ctx)
	must(t, err)
	if leads.Stages[crm.LeadStageRank(crm.LeadTransferred)].Count != 4 {
		t.Errorf("lead board = %+v, want 4 transferred", leads)
	}
}

func testDuplicates(t *testing.T, b *bundle) {
	ctx := as(b.mgr)
	orig := b.newLead(t, ctx, crm.LeadInput{Name: "Olena Koval", Company: "Acme  Ltd", Email: "Olena@Acme.example",
		Phone: "+380 (67) 123-45-67"})
	for name, in := range map[string]crm.LeadInput{
		"email":        {Email: "olena@acme.EXAMPLE"},
		"phone":        {Phone: "380671234567"},
		"company+name": {Name: "olena koval ", Company: "ACME LTD"},
	} {
		in.Source = crm.SourceManual
		_, err := b.svc.Leads.CreateLead(ctx, in)
		e := wantErr(t, err, crm.ECONFLICT, crm.CodePossibleDuplicate)
		if len(e.Duplicates) != 1 || e.Duplicates[0].ID != orig.ID || e.Duplicates[0].Owner != b.mgr.Name {
			t.Errorf("%s: duplicates = %+v, want the original with its owner's name", name, e.Duplicates)
		}
	}
	// Only what the actor may see is compared.
	if _, err := b.svc.Leads.CreateLead(as(b.mgr2), crm.LeadInput{Source: crm.SourceManual, Email: "olena@acme.example"}); err != nil {
		t.Errorf("another manager's create meets a lead they cannot see: %v", err)
	}
	_, err := b.svc.Leads.CreateLead(as(b.senior), crm.LeadInput{Source: crm.SourceManual, Phone: "067 123 45 67 "})
	if err != nil {
		t.Errorf("a different phone number matched: %v", err)
	}
	_, err = b.svc.Leads.CreateLead(as(b.senior), crm.LeadInput{Source: crm.SourceManual, Email: "OLENA@acme.example"})
	e := wantErr(t, err, crm.ECONFLICT, crm.CodePossibleDuplicate)
	if len(e.Duplicates) != 2 {
		t.Errorf("a senior manager sees %d duplicates, want 2 (both managers' leads)", len(e.Duplicates))
	}
	anyway := b.newLead(t, ctx, crm.LeadInput{Email: "olena@acme.example", AllowDuplicate: true})
	if anyway.Email != "olena@acme.example" {
		t.Error("create anyway failed")
	}
	// A lead from source alone meets no check; a closed lead is no duplicate.
	b.newLead(t, ctx, crm.LeadInput{})
	b.newLead(t, ctx, crm.LeadInput{})
	closed := b.newLead(t, ctx, crm.LeadInput{Email: "gone@example.com"})
	_, err = b.svc.Leads.MoveLead(ctx, closed.ID, crm.LeadLost)
	must(t, err)
	b.newLead(t, ctx, crm.LeadInput{Email: "gone@example.com"})
	// Editing keeps the keys current.
	newMail := "fresh@example.com"
	_, err = b.svc.Leads.UpdateLead(ctx, anyway.ID, crm.LeadUpdate{Email: &newMail})
	must(t, err)
	_, err = b.svc.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.SourceManual, Email: "Fresh@example.com"})
	wantErr(t, err, crm.ECONFLICT, crm.CodePossibleDuplicate)
}

func testLostReason(t *testing.T, b *bundle) {
	ctx := as(b.mgr)
	l := b.leadAt(t, crm.LeadContacted)
	_, err := b.svc.Leads.ChangeStage(ctx, l.ID, crm.StageChange{Stage: crm.LeadLost, LostReason: strings.Repeat("я", 501)})
	wantErr(t, err, crm.EINVALID, crm.CodeValidation)
	_, err = b.svc.Leads.ChangeStage(ctx, l.ID, crm.StageChange{Stage: crm.LeadQualified, LostReason: "why"})
	wantErr(t, err, crm.EINVALID, crm.CodeValidation)
	got, err := b.svc.Leads.ChangeStage(ctx, l.ID, crm.StageChange{Stage: crm.LeadLost, LostReason: " No budget "})
	must(t, err)
	if got.LostReason != "No budget" || b.lead(t, l.ID).LostReason != "No budget" {
		t.Errorf("lost_reason = %q", got.LostReason)
	}
	ev := only(b.trail(t, l.ID), crm.ActionLeadStage)
	if last := ev[len(ev)-1]; last.Data["lost_reason"] != "No budget" {
		t.Errorf("the audit lacks the reason: %v", last.Data)
	}
	l2 := b.leadAt(t, crm.LeadNew)
	_, err = b.svc.Leads.ChangeStage(ctx, l2.ID, crm.StageChange{Stage: crm.LeadLost, LostReason: "No budget"})
	must(t, err)
	b.leadAt(t, crm.LeadLost) // without a reason, as the original contract loses leads
	b.leadOf(t, b.mgr2, crm.LeadLost)
	report, err := b.svc.Leads.LostReasons(ctx)
	must(t, err)
	diff(t, "manager's lost reasons", []crm.ReasonCount{{Reason: "No budget", Count: 2}, {Reason: "", Count: 1}}, report)
	all, err := b.svc.Leads.LostReasons(as(b.senior))
	must(t, err)
	diff(t, "everybody's lost reasons", []crm.ReasonCount{{Reason: "", Count: 2}, {Reason: "No budget", Count: 2}}, all)
}

func testSortedPages(t *testing.T, b *bundle) {
	ctx := as(b.mgr)
	counts := []int{5, 1, 5, 3, 0, 9, 5}
	names := []string{"delta", "Alpha", "charlie", "bravo", "echo", "Bravo", "alpha"}
	for i, n := range counts {
		b.newLead(t, ctx, crm.LeadInput{MessagesCount: n, Name: names[i], AllowDuplicate: true})
	}
	walk := func(sortBy string) []*crm.Lead {
		srt, err := crm.ParseSort(sortBy, crm.LeadSortKeys)
		must(t, err)
		var all []*crm.Lead
		cursor := ""
		for range 20 {
			page, next, err := b.svc.Leads.Leads(ctx, crm.LeadFilter{Sort: srt, After: cursor, Limit: 2})
			must(t, err)
			all = append(all, page...)
			if next == "" {
				return all
			}
			cursor = next
		}
		t.Fatalf("sort %s: pages never end", sortBy)
		return nil
	}
	byCount := walk("messages_count")
	var got []int
	for _, l := range byCount {
		got = append(got, l.MessagesCount)
	}
	diff(t, "sort=messages_count", []int{0, 1, 3, 5, 5, 5, 9}, got)
	for i := 1; i < len(byCount); i++ {
		if byCount[i].MessagesCount == byCount[i-1].MessagesCount && byCount[i].ID < byCount[i-1].ID {
			t.Error("ties are not ordered by id")
		}
	}
	var gotNames []string
	for _, l := range walk("-name") {
		gotNames = append(gotNames, l.Name)
	}
	diff(t, "sort=-name (bytes)", []string{"echo", "delta", "charlie", "bravo", "alpha", "Bravo", "Alpha"}, gotNames)
	if len(walk("-ai_score")) != 7 || len(walk("updated_at")) != 7 || len(walk("stage")) != 7 {
		t.Error("a sort loses or repeats leads across pages")
	}

	_, err := crm.ParseSort("owner_password", crm.LeadSortKeys)
	wantErr(t, err, crm.EINVALID, crm.CodeValidation)
	srt, _ := crm.ParseSort("messages_count", crm.LeadSortKeys)
	_, next, err := b.svc.Leads.Leads(ctx, crm.LeadFilter{Sort: srt, Limit: 2})
	must(t, err)
	other, _ := crm.ParseSort("-messages_count", crm.LeadSortKeys)
	_, _, err = b.svc.Leads.Leads(ctx, crm.LeadFilter{Sort: other, After: next, Limit: 2})
	wantErr(t, err, crm.EINVALID, crm.CodeValidation)

	for _, v := range []string{"3", "1", "2"} {
		l := b.eligible(t)
		_, err := b.svc.Leads.TransferDeal(ctx, l.ID, crm.DealValue{Amount: v})
		must(t, err)
	}
	b.saleAt(t, crm.SaleNew)
	bySum, _ := crm.ParseSort("-amount", crm.SaleSortKeys)
	var amounts []string
	cursor := ""
	for {
		page, next, err := b.svc.Leads.Sales(ctx, crm.SaleFilter{Sort: bySum, After: cursor, Limit: 1})
		must(t, err)
		for _, s := range page {
			amounts = append(amounts, s.Amount.Format(s.Currency))
		}
		if next == "" {
			break
		}
		cursor = next
	}
	diff(t, "sales by -amount", []string{"3.00", "2.00", "1.00", "0.00"}, amounts)
}

func testBulk(t *testing.T, b *bundle) {
	a, c := b.leadAt(t, crm.LeadNew), b.leadAt(t, crm.LeadQualified)
	_, err := b.svc.Leads.Bulk(as(b.mgr), []string{a.ID}, crm.BulkAdvance, "")
	wantErr(t, err, crm.EFORBIDDEN, crm.CodeForbidden)
	_, err = b.svc.Leads.Bulk(as(b.senior), []string{a.ID}, "delete", "")
	wantErr(t, err, crm.EINVALID, crm.CodeValidation)

	unknown := "0190a3b2-1c4d-7e5f-8a9b-0c1d2e3f4a5b"
	res, err := b.svc.Leads.Bulk(as(b.senior), []string{a.ID, unknown, c.ID}, crm.BulkAdvance, "")
	must(t, err)
	if len(res) != 3 || res[0].Err != nil || res[0].Lead.Stage != crm.LeadContacted ||
		!crm.IsKind(res[1].Err, crm.ENOTFOUND) || !crm.IsKind(res[2].Err, crm.ECONFLICT) {
		t.Errorf("advance results = %+v", res)
	}
	res, err = b.svc.Leads.Bulk(as(b.admin), []string{a.ID, c.ID}, crm.BulkReassign, b.mgr2.ID)
	must(t, err)
	for _, r := range res {
		if r.Err != nil || r.Lead.OwnerID != b.mgr2.ID {
			t.Errorf("reassign %s: %+v", r.ID, r)
		}
		if n := len(only(b.trail(t, r.ID), crm.ActionLeadOwner)); n != 1 {
			t.Errorf("lead %s: %d owner events, want 1", r.ID, n)
		}
	}
	ns, unread, err := b.svc.Leads.Notifications(as(b.mgr2), false, 0)
	must(t, err)
	if len(ns) != 2 || unread != 2 || ns[0].Kind != crm.NotifyLeadAssigned {
		t.Errorf("the new owner has %d notifications (%d unread), want one per lead", len(ns), unread)
	}
}

func testNotifications(t *testing.T, b *bundle) {
	l := b.newLead(t, as(b.senior), crm.LeadInput{Name: "Taras", OwnerID: b.mgr.ID})
	mine, unread, err := b.svc.Leads.Notifications(as(b.mgr), false, 0)
	must(t, err)
	if len(mine) != 1 || unread != 1 || mine[0].LeadID != l.ID || mine[0].Subject != "Taras" ||
		mine[0].ActorID != b.senior.ID || !mine[0].Unread() || !strings.Contains(mine[0].Text, "Taras") {
		t.Fatalf("notifications = %+v", mine)
	}
	wantUTC(t, "created_at", mine[0].Created)
	theirs, _, err := b.svc.Leads.Notifications(as(b.mgr2), false, 0)
	must(t, err)
	if len(theirs) != 0 {
		t.Error("another manager sees the notification")
	}
	b.newLead(t, as(b.mgr), crm.LeadInput{Name: "Self"}) // nobody is told of their own doing

	sale := b.saleAt(t, crm.SaleAgreement)
	_, err = b.svc.Leads.MoveSale(as(b.senior), sale.ID, crm.SalePaid)
	must(t, err)
	mine, unread, err = b.svc.Leads.Notifications(as(b.mgr), false, 0)
	must(t, err)
	if len(mine) != 2 || unread != 2 || mine[0].Kind != crm.NotifySalePaid || mine[0].SaleID != sale.ID {
		t.Fatalf("after a paid sale: %+v", mine)
	}
	// Marking another's notification read is ignored, as an unknown one.
	must(t, b.svc.Leads.MarkRead(as(b.mgr2), []string{mine[0].ID}))
	must(t, b.svc.Leads.MarkRead(as(b.mgr), []string{mine[0].ID, "not-an-id"}))
	if n, _ := b.svc.Leads.UnreadCount(as(b.mgr)); n != 1 {
		t.Errorf("unread = %d after reading one of two, want 1", n)
	}
	only, _, err := b.svc.Leads.Notifications(as(b.mgr), true, 0)
	must(t, err)
	if len(only) != 1 || only[0].ID != mine[1].ID {
		t.Errorf("unread list = %+v", only)
	}
	must(t, b.svc.Leads.MarkRead(as(b.mgr), nil))
	if n, _ := b.svc.Leads.UnreadCount(as(b.mgr)); n != 0 {
		t.Errorf("unread = %d after reading all", n)
	}
	b.clock.Advance(crm.NotificationRetention + time.Hour)
	if old, _, _ := b.svc.Leads.Notifications(as(b.mgr), false, 0); len(old) != 0 {
		t.Errorf("%d notifications older than 90 days are still listed", len(old))
	}
}

func testSavedFilters(t *testing.T, b *bundle) {
	ctx := as(b.mgr)
	f, err := b.svc.Leads.SaveFilter(ctx, " My qualified partners ", "stage=qualified&source=partner&sort=-ai_score")
	must(t, err)
	if f.Name != "My qualified partners" {
		t.Errorf("name = %q", f.Name)
	}
	for _, q := range []string{"password=x", "sort=nope", "%zz"} {
		_, err := b.svc.Leads.SaveFilter(ctx, "bad", q)
		wantErr(t, err, crm.EINVALID, crm.CodeValidation)
	}
	got, err := b.svc.Leads.SavedFilters(ctx)
	must(t, err)
	diff(t, "saved filters", []*crm.SavedFilter{f}, got)
	if theirs, _ := b.svc.Leads.SavedFilters(as(b.mgr2)); len(theirs) != 0 {
		t.Error("another user lists the filter")
	}
	wantErr(t, b.svc.Leads.DeleteFilter(as(b.mgr2), f.ID), crm.ENOTFOUND, "")
	must(t, b.svc.Leads.DeleteFilter(ctx, f.ID))
	wantErr(t, b.svc.Leads.DeleteFilter(ctx, f.ID), crm.ENOTFOUND, "")
}
