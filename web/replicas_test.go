package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/auth"
	"github.com/crmleads/crm/postgres"
	"github.com/crmleads/crm/sqlite"
	"github.com/crmleads/crm/web"
)

// TestUserChangesReachEveryReplica: two service instances (each its own
// store and pool, as two replicas) on one database. A deactivation, a sign
// out everywhere or a role change made through one fails the very next
// request through the other (401), reads and writes alike, and a refused
// write leaves nothing behind. On PostgreSQL the check rides on the
// request's own first statement (no round trip of its own), so this is what
// proves that folding it in kept it as strict as a read of the user.
func TestUserChangesReachEveryReplica(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		a := newEnv(t, kind)
		ctx := context.Background()
		var store crm.Store
		switch kind {
		case "sqlite":
			db, err := sqlite.Open(ctx, a.url)
			if err != nil {
				t.Fatal(err)
			}
			store = db
		default:
			db, err := postgres.Open(ctx, a.url)
			if err != nil {
				t.Fatal(err)
			}
			store = db
		}
		t.Cleanup(func() { store.Close() })
		svc := crm.NewServices(crm.Config{Store: store, Hasher: auth.Bcrypt{Cost: 4}, Domains: []string{"first"}})
		b := httptest.NewServer(web.NewServer(web.Deps{Services: svc, Tokens: a.tokens}))
		t.Cleanup(b.Close)
		onB := func(method, path, token string, body any) response {
			return doReq(t, b, method, path, token, body, nil)
		}
		countLeads := func() int {
			ls, err := a.store.Leads(ctx, crm.LeadFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return len(ls)
		}
		lead := map[string]any{"source": "manual", "name": "Replica"}

		// Warm: both replicas accept the tokens (and B's pool has its
		// statements prepared, as a busy replica's would).
		for _, u := range []user{a.mgr, a.other, a.senior} {
			if res := onB("GET", "/leads", u.Token, nil); res.Status != 200 {
				t.Fatalf("before any change: %s", res)
			}
		}
		if res := onB("POST", "/leads", a.mgr.Token, lead); res.Status != 201 {
			t.Fatalf("create before any change: %s", res)
		}
		before := countLeads()

		// Deactivated through A: B refuses the next read and the next write.
		a.must(200, "PATCH", "/users/"+a.mgr.ID, a.admin.Token, map[string]any{"active": false})
		for _, res := range []response{onB("GET", "/leads", a.mgr.Token, nil), onB("POST", "/leads", a.mgr.Token, lead)} {
			if res.Status != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("after a deactivation on the other replica: %s", res)
			}
		}
		// Signed out everywhere through A.
		a.must(204, "POST", "/me/logout-all", a.other.Token, nil)
		if res := onB("POST", "/leads", a.other.Token, lead); res.Status != http.StatusUnauthorized {
			t.Errorf("after sign-out everywhere on the other replica: %s", res)
		}
		// A role change through A.
		a.must(200, "PATCH", "/users/"+a.senior.ID, a.admin.Token, map[string]any{"role": "manager"})
		for _, res := range []response{onB("GET", "/leads", a.senior.Token, nil), onB("POST", "/leads", a.senior.Token, lead),
			onB("GET", "/leads/summary", a.senior.Token, nil)} {
			if res.Status != http.StatusUnauthorized {
				t.Errorf("after a role change on the other replica: %s", res)
			}
		}
		if n := countLeads(); n != before {
			t.Errorf("refused creates left %d leads behind", n-before)
		}
		// Signing in again (a fresh token) works on B, with the new role.
		if res := onB("GET", "/users", a.reissue(a.senior), nil); res.Status != http.StatusForbidden {
			t.Errorf("the new role on the other replica: %s", res)
		}
	})
}
