// Command hpeval measures search relevance on a BEIR-style collection: it saves the corpus
// into a fresh store through the store's real save path, lets the real search engine build
// its index by following the change log, runs every query through the real search function
// and prints nDCG@10, MRR@10 and Recall@10. It then repeats 200 of the queries with one
// realistic typo each (deterministic) and reports how much of the clean quality survives.
//
//	go run ./cmd/hpeval -data ../shared/eval-data/cranfield/beir
//
// The collection is read where it lies and never copied into the repository.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"helpportal"
	"helpportal/internal/search"
	"helpportal/internal/store"
)

func main() {
	data := flag.String("data", "", "folder with corpus.jsonl, queries.jsonl and qrels/test.tsv")
	typos := flag.Int("typos", 200, "queries in the typo set (0 to skip it)")
	seed := flag.Uint64("seed", 1, "seed for choosing the typo queries and their typos")
	lang := flag.String("language", "en", "the collection's language (picks the analyzer)")
	verbose := flag.Bool("v", false, "print each query's nDCG@10")
	flag.Parse()
	if *data == "" {
		fmt.Fprintln(os.Stderr, "usage: hpeval -data DIR [-typos 200] [-seed 1] [-language en] [-v]")
		os.Exit(2)
	}
	if err := run(*data, *typos, *seed, *lang, *verbose, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hpeval:", err)
		os.Exit(1)
	}
}

type doc struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

type query struct {
	ID   string `json:"_id"`
	Text string `json:"text"`
}

func run(dir string, nTypos int, seed uint64, lang string, verbose bool, out io.Writer) error {
	ctx := context.Background()
	var docs []doc
	if err := readJSONL(filepath.Join(dir, "corpus.jsonl"), func(b []byte) error {
		var d doc
		err := json.Unmarshal(b, &d)
		docs = append(docs, d)
		return err
	}); err != nil {
		return err
	}
	var queries []query
	if err := readJSONL(filepath.Join(dir, "queries.jsonl"), func(b []byte) error {
		var q query
		err := json.Unmarshal(b, &q)
		queries = append(queries, q)
		return err
	}); err != nil {
		return err
	}
	qrels, err := readQrels(filepath.Join(dir, "qrels", "test.tsv"))
	if err != nil {
		return err
	}
	queries = slices.DeleteFunc(queries, func(q query) bool { return len(qrels[q.ID]) == 0 })

	tmp, err := os.MkdirTemp("", "hpeval")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	db, err := store.Open(ctx, filepath.Join(tmp, "helpportal.db"))
	if err != nil {
		return err
	}
	defer db.Close()

	start := time.Now()
	slugToID, err := load(ctx, db, docs)
	if err != nil {
		return err
	}
	loaded := time.Since(start)

	// The real engine, following the change log exactly as the server does.
	start = time.Now()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := search.Open(ctx, db, search.Options{Dir: filepath.Join(tmp, "index"), Language: lang, Logger: log})
	if err != nil {
		return err
	}
	defer func() { _ = eng.Close() }()
	bg, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { eng.Run(bg); close(done) }()
	defer func() { stop(); <-done }()
	for !eng.Ready() || eng.Applied() < db.ChangeSeq() {
		if time.Since(start) > 10*time.Minute {
			return fmt.Errorf("the index did not catch up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	indexed := time.Since(start)
	fmt.Fprintf(out, "collection  %s: %d documents, %d judged queries\n", dir, len(docs), len(queries))
	fmt.Fprintf(out, "loaded      store %s, index %s (%s analyzer)\n", loaded.Round(time.Millisecond), indexed.Round(time.Millisecond), search.AnalyzerFor(lang))

	score := func(qs []query, text func(query) string) (metrics, error) {
		var m metrics
		for _, q := range qs {
			res, err := eng.Search(ctx, search.Request{Query: text(q), Viewer: helpportal.Anonymous, Limit: 10})
			if err != nil {
				return m, err
			}
			var ranked []string
			for _, h := range res.Hits {
				ranked = append(ranked, slugToID[h.Slug])
			}
			one := evaluate(ranked, qrels[q.ID])
			if verbose {
				fmt.Fprintf(out, "  q%-4s nDCG %.3f  %q\n", q.ID, one.ndcg, text(q))
			}
			m.add(one)
		}
		m.n = len(qs)
		return m, nil
	}
	start = time.Now()
	all, err := score(queries, func(q query) string { return q.Text })
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(out, "all queries %s   (%d queries, %.1f ms each)\n", all, all.n, float64(took.Microseconds())/1000/float64(all.n))
	if nTypos <= 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(seed, 7))
	sample := slices.Clone(queries)
	r.Shuffle(len(sample), func(i, j int) { sample[i], sample[j] = sample[j], sample[i] })
	sample = sample[:min(nTypos, len(sample))]
	typoText := map[string]string{}
	changed := 0
	for _, q := range sample {
		typoText[q.ID] = withTypo(r, q.Text)
		if typoText[q.ID] != q.Text {
			changed++
		}
	}
	clean, err := score(sample, func(q query) string { return q.Text })
	if err != nil {
		return err
	}
	typo, err := score(sample, func(q query) string { return typoText[q.ID] })
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "typo set    %d queries (seed %d), %d with a typo\n", len(sample), seed, changed)
	fmt.Fprintf(out, "  clean     %s\n", clean)
	fmt.Fprintf(out, "  typo'd    %s\n", typo)
	fmt.Fprintf(out, "  kept      nDCG@10 %.1f %%   MRR@10 %.1f %%   Recall@10 %.1f %%\n",
		pct(typo.ndcg, clean.ndcg), pct(typo.mrr, clean.mrr), pct(typo.recall, clean.recall))
	if verbose {
		for _, q := range sample[:min(10, len(sample))] {
			fmt.Fprintf(out, "  example   %q → %q\n", q.Text, typoText[q.ID])
		}
	}
	// The collection's queries are long sentences, where one typo costs little. Help-centre
	// queries are two or three words, so a known-item set checks typo tolerance where it
	// matters: three words of a document's title, that document being the one relevant.
	var known []query
	knownRels := map[string]map[string]int{}
	order := r.Perm(len(docs))
	for _, i := range order {
		if len(known) == nTypos {
			break
		}
		var words []string
		for _, w := range strings.Fields(strings.ToLower(docs[i].Title)) {
			if len(w) >= 4 && isWord(w) && !slices.Contains(words, w) {
				words = append(words, w)
			}
		}
		if len(words) < 3 {
			continue
		}
		start := r.IntN(len(words) - 2)
		id := "k" + docs[i].ID
		known = append(known, query{ID: id, Text: strings.Join(words[start:start+3], " ")})
		knownRels[id] = map[string]int{docs[i].ID: 1}
		typoText[id] = withTypo(r, known[len(known)-1].Text)
	}
	for id, rels := range knownRels {
		qrels[id] = rels
	}
	kClean, err := score(known, func(q query) string { return q.Text })
	if err != nil {
		return err
	}
	kTypo, err := score(known, func(q query) string { return typoText[q.ID] })
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "known-item  %d three-word title queries (seed %d)\n", len(known), seed)
	fmt.Fprintf(out, "  clean     %s\n", kClean)
	fmt.Fprintf(out, "  typo'd    %s\n", kTypo)
	fmt.Fprintf(out, "  kept      nDCG@10 %.1f %%   MRR@10 %.1f %%   Recall@10 %.1f %%\n",
		pct(kTypo.ndcg, kClean.ndcg), pct(kTypo.mrr, kClean.mrr), pct(kTypo.recall, kClean.recall))
	if verbose {
		for _, q := range known[:min(10, len(known))] {
			fmt.Fprintf(out, "  example   %q → %q\n", q.Text, typoText[q.ID])
		}
	}
	return nil
}

func pct(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * a / b
}

// load saves every document as a published, public article in one category, through the
// store's batch save (the path the Markdown import uses), and maps slugs back to IDs.
func load(ctx context.Context, db *store.DB, docs []doc) (map[string]string, error) {
	c := &helpportal.Category{Slug: "collection", Name: "Collection"}
	if err := db.SaveCategory(ctx, c); err != nil {
		return nil, err
	}
	slugToID := map[string]string{}
	var batch []*helpportal.Article
	flush := func() error {
		err := db.SaveArticles(ctx, batch)
		batch = batch[:0]
		return err
	}
	for _, d := range docs {
		slug := helpportal.Slugify("doc-" + d.ID)
		if _, dup := slugToID[slug]; dup || slug == "" {
			slug = "doc-" + strconv.Itoa(len(slugToID)+1) + "-x"
		}
		slugToID[slug] = d.ID
		title := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(d.Title), "."))
		if title == "" {
			title = "Document " + d.ID
		}
		if r := []rune(title); len(r) > helpportal.MaxTitleLen {
			title = string(r[:helpportal.MaxTitleLen])
		}
		batch = append(batch, &helpportal.Article{Slug: slug, Title: title, CategoryID: c.ID, Body: escapeMarkdown(d.Text)})
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return slugToID, nil
}

// escapeMarkdown backslash-escapes ASCII punctuation so the text renders as itself.
func escapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && unicode.IsPunct(r) || r == '`' || r == '^' || r == '|' || r == '<' || r == '>' || r == '+' || r == '=' || r == '~' || r == '$' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

type metrics struct {
	n                 int
	ndcg, mrr, recall float64 // means once n is set
	sums              [3]float64
}

type oneQuery struct{ ndcg, mrr, recall float64 }

func (m *metrics) add(q oneQuery) {
	m.sums[0] += q.ndcg
	m.sums[1] += q.mrr
	m.sums[2] += q.recall
	m.n++
	m.ndcg, m.mrr, m.recall = m.sums[0]/float64(m.n), m.sums[1]/float64(m.n), m.sums[2]/float64(m.n)
}

func (m metrics) String() string {
	return fmt.Sprintf("nDCG@10 %.4f   MRR@10 %.4f   Recall@10 %.4f", m.ndcg, m.mrr, m.recall)
}

// evaluate scores one ranking against graded judgments: nDCG@10 with gains 2^rel − 1 (as
// the collection's BM25 baseline), MRR@10 and Recall@10 over the documents judged relevant.
func evaluate(ranked []string, rels map[string]int) oneQuery {
	var q oneQuery
	dcg := 0.0
	found := 0
	for i, id := range ranked[:min(10, len(ranked))] {
		rel := rels[id]
		if rel <= 0 {
			continue
		}
		dcg += (math.Pow(2, float64(rel)) - 1) / math.Log2(float64(i)+2)
		if q.mrr == 0 {
			q.mrr = 1 / float64(i+1)
		}
		found++
	}
	var gains []int
	relevant := 0
	for _, rel := range rels {
		if rel > 0 {
			gains = append(gains, rel)
			relevant++
		}
	}
	slices.Sort(gains)
	slices.Reverse(gains)
	idcg := 0.0
	for i, rel := range gains[:min(10, len(gains))] {
		idcg += (math.Pow(2, float64(rel)) - 1) / math.Log2(float64(i)+2)
	}
	if idcg > 0 {
		q.ndcg = dcg / idcg
	}
	if relevant > 0 {
		q.recall = float64(found) / float64(relevant)
	}
	return q
}

// withTypo puts one realistic typo into one word of 5+ letters of text, never in the first
// letter: a neighbouring key, a dropped letter, a doubled letter or two letters swapped.
func withTypo(r *rand.Rand, text string) string {
	words := strings.Fields(text)
	var long []int
	for i, w := range words {
		if len([]rune(w)) >= 5 && isWord(w) {
			long = append(long, i)
		}
	}
	if len(long) == 0 {
		return text
	}
	i := long[r.IntN(len(long))]
	words[i] = typo(r, words[i])
	return strings.Join(words, " ")
}

func isWord(w string) bool {
	for _, c := range w {
		if !unicode.IsLetter(c) {
			return false
		}
	}
	return true
}

var neighbours = map[byte]string{
	'q': "wa", 'w': "qes", 'e': "wrd", 'r': "etf", 't': "ryg", 'y': "tuh", 'u': "yij", 'i': "uok", 'o': "ipl", 'p': "ol",
	'a': "qsz", 's': "adwx", 'd': "sfec", 'f': "dgrv", 'g': "fhtb", 'h': "gjyn", 'j': "hkum", 'k': "jli", 'l': "kop",
	'z': "xas", 'x': "zcs", 'c': "xvd", 'v': "cbf", 'b': "vng", 'n': "bmh", 'm': "nj",
}

func typo(r *rand.Rand, w string) string {
	b := []byte(strings.ToLower(w))
	p := 1 + r.IntN(len(b)-1)
	switch r.IntN(4) {
	case 0: // a neighbouring key
		if n := neighbours[b[p]]; n != "" {
			b[p] = n[r.IntN(len(n))]
			return string(b)
		}
		fallthrough
	case 1: // a dropped letter
		return string(append(b[:p:p], b[p+1:]...))
	case 2: // a doubled letter
		return string(b[:p]) + string(b[p]) + string(b[p:])
	}
	if p == len(b)-1 { // two letters swapped
		p--
	}
	if p < 1 || b[p] == b[p+1] {
		return string(append(b[:p:p], b[p+1:]...))
	}
	b[p], b[p+1] = b[p+1], b[p]
	return string(b)
}

func readJSONL(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		if err := fn(sc.Bytes()); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

// readQrels reads query-id, corpus-id, score lines (a header line is skipped).
func readQrels(path string) (map[string]map[string]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int{}
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		score, err := strconv.Atoi(f[2])
		if err != nil {
			if i == 0 {
				continue // the header
			}
			return nil, fmt.Errorf("%s:%d: bad score %q", path, i+1, f[2])
		}
		if out[f[0]] == nil {
			out[f[0]] = map[string]int{}
		}
		out[f[0]][f[1]] = score
	}
	return out, nil
}
