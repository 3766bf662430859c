package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/demo"
)

// The lists mode (-mode lists) measures what issue 14 §2 asks of a large
// table: a keyset page deep in the list against the first page, a search for
// a fragment of an email, and the boards, over HTTP and straight through the
// store. The leads come from the demo generator (`crmleads demo seed`), whose
// emails hold a random six-letter token: a fragment that matches a handful
// of leads, as a user's search would.

// seedDemo loads n demo leads through the store's BulkLoader, as
// `crmleads demo seed` does (two loaders, one transaction per batch).
func (b *bench) seedDemo(ctx context.Context, n int, owners []string) error {
	loader, ok := b.st.(crm.BulkLoader)
	if !ok {
		return errors.New("the store cannot bulk-load")
	}
	batches := make(chan *crm.Bulk, 2)
	errs := make(chan error, 2)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range 2 {
		go func() {
			var err error
			for bl := range batches {
				if err == nil {
					if err = loader.BulkLoad(lctx, bl); err != nil {
						cancel()
					}
				}
			}
			errs <- err
		}()
	}
	_, err := demo.Generate(demo.Config{Leads: n, Seed: 1, Owners: owners, Now: time.Now()}, func(bl *crm.Bulk) error {
		select {
		case batches <- bl:
			return nil
		case <-lctx.Done():
			return lctx.Err()
		}
	})
	close(batches)
	for range 2 {
		err = errors.Join(err, <-errs)
	}
	return err
}

// listsRow is one line of the lists report.
type listsRow struct {
	name    string
	clients int
	r       result
}

// runLists runs the lists scenarios and prints their report.
func (b *bench) runLists(ctx context.Context) error {
	total, err := b.direct.countLeads(ctx)
	if err != nil {
		return err
	}
	// Page N of limit L starts after the lead at position (N-1)·L; with
	// fewer leads than N·50 the page shrinks so that page N still exists.
	size := min(crm.DefaultPageSize, total/b.o.page)
	if size < 1 {
		return fmt.Errorf("%d leads are too few for page %d", total, b.o.page)
	}
	pos := (b.o.page-1)*size - 1
	cursor := ""
	if pos >= 0 {
		if cursor, err = b.direct.leadIDAt(ctx, pos); err != nil {
			return err
		}
	}
	var page []struct {
		ID string `json:"id"`
	}
	if err := b.cl.do(ctx, "GET", fmt.Sprintf("/leads?limit=%d&cursor=%s", size, cursor), nil, http.StatusOK, &page); err != nil {
		return err
	}
	if len(page) != size || page[0].ID >= cursor {
		return fmt.Errorf("page %d after %s: %d leads, want %d older ones", b.o.page, cursor, len(page), size)
	}
	fmt.Fprintf(b.log, "page %d of %d: cursor %s at position %d of %d leads\n", b.o.page, size, cursor, pos, total)

	frags, err := b.fragments(ctx, total)
	if err != nil {
		return err
	}
	pick := func() string { return frags[rand.IntN(len(frags))] }

	type scenario struct {
		name string
		op   func(ctx context.Context) error
	}
	get := func(path func() string) func(ctx context.Context) error {
		return func(ctx context.Context) error { return b.cl.do(ctx, "GET", path(), nil, http.StatusOK, nil) }
	}
	list := []scenario{
		{"page 1, HTTP", get(func() string { return fmt.Sprintf("/leads?limit=%d", size) })},
		{fmt.Sprintf("page %d, HTTP", b.o.page), get(func() string { return fmt.Sprintf("/leads?limit=%d&cursor=%s", size, cursor) })},
		{"search q=<6 letters of an email>, HTTP", get(func() string { return "/leads?q=" + url.QueryEscape(pick()) })},
		{"GET /leads/summary", get(func() string { return "/leads/summary" })},
		{"GET /sales/summary", get(func() string { return "/sales/summary" })},
		{"page 1, store", func(ctx context.Context) error {
			_, err := b.st.Leads(ctx, crm.LeadFilter{Limit: size + 1})
			return err
		}},
		{fmt.Sprintf("page %d, store", b.o.page), func(ctx context.Context) error {
			_, err := b.st.Leads(ctx, crm.LeadFilter{After: cursor, Limit: size + 1})
			return err
		}},
		{"search, store", func(ctx context.Context) error {
			_, err := b.st.Leads(ctx, crm.LeadFilter{Q: pick(), Limit: crm.DefaultPageSize + 1})
			return err
		}},
		{"board counts and totals, store (summary tables)", func(ctx context.Context) error {
			if _, err := b.st.LeadCounts(ctx, ""); err != nil {
				return err
			}
			_, err := b.st.SaleTotals(ctx, "")
			return err
		}},
		{"board counts and totals, GROUP BY over leads and sales (before 00013)", b.direct.boardGroupBy},
	}
	per := b.o.duration / time.Duration(b.o.rounds)
	var rows []listsRow
	for _, clients := range uniq(1, b.o.clients) {
		for _, s := range list {
			if clients > 1 && strings.Contains(s.name, "GROUP BY") {
				continue // a second or more per call: one client says it all
			}
			var r result
			for range b.o.rounds {
				r.merge(runLoad(ctx, clients, b.o.warmup, per, s.op))
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			rows = append(rows, listsRow{name: s.name, clients: clients, r: r})
			fmt.Fprintf(b.log, "%-70s %2d clients %8.0f ops/s p50 %-8s p99 %-8s errors %d\n", s.name, clients,
				r.opsPerSec(), ms(r.percentile(50)), ms(r.percentile(99)), r.errs)
			if r.firstErr != nil {
				fmt.Fprintf(b.log, "  first error: %v\n", r.firstErr)
			}
		}
	}
	b.reportLists(total, size, rows)
	return nil
}

func uniq(a, b int) []int {
	if a == b {
		return []int{a}
	}
	return []int{a, b}
}

// fragments draws six-letter fragments of the emails of random leads (the
// demo's token) and checks each matches under 1% of the leads.
func (b *bench) fragments(ctx context.Context, total int) ([]string, error) {
	emails, err := b.direct.sampleEmails(ctx, 20)
	if err != nil {
		return nil, err
	}
	var out []string
	most := 0
	for _, e := range emails {
		local, _, _ := strings.Cut(e, "@")
		_, tok, ok := strings.Cut(local, ".")
		if !ok || len(tok) < 6 {
			continue
		}
		out = append(out, tok[:6])
	}
	if len(out) == 0 {
		return nil, errors.New("no demo emails (lead<N>.<token>@…) to search for: seed with the demo generator")
	}
	counts, err := b.direct.countEmailMatches(ctx, out)
	if err != nil {
		return nil, err
	}
	for _, n := range counts {
		most = max(most, n)
	}
	if most*100 >= total {
		return nil, fmt.Errorf("a fragment matches %d of %d leads, not under 1%%", most, total)
	}
	fmt.Fprintf(b.log, "search: %d fragments such as %q, each matching at most %d of %d leads (%.4f%%)\n",
		len(out), out[0], most, total, 100*float64(most)/float64(total))
	return out, nil
}

func (b *bench) reportLists(total, size int, rows []listsRow) {
	w := b.stdout
	fmt.Fprintf(w, "\ncrmbench lists: %s, %d leads, page size %d, %d round(s) x %s per scenario (warm-up %s each)\n\n",
		b.o.db, total, size, b.o.rounds, b.o.duration/time.Duration(b.o.rounds), b.o.warmup)
	var out [][]string
	p50 := map[string]time.Duration{}
	for _, r := range rows {
		out = append(out, []string{r.name, fmt.Sprint(r.clients), fmt.Sprintf("%.0f", r.r.opsPerSec()),
			ms(r.r.percentile(50)), ms(r.r.percentile(99)), fmt.Sprint(r.r.errs)})
		p50[fmt.Sprint(r.clients, r.name)] = r.r.percentile(50)
	}
	printTable(w, b.o.markdown, []string{"scenario", "clients", "ops/s", "p50", "p99", "errors"}, out)
	fmt.Fprintln(w)
	var ts [][]string
	for _, c := range uniq(1, b.o.clients) {
		for _, via := range []string{"HTTP", "store"} {
			first, deep := p50[fmt.Sprint(c, "page 1, "+via)], p50[fmt.Sprint(c, fmt.Sprintf("page %d, %s", b.o.page, via))]
			r := deep.Seconds() / first.Seconds()
			ts = append(ts, []string{fmt.Sprintf("page %d ≤ 1.5x page 1, p50, %s, %d clients", b.o.page, via, c),
				fmt.Sprintf("%.2fx", r), status(r <= 1.5)})
		}
		for _, name := range []string{"search q=<6 letters of an email>, HTTP", "search, store"} {
			v := p50[fmt.Sprint(c, name)]
			ts = append(ts, []string{fmt.Sprintf("%s p50 ≤ 20 ms, %d clients", name, c), ms(v), status(v <= 20*time.Millisecond)})
		}
	}
	printTable(w, b.o.markdown, []string{"target", "measured", "status"}, ts)
}

func status(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}
