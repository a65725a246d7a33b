package search

import (
	"container/list"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// resultCache keeps recent results. Help-centre searches repeat a lot (a few queries make
// most of the traffic), and a repeated search costs a map look-up instead of several index
// searches and a store read. Any change applied to the index empties it, so a cached result
// is never older than the index it came from.
type resultCache struct {
	mu    sync.Mutex
	max   int
	epoch string // the generation and change number the entries belong to
	m     map[string]*list.Element
	ll    *list.List // most recently used first
}

type cacheEntry struct {
	key string
	res *Result
}

func newResultCache(max int) *resultCache {
	return &resultCache{max: max, m: map[string]*list.Element{}, ll: list.New()}
}

// cacheKey holds everything a result depends on. Viewers are keyed by what they may see,
// not by who they are, so a cached result never crosses a visibility boundary.
func cacheKey(r Request, acls []string) string {
	var b strings.Builder
	b.WriteString(r.Query)
	b.WriteByte(0)
	b.WriteString(strings.Join(acls, ","))
	if acls == nil {
		b.WriteString("*")
	}
	for _, n := range []int64{r.CategoryID, int64(r.Offset), int64(r.Limit)} {
		b.WriteByte(0)
		b.WriteString(strconv.FormatInt(n, 10))
	}
	b.WriteByte(0)
	b.WriteString(string(r.Type))
	b.WriteByte(0)
	b.WriteString(r.Tag)
	b.WriteString(strconv.FormatBool(r.Facets) + strconv.FormatBool(r.Snippets)) // NoCache does not change the result
	return b.String()
}

func (c *resultCache) get(epoch, key string) *Result {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		return nil
	}
	el, ok := c.m[key]
	if !ok {
		return nil
	}
	c.ll.MoveToFront(el)
	return el.Value.(*cacheEntry).res.clone()
}

func (c *resultCache) put(epoch, key string, res *Result) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		clear(c.m)
		c.ll.Init()
		c.epoch = epoch
	}
	if el, ok := c.m[key]; ok {
		el.Value.(*cacheEntry).res = res.clone()
		c.ll.MoveToFront(el)
		return
	}
	c.m[key] = c.ll.PushFront(&cacheEntry{key: key, res: res.clone()})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		delete(c.m, last.Value.(*cacheEntry).key)
		c.ll.Remove(last)
	}
}

// clone copies what a caller could change.
func (r *Result) clone() *Result {
	out := *r
	out.Hits = slices.Clone(r.Hits)
	out.Categories = maps.Clone(r.Categories)
	out.Types = maps.Clone(r.Types)
	return &out
}
