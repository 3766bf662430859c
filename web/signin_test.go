package web_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLoginBurst: a parallel burst of wrong passwords at one email gets
// exactly five 401s (the guesses that were checked) and 429 for the rest, and
// then the right password is refused too.
func TestLoginBurst(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		const n = 30
		statuses := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				statuses[i] = e.do("POST", "/auth/login", "", map[string]any{"email": e.mgr.Email, "password": "a wrong guess"}).Status
			})
		}
		close(start)
		wg.Wait()
		got := map[int]int{}
		for _, s := range statuses {
			got[s]++
		}
		want := map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: n - 5}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("statuses of %d parallel wrong guesses (-want +got):\n%s", n, d)
		}
		problemOf(t, e.do("POST", "/auth/login", "", map[string]any{"email": e.mgr.Email, "password": password}),
			http.StatusTooManyRequests)
	})
}

// TestTokensEnd: a password reset, a deactivation (even undone) and signing
// out everywhere each end every token issued before; a new sign-in works.
func TestTokensEnd(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		pw := password
		login := func() string {
			t.Helper()
			var ok struct {
				AccessToken string `json:"access_token"`
			}
			e.must(200, "POST", "/auth/login", "", map[string]any{"email": e.mgr.Email, "password": pw}).decode(t, &ok)
			return ok.AccessToken
		}
		older := []string{e.mgr.Token}
		ended := func(step string) {
			t.Helper()
			for i, tok := range older {
				if res := e.do("GET", "/me", tok, nil); res.Status != http.StatusUnauthorized {
					t.Errorf("after %s: token %d of %d: GET /me = %s, want 401", step, i+1, len(older), res)
				} else if res.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("after %s: 401 without WWW-Authenticate", step)
				}
			}
			tok := login()
			e.must(200, "GET", "/me", tok, nil)
			older = append(older, tok)
		}
		e.must(200, "GET", "/me", login(), nil)

		pw = "a brand new password"
		e.must(200, "PATCH", "/users/"+e.mgr.ID, e.admin.Token, map[string]any{"password": pw})
		ended("a password reset")

		e.must(200, "PATCH", "/users/"+e.mgr.ID, e.admin.Token, map[string]any{"active": false})
		e.must(200, "PATCH", "/users/"+e.mgr.ID, e.admin.Token, map[string]any{"active": true})
		ended("a deactivation undone")

		current := older[len(older)-1]
		res := e.must(http.StatusNoContent, "POST", "/me/logout-all", current, nil)
		if len(res.Body) != 0 {
			t.Errorf("logout-all body %q, want none", res.Body)
		}
		ended("sign out everywhere")
		problemOf(t, e.do("POST", "/me/logout-all", current, nil), http.StatusUnauthorized)

		// Other users keep their tokens; every role may sign out everywhere.
		e.must(200, "GET", "/me", e.other.Token, nil)
		for _, u := range []user{e.other, e.senior, e.admin} {
			e.must(http.StatusNoContent, "POST", "/me/logout-all", u.Token, nil)
			problemOf(t, e.do("GET", "/me", u.Token, nil), http.StatusUnauthorized)
		}
		problemOf(t, e.do("POST", "/me/logout-all", "", nil), http.StatusUnauthorized)
	})
}
