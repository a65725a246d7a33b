package search

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"helpportal/internal/store"
)

// recorder aggregates search analytics in memory and writes them in one transaction every
// few seconds: a search must not wait for the store's single writer.
type recorder struct {
	mu      sync.Mutex
	pending map[statKey]*store.SearchStat
}

type statKey struct {
	day   string
	query string
}

// maxPending bounds memory if the store is unavailable for long: beyond it, new queries
// are dropped (counts for known ones still add up).
const maxPending = 50000

func newRecorder() *recorder { return &recorder{pending: map[statKey]*store.SearchStat{}} }

func (r *recorder) entry(now time.Time, q string) *store.SearchStat {
	k := statKey{now.UTC().Format("2006-01-02"), q}
	s := r.pending[k]
	if s == nil {
		if len(r.pending) >= maxPending {
			return nil
		}
		s = &store.SearchStat{Day: now.UTC(), Query: q}
		r.pending[k] = s
	}
	return s
}

func (r *recorder) search(now time.Time, q string, total int, took time.Duration) {
	if q == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.entry(now, q); s != nil {
		s.Searches++
		s.Results = int64(total)
		s.TookMS += took.Milliseconds()
		if total == 0 {
			s.ZeroResults++
		}
	}
}

func (r *recorder) click(now time.Time, q string, pos int) {
	if q == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.entry(now, q); s != nil {
		s.Clicks++
		s.ClickPosSum += int64(pos)
	}
}

// flush writes what has accumulated; on failure the counts are kept for the next try.
func (r *recorder) flush(ctx context.Context, src Source, log *slog.Logger) {
	r.mu.Lock()
	if len(r.pending) == 0 {
		r.mu.Unlock()
		return
	}
	batch := make([]store.SearchStat, 0, len(r.pending))
	for _, s := range r.pending {
		batch = append(batch, *s)
	}
	r.pending = map[statKey]*store.SearchStat{}
	r.mu.Unlock()
	if err := src.AddSearchStats(ctx, batch); err != nil {
		if ctx.Err() == nil { // a flush cut short by shutdown is retried by the final one
			log.Warn("search: saving analytics", "err", err)
		}
		r.mu.Lock()
		for _, s := range batch {
			if e := r.entry(s.Day, s.Query); e != nil {
				e.Searches += s.Searches
				e.ZeroResults += s.ZeroResults
				e.TookMS += s.TookMS
				e.Clicks += s.Clicks
				e.ClickPosSum += s.ClickPosSum
				if s.Searches > 0 {
					e.Results = s.Results
				}
			}
		}
		r.mu.Unlock()
	}
}
