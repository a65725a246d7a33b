package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// cacheTTL bounds how stale a cached page may be for reasons the change log does not
// capture, such as an announcement starting or ending with the clock.
const cacheTTL = 30 * time.Second

// cachedPage is a fully rendered response for anonymous visitors.
type cachedPage struct {
	body      []byte
	status    int
	ctype     string
	etag      string
	seq       int64 // the change number it was rendered at
	at        time.Time
	articleID int64 // counted as a view when served
	location  string
}

// pageCache holds rendered pages by URL, bounded in bytes. Entries are checked against the
// store's change number on every hit, so a content change anywhere is seen at once.
type pageCache struct {
	mu    sync.RWMutex
	m     map[string]*cachedPage
	size  int
	limit int
}

func newPageCache(limit int) *pageCache {
	return &pageCache{m: map[string]*cachedPage{}, limit: limit}
}

func (c *pageCache) get(key string, seq int64, now time.Time) *cachedPage {
	c.mu.RLock()
	p := c.m[key]
	c.mu.RUnlock()
	if p == nil || p.seq != seq || now.Sub(p.at) > cacheTTL {
		return nil
	}
	return p
}

func (c *pageCache) put(key string, p *cachedPage) {
	sum := sha256.Sum256(p.body)
	p.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[key]; old != nil {
		c.size -= len(old.body) + len(key)
	}
	// When full, drop everything stale first, then (if still full) everything: simpler than
	// an LRU and a full cache refills from hot pages within a second.
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

func (p *cachedPage) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", p.ctype)
	h.Set("ETag", p.etag)
	h.Set("Cache-Control", "no-cache")
	if p.location != "" {
		h.Set("Location", p.location)
	}
	if p.status == http.StatusOK && r.Header.Get("If-None-Match") == p.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(p.status)
	if r.Method != http.MethodHead {
		w.Write(p.body)
	}
}

// viewCounter batches article views in memory and writes them every few seconds, so a
// page view never waits on a database write.
type viewCounter struct {
	mu    sync.Mutex
	n     map[int64]int64
	store interface {
		AddViews(context.Context, map[int64]int64) error
	}
	log *slog.Logger
}

func newViewCounter(st interface {
	AddViews(context.Context, map[int64]int64) error
}, log *slog.Logger) *viewCounter {
	return &viewCounter{n: map[int64]int64{}, store: st, log: log}
}

func (v *viewCounter) add(id int64) {
	v.mu.Lock()
	v.n[id]++
	v.mu.Unlock()
}

func (v *viewCounter) flush(ctx context.Context) {
	v.mu.Lock()
	batch := v.n
	v.n = map[int64]int64{}
	v.mu.Unlock()
	if err := v.store.AddViews(ctx, batch); err != nil {
		v.log.Warn("flush view counts", "err", err, "articles", len(batch))
	}
}
