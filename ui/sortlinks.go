package ui

import (
	"net/url"

	"github.com/crmleads/crm"
)

// sortLink is a sortable column header: the list's own URL with its filters
// and the column's sort (the other direction when it is the current one),
// and the aria-sort of the current column.
type sortLink struct {
	URL, Aria, Arrow string
}

// sortLinks builds the header links of a list at path for the sort keys,
// keeping the filters named in keep; the cursor is left out, as a new order
// starts at its first page.
func sortLinks(path string, q url.Values, cur crm.Sort, keys []string, keep ...string) map[string]sortLink {
	out := map[string]sortLink{}
	for _, k := range keys {
		nq := listQuery(q, keep...)
		next := crm.Sort{Key: k}
		l := sortLink{}
		if cur.Key == k {
			next.Desc = !cur.Desc
			l.Aria, l.Arrow = "ascending", " ▲"
			if cur.Desc {
				l.Aria, l.Arrow = "descending", " ▼"
			}
		} else if k == "updated_at" || k == "messages_count" || k == "ai_score" || k == "amount" {
			next.Desc = true // the highest and the newest first
		}
		if next.String() != "" && !(k == "created_at" && next.Desc) {
			nq.Set("sort", next.String())
		}
		l.URL = path + "?" + nq.Encode()
		out[k] = l
	}
	return out
}
