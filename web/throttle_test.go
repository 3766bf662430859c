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
