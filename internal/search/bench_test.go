package search_test

// Benchmarks over a generated corpus. They are skipped unless HPSEARCH_CORPUS names a
// folder written by hpgen; the store and index are kept in HPSEARCH_WORK between runs.
//
//	go run ./cmd/hpgen -n 10000 -out /tmp/hps-c10k
//	HPSEARCH_CORPUS=/tmp/hps-c10k HPSEARCH_WORK=/tmp/hps-w10k \
//	  go test ./internal/search/ -run '^$' -bench . -benchtime 3x -timeout 60m

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/config"
	"helpportal/internal/mdfolder"
	"helpportal/internal/search"
	"helpportal/internal/store"
)

type benchEnv struct {
	db      *store.DB
	eng     *search.Engine
	work    string
	queries []string // 1–4 words taken from titles
	typos   []string // the same queries with one typo each
	prefix  []string // what a visitor has typed so far, for suggestions
}

var (
	benchOnce sync.Once
	bench     *benchEnv
	benchErr  error
)

func benchSetup(b *testing.B) *benchEnv {
	corpus, work := os.Getenv("HPSEARCH_CORPUS"), os.Getenv("HPSEARCH_WORK")
	if corpus == "" || work == "" {
		b.Skip("set HPSEARCH_CORPUS (an hpgen folder) and HPSEARCH_WORK to run the search benchmarks")
	}
	benchOnce.Do(func() {
		config.TuneGC() // the collector as serve runs it, unless GOGC or GOMEMLIMIT say otherwise
		bench, benchErr = newBenchEnv(corpus, work)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return bench
}

func newBenchEnv(corpus, work string) (*benchEnv, error) {
	ctx := context.Background()
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(work, "helpportal.db")
	_, statErr := os.Stat(dbPath)
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	if os.IsNotExist(statErr) {
		start := time.Now()
		rep, err := mdfolder.Import(ctx, db, os.DirFS(corpus))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "imported %d articles in %s\n", rep.Articles, time.Since(start).Round(time.Millisecond))
	}
	env := &benchEnv{db: db, work: work}
	start := time.Now()
	env.eng, err = search.Open(ctx, db, search.Options{Dir: filepath.Join(work, "index"), Language: "en", Logger: quiet})
	if err != nil {
		return nil, err
	}
	if err := env.eng.Sync(ctx); err != nil {
		return nil, err
	}
	st := env.eng.Stats()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "index ready in %s: %d articles, %.1f MiB on disk; Go heap in use %.0f MiB; %s\n",
		time.Since(start).Round(time.Millisecond), st.Documents, float64(st.DiskBytes)/(1<<20), float64(ms.HeapInuse)/(1<<20), rss())
	env.makeQueries(ctx)
	return env, nil
}

// makeQueries draws 500 queries of 1–4 words from article titles (seeded), and a copy of
// each with one typo in a word of 5+ letters, never in the first letter.
func (env *benchEnv) makeQueries(ctx context.Context) {
	r := rand.New(rand.NewPCG(4, 2))
	var titles []string
	var after int64
	for {
		docs, _ := env.db.SearchDocPage(ctx, after, 5000, false)
		if len(docs) == 0 {
			break
		}
		for _, d := range docs {
			titles = append(titles, d.Title)
		}
		after = docs[len(docs)-1].ID
	}
	stop := map[string]bool{}
	for _, w := range strings.Fields("the to your you a and of is in for it on that this with can be as if are or not from then when after before will into out about all one two three any each other some more most also only again") {
		stop[w] = true
	}
	for len(env.queries) < 500 {
		var words []string
		for _, w := range strings.Fields(strings.ToLower(titles[r.IntN(len(titles))])) {
			if !stop[w] {
				words = append(words, w)
			}
		}
		n := 1 + r.IntN(4)
		if len(words) < n {
			continue
		}
		start := r.IntN(len(words) - n + 1)
		q := words[start : start+n]
		env.queries = append(env.queries, strings.Join(q, " "))
		env.typos = append(env.typos, strings.Join(typo(r, q), " "))
		last := q[len(q)-1]
		env.prefix = append(env.prefix, strings.Join(append(slices.Clone(q[:len(q)-1]), last[:1+r.IntN(len(last))]), " "))
	}
}

func typo(r *rand.Rand, words []string) []string {
	out := slices.Clone(words)
	var long []int
	for i, w := range words {
		if len(w) >= 5 {
			long = append(long, i)
		}
	}
	if len(long) == 0 {
		return out
	}
	i := long[r.IntN(len(long))]
	out[i] = oneTypo(r, out[i])
	return out
}

// oneTypo makes one realistic edit after the first letter: a substitution by a key next to
// the intended one, a deletion, a doubled letter or a transposition.
func oneTypo(r *rand.Rand, w string) string {
	const rows = "qwertyuiop asdfghjkl zxcvbnm"
	b := []byte(w)
	p := 1 + r.IntN(len(b)-1)
	switch r.IntN(4) {
	case 0:
		if k := strings.IndexByte(rows, b[p]); k >= 0 {
			n := k + 1
			if r.IntN(2) == 0 && k > 0 && rows[k-1] != ' ' || n >= len(rows) || rows[n] == ' ' {
				n = k - 1
			}
			if n >= 0 && rows[n] != ' ' {
				b[p] = rows[n]
				return string(b)
			}
		}
		b[p] = 'e'
	case 1:
		b = append(b[:p], b[p+1:]...)
	case 2:
		b = append(b[:p], append([]byte{b[p]}, b[p:]...)...)
	default:
		if p == len(b)-1 {
			p--
		}
		if p >= 1 {
			b[p], b[p+1] = b[p+1], b[p]
		}
	}
	return string(b)
}

// latencies runs every query once per pass, after a warm-up pass, and reports p50 and p99.
func latencies(b *testing.B, queries []string, run func(q string) error) {
	for _, q := range queries { // warm-up
		if err := run(q); err != nil {
			b.Fatal(err)
		}
	}
	var all []time.Duration
	other := cpuOtherStart()
	b.ResetTimer()
	for range b.N {
		for _, q := range queries {
			t := time.Now()
			if err := run(q); err != nil {
				b.Fatal(err)
			}
			all = append(all, time.Since(t))
		}
	}
	b.StopTimer()
	slices.Sort(all)
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
	b.ReportMetric(other(), "other-cpu-%")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func BenchmarkSearch(b *testing.B) {
	env := benchSetup(b)
	for _, set := range []struct {
		name    string
		queries []string
	}{{"clean", env.queries}, {"typo", env.typos}} {
		b.Run(set.name, func(b *testing.B) {
			latencies(b, set.queries, func(q string) error {
				_, err := env.eng.Search(context.Background(), search.Request{Query: q, Viewer: helpportal.Anonymous, Limit: 10, Snippets: true, NoCache: true})
				return err
			})
		})
	}
	b.Run("page-with-facets", func(b *testing.B) {
		latencies(b, env.typos, func(q string) error {
			_, err := env.eng.Search(context.Background(), search.Request{Query: q, Viewer: helpportal.Anonymous, Limit: 20,
				Snippets: true, Facets: true, NoCache: true})
			return err
		})
	})
}

func BenchmarkSuggest(b *testing.B) {
	env := benchSetup(b)
	latencies(b, env.prefix, func(q string) error {
		_, err := env.eng.Suggest(context.Background(), helpportal.Anonymous, q, 8)
		return err
	})
}

// BenchmarkThroughput is searches per second over all cores with g goroutines, snippets on
// (what the API does). "distinct" runs the typo'd queries and "distinct-clean" the same
// queries as typed correctly, both bypassing the result cache, so every search does the full
// work (typo tolerance stays on: a clean query still looks for completions and rare-word
// corrections); "popular" repeats the 50 first typo'd queries through the cache, as real
// traffic, where a few queries make most searches, would mostly do.
func BenchmarkThroughput(b *testing.B) {
	env := benchSetup(b)
	for _, mode := range []string{"distinct", "distinct-clean", "popular"} {
		for _, g := range []int{1, 2, 8} {
			b.Run(fmt.Sprintf("%s-goroutines-%d", mode, g), func(b *testing.B) {
				queries := env.typos
				switch mode {
				case "distinct-clean":
					queries = env.queries
				case "popular":
					queries = queries[:50]
				}
				var n atomic.Int64
				other, cpu0 := cpuOtherStart(), selfTicks()
				b.ResetTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for w := range g {
					wg.Go(func() {
						for i := w; ; i += g {
							if time.Since(start) > time.Duration(b.N)*time.Second {
								return
							}
							q := queries[i%len(queries)]
							if _, err := env.eng.Search(context.Background(), search.Request{Query: q, Viewer: helpportal.Anonymous,
								Limit: 10, Snippets: true, NoCache: mode != "popular"}); err != nil {
								b.Error(err)
								return
							}
							n.Add(1)
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "searches/s")
				// CPU per search (collector included) varies less between runs than the rate.
				b.ReportMetric(float64(selfTicks()-cpu0)*10/float64(max(n.Load(), 1)), "cpu-ms/search")
				b.ReportMetric(other(), "other-cpu-%")
			})
		}
	}
}

// BenchmarkBuild builds a fresh index from the store (what reindex does) and reports the
// rate and the size on disk.
func BenchmarkBuild(b *testing.B) {
	env := benchSetup(b)
	for range b.N {
		dir := b.TempDir()
		other := cpuOtherStart()
		start := time.Now()
		if err := search.Rebuild(context.Background(), env.db, dir, "en", quiet); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		n := env.eng.Stats().Documents
		b.ReportMetric(float64(n)/took.Seconds(), "articles/s")
		b.ReportMetric(float64(dirSize(dir))/(1<<20), "MiB")
		b.ReportMetric(other(), "other-cpu-%")
	}
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// rss reports the process's resident memory, split into anonymous (heap and the like) and
// file-backed (the memory-mapped index), from /proc (Linux only).
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "RSS unknown"
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, k := range []string{"VmRSS:", "RssAnon:", "RssFile:"} {
			if strings.HasPrefix(l, k) {
				out = append(out, strings.Join(strings.Fields(l), " "))
			}
		}
	}
	return strings.Join(out, ", ")
}
