package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// cacheTTL bounds how stale a cached page may be for reasons the change log does not
// capture, such as an announcement starting or ending with the clock. Past it the page is
// still served while one request renders its replacement.
const cacheTTL = 30 * time.Second

// cachedPage is a fully rendered response for anonymous visitors. Its header values are
// built once, so serving it allocates nothing per request.
type cachedPage struct {
	body      []byte
	status    int
	seq       int64 // the change number it was rendered at
	at        time.Time
	articleID int64 // counted as a view when served
	etag      string
	header    http.Header
}

func newCachedPage(res *response, seq int64, at time.Time) *cachedPage {
	sum := sha256.Sum256(res.body)
	p := &cachedPage{body: res.body, status: res.status, seq: seq, at: at, articleID: res.articleID,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
	p.header = http.Header{
		"Content-Type":   {res.ctype},
		"Etag":           {p.etag},
		"Cache-Control":  {"no-cache"},
		"Content-Length": {strconv.Itoa(len(res.body))},
	}
	if res.location != "" {
		p.header["Location"] = []string{res.location}
	}
	return p
}

func (p *cachedPage) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range p.header {
		h[k] = v // shared, never modified: handlers after this point only write the body
	}
	if p.status == http.StatusOK && r.Header.Get("If-None-Match") == p.etag {
		delete(h, "Content-Length")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(p.status)
	if r.Method != http.MethodHead {
		w.Write(p.body)
	}
}

// pageCache holds rendered pages by URL, bounded in bytes. An entry is valid while the
// store's change number is the one it was rendered at, so a content change anywhere is seen
// at once. Renders of one URL are shared: under load a changed page is rendered once, not
// once per waiting request.
type pageCache struct {
	mu       sync.RWMutex
	m        map[string]*cachedPage
	size     int
	limit    int
	flightMu sync.Mutex
	flights  map[string]*flight
}

type flight struct {
	done chan struct{}
	page *cachedPage
	err  error
}

func newPageCache(limit int) *pageCache {
	return &pageCache{m: map[string]*cachedPage{}, limit: limit, flights: map[string]*flight{}}
}

func (c *pageCache) get(key string) *cachedPage {
	c.mu.RLock()
	p := c.m[key]
	c.mu.RUnlock()
	return p
}

func (c *pageCache) put(key string, p *cachedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[key]; old != nil {
		c.size -= len(old.body) + len(key)
	}
	// When full, drop everything stale first, then (if still full) everything: simpler than
	// an LRU, and a full cache refills from the hot pages within a second.
	if c.size+len(p.body) > c.limit {
		for k, v := range c.m {
			if v.seq != p.seq {
				c.size -= len(v.body) + len(k)
				delete(c.m, k)
			}
		}
		if c.size+len(p.body) > c.limit {
			clear(c.m)
			c.size = 0
		}
	}
	c.m[key] = p
	c.size += len(p.body) + len(key)
}

// render runs build once per key at a time; concurrent callers for the same key wait for
// that render and share its result.
func (c *pageCache) render(key string, build func() (*cachedPage, error)) (*cachedPage, error) {
	c.flightMu.Lock()
	if f, ok := c.flights[key]; ok {
		c.flightMu.Unlock()
		<-f.done
		return f.page, f.err
	}
	f := &flight{done: make(chan struct{})}
	c.flights[key] = f
	c.flightMu.Unlock()
	defer func() {
		c.flightMu.Lock()
		delete(c.flights, key)
		c.flightMu.Unlock()
		close(f.done)
	}()
	f.page, f.err = build()
	if f.err == nil {
		c.put(key, f.page)
	}
	return f.page, f.err
}

// refreshing reports whether a render of key is under way.
func (c *pageCache) refreshing(key string) bool {
	c.flightMu.Lock()
	defer c.flightMu.Unlock()
	_, ok := c.flights[key]
	return ok
}

// viewCounter batches article views in memory and writes them every few seconds, so a
// page view never waits on a database write. Counting is lock-free on the hot path.
type viewCounter struct {
	n     sync.Map // article ID → *atomic.Int64
	store interface {
		AddViews(context.Context, map[int64]int64) error
	}
	log *slog.Logger
}

func newViewCounter(st interface {
	AddViews(context.Context, map[int64]int64) error
}, log *slog.Logger) *viewCounter {
	return &viewCounter{store: st, log: log}
}

func (v *viewCounter) add(id int64) {
	c, ok := v.n.Load(id)
	if !ok {
		c, _ = v.n.LoadOrStore(id, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(1)
}

func (v *viewCounter) flush(ctx context.Context) {
	batch := map[int64]int64{}
	v.n.Range(func(k, c any) bool {
		if n := c.(*atomic.Int64).Swap(0); n > 0 {
			batch[k.(int64)] = n
		}
		return true
	})
	if err := v.store.AddViews(ctx, batch); err != nil {
		v.log.Warn("flush view counts", "err", err, "articles", len(batch))
		for id, n := range batch { // keep them for the next flush
			c, _ := v.n.LoadOrStore(id, new(atomic.Int64))
			c.(*atomic.Int64).Add(n)
		}
	}
}
