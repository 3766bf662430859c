package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// errExhausted ends a worker without counting an operation: the scenario ran
// out of fresh leads to work on.
var errExhausted = errors.New("no fresh lead left")

// result is what one timed run of a scenario measured.
type result struct {
	ok        int             // successful operations in the measured window
	errs      int             // failed operations in the measured window
	firstErr  error           // the first failure, for the report
	elapsed   time.Duration   // measured window actually used
	lat       []time.Duration // latencies of the successful operations
	exhausted bool            // the run ended early for want of fresh leads
}

// merge adds the operations of another run (a later round) to r.
func (r *result) merge(o result) {
	r.ok += o.ok
	r.errs += o.errs
	if r.firstErr == nil {
		r.firstErr = o.firstErr
	}
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
	r.exhausted = r.exhausted || o.exhausted
}

// opsPerSec is the throughput of successful operations.
func (r *result) opsPerSec() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// percentile returns the p-th percentile (0 < p ≤ 100) of the latencies,
// nearest-rank; 0 when there are none. It sorts r.lat.
func (r *result) percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	if !slices.IsSorted(r.lat) {
		slices.Sort(r.lat)
	}
	i := int(float64(len(r.lat))*p/100+0.999999) - 1
	return r.lat[max(0, min(i, len(r.lat)-1))]
}

// runLoad calls op from clients goroutines in a closed loop: each starts its
// next operation as soon as the previous one returns. Operations started in the
// first warmup are not counted; none is started after warmup+dur. A worker
// stops early when op returns errExhausted.
func runLoad(ctx context.Context, clients int, warmup, dur time.Duration, op func(context.Context) error) result {
	start := time.Now()
	from, end := start.Add(warmup), start.Add(warmup+dur)
	type part struct {
		ok, errs  int
		firstErr  error
		lat       []time.Duration
		last      time.Time
		exhausted bool
	}
	parts := make([]part, clients)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			p := &parts[w]
			p.lat = make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				err := op(ctx)
				t1 := time.Now()
				if errors.Is(err, errExhausted) {
					p.exhausted = true
					break
				}
				if t0.Before(from) {
					continue
				}
				p.last = t1
				if err != nil {
					p.errs++
					if p.firstErr == nil {
						p.firstErr = err
					}
					continue
				}
				p.ok++
				p.lat = append(p.lat, t1.Sub(t0))
			}
		})
	}
	wg.Wait()
	var r result
	last := from
	for _, p := range parts {
		r.ok += p.ok
		r.errs += p.errs
		if r.firstErr == nil {
			r.firstErr = p.firstErr
		}
		r.lat = append(r.lat, p.lat...)
		r.exhausted = r.exhausted || p.exhausted
		if p.last.After(last) {
			last = p.last
		}
	}
	r.elapsed = last.Sub(from)
	if !r.exhausted && r.elapsed < dur {
		r.elapsed = dur
	}
	return r
}
