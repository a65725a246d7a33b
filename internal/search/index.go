package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"helpportal"
	"helpportal/internal/store"
)

// Field names in the index. Every query word must match the all-text field ("text":
// title, summary, headings, tags, category names, type and body together): one posting list
// per word keeps the cost of a search down. Title and meta (summary, headings, tags,
// category names, type) are indexed on their own too, to add weight to matches there. The
// rest are keyword filters and facets.
const (
	fTitle = "title"
	fMeta  = "meta"
	fText  = "text"
	fACL   = "acl"
	fCat   = "cat"
	fType  = "type"
	fTag   = "tag"
	fShard = "shard" // the article ID modulo sampleShards, for estimating large counts
)

// Weights of a match in the title or meta fields, on top of its all-text score.
const (
	titleBoost = 2.0
	metaBoost  = 0.7
)

// Keys stored inside the index with SetInternal, in the same batch as the documents, so that
// the applied change number can never run ahead of (or fall behind) what the index holds.
var (
	keySeq      = []byte("hp:seq")
	keyAnalyzer = []byte("hp:analyzer")
	keySchema   = []byte("hp:schema")
)

// schemaVersion changes whenever the mapping or the document layout changes; an index of
// another version is rebuilt.
const schemaVersion = "5"

// ACL classes: which viewers may find a document. Drafts are for staff whatever their
// visibility, so a draft is its own class.
const (
	aclPublic  = "public"
	aclClients = "clients"
	aclStaff   = "staff"
	aclDraft   = "draft"
)

func aclOf(status helpportal.Status, vis helpportal.Visibility) string {
	if status != helpportal.StatusPublished {
		return aclDraft
	}
	switch vis {
	case helpportal.VisibilityPublic:
		return aclPublic
	case helpportal.VisibilityClients:
		return aclClients
	}
	return aclStaff
}

// aclsFor lists the classes v may find; nil means all (staff), so no filter is needed.
func aclsFor(v helpportal.Viewer) []string {
	if v.SeesDrafts() {
		return nil
	}
	var out []string
	for _, vis := range v.Visibilities() {
		out = append(out, aclOf(helpportal.StatusPublished, vis))
	}
	return out
}

func newMapping(analyzer string) *mapping.IndexMappingImpl {
	text := func(vectors bool) *mapping.FieldMapping {
		f := mapping.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeInAll = false
		f.DocValues = false
		// Positions are what quoted phrases and the title proximity bonus need.
		f.IncludeTermVectors = vectors
		return f
	}
	keyword := func(docValues bool) *mapping.FieldMapping {
		f := mapping.NewKeywordFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = docValues // facets read doc values
		return f
	}
	doc := mapping.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fTitle, text(true))
	doc.AddFieldMappingsAt(fMeta, text(false))
	doc.AddFieldMappingsAt(fText, text(true))
	doc.AddFieldMappingsAt(fACL, keyword(false))
	doc.AddFieldMappingsAt(fCat, keyword(true))
	doc.AddFieldMappingsAt(fType, keyword(true))
	doc.AddFieldMappingsAt(fTag, keyword(false))
	doc.AddFieldMappingsAt(fShard, keyword(false))

	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = analyzer
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	m.ScoringModel = index.BM25Scoring
	return m
}

// bleveDoc is what one article becomes in the index.
func bleveDoc(d *store.SearchDoc) map[string]any {
	var meta strings.Builder
	meta.WriteString(d.Summary)
	for _, h := range d.Headings {
		meta.WriteString("\n")
		meta.WriteString(h)
	}
	for _, t := range d.Tags {
		meta.WriteString("\n")
		meta.WriteString(t)
	}
	cats := make([]string, 0, len(d.CategoryPath))
	for _, c := range d.CategoryPath {
		meta.WriteString("\n")
		meta.WriteString(c.Name)
		cats = append(cats, strconv.FormatInt(c.ID, 10))
	}
	if len(cats) == 0 {
		cats = append(cats, strconv.FormatInt(d.CategoryID, 10))
	}
	meta.WriteString("\n")
	meta.WriteString(d.Type.Label())
	m := meta.String()
	return map[string]any{
		fTitle: d.Title,
		fMeta:  m,
		fText:  d.Title + "\n" + m + "\n" + htmlText(d.HTML),
		fACL:   aclOf(d.Status, d.Visibility),
		fCat:   cats,
		fType:  string(d.Type),
		fTag:   d.Tags,
		fShard: strconv.FormatInt(d.ID%sampleShards, 10),
	}
}

func docID(id int64) string { return strconv.FormatInt(id, 10) }

// generation is one built index under the index folder. A rebuild writes a new generation
// beside the live one and then points the "current" file at it.
type generation struct {
	name string
	idx  bleve.Index
}

const currentFile = "current"

// currentGeneration reads which generation folder is live ("" when none is). The file's
// first line names it; the second, the analyzer it was built with.
func currentGeneration(root string) string {
	name, _ := readCurrent(root)
	return name
}

func readCurrent(root string) (name, analyzer string) {
	b, err := os.ReadFile(filepath.Join(root, currentFile))
	if err != nil {
		return "", ""
	}
	lines := strings.Split(string(b), "\n")
	name = strings.TrimSpace(lines[0])
	if len(lines) > 1 {
		analyzer = strings.TrimSpace(lines[1])
	}
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", ""
	}
	return name, analyzer
}

// LiveAnalyzer returns the analyzer of the live index under root, if there is one: a
// rebuild uses it unless told another language, so it matches what the server expects.
func LiveAnalyzer(root string) string {
	_, a := readCurrent(root)
	return a
}

// setCurrentGeneration points the live index at name atomically (write, sync, rename).
func setCurrentGeneration(root, name, analyzer string) error {
	tmp := filepath.Join(root, currentFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(name + "\n" + analyzer + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(root, currentFile))
}

func newGenerationName() string {
	return "g-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// createGeneration makes a new, empty index folder under root.
func createGeneration(root, analyzer string) (*generation, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("search: create index folder: %w", err)
	}
	name := newGenerationName()
	idx, err := bleve.NewUsing(filepath.Join(root, name), newMapping(analyzer), bleve.Config.DefaultIndexType,
		bleve.Config.DefaultKVStore, map[string]any{"eventCallbackName": eventCallbacks})
	if err != nil {
		return nil, fmt.Errorf("search: create index: %w", err)
	}
	b := idx.NewBatch()
	b.SetInternal(keyAnalyzer, []byte(analyzer))
	b.SetInternal(keySchema, []byte(schemaVersion))
	b.SetInternal(keySeq, []byte("0"))
	if err := idx.Batch(b); err != nil {
		_ = idx.Close()
		return nil, err
	}
	return &generation{name: name, idx: idx}, nil
}

// errStale means the generation was built with another analyzer or layout.
var errStale = errors.New("search: index built with other settings")

// openGeneration opens the named generation and checks that it matches the settings.
func openGeneration(root, name, analyzer string) (*generation, error) {
	idx, err := bleve.OpenUsing(filepath.Join(root, name), map[string]any{"bolt_timeout": "2s", "eventCallbackName": eventCallbacks})
	if err != nil {
		return nil, fmt.Errorf("search: open index %s: %w", name, err)
	}
	an, err1 := idx.GetInternal(keyAnalyzer)
	schema, err2 := idx.GetInternal(keySchema)
	if err1 != nil || err2 != nil || string(an) != analyzer || string(schema) != schemaVersion {
		_ = idx.Close()
		return nil, errStale
	}
	return &generation{name: name, idx: idx}, nil
}

// seq is the last change number the generation holds.
func (g *generation) seq() int64 {
	b, err := g.idx.GetInternal(keySeq)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(string(b), 10, 64)
	return n
}

// apply indexes docs, deletes the IDs in gone and records seq, all in one batch.
func (g *generation) apply(docs []*store.SearchDoc, gone []int64, seq int64) error {
	b, err := g.batch(docs, gone, seq)
	if err != nil {
		return err
	}
	return g.idx.Batch(b)
}

// batch prepares what apply applies.
func (g *generation) batch(docs []*store.SearchDoc, gone []int64, seq int64) (*bleve.Batch, error) {
	b := g.idx.NewBatch()
	for _, d := range docs {
		if err := b.Index(docID(d.ID), bleveDoc(d)); err != nil {
			return nil, fmt.Errorf("search: index article %d: %w", d.ID, err)
		}
	}
	for _, id := range gone {
		b.Delete(docID(id))
	}
	if seq > 0 {
		b.SetInternal(keySeq, []byte(strconv.FormatInt(seq, 10)))
	}
	return b, nil
}

// removeStaleGenerations deletes generation folders other than keep. A folder still held
// open by another process is left alone: its lock makes the open fail.
func removeStaleGenerations(root, keep string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "g-") || e.Name() == keep {
			continue
		}
		if born, err := strconv.ParseInt(strings.TrimPrefix(e.Name(), "g-"), 36, 64); err == nil &&
			time.Since(time.Unix(0, born)) < 10*time.Minute {
			continue // maybe a rebuild that has only just created its folder
		}
		p := filepath.Join(root, e.Name())
		if idx, err := bleve.OpenUsing(p, map[string]any{"bolt_timeout": "100ms"}); err == nil {
			_ = idx.Close()
		} else if !errors.Is(err, bleve.ErrorIndexMetaMissing) && !errors.Is(err, bleve.ErrorIndexMetaCorrupt) {
			continue // probably in use (a rebuild in progress); try again another time
		}
		_ = os.RemoveAll(p) // best effort: tried again at the next start
	}
}

// diskSize is the bytes under dir, for reports.
func diskSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// forceMerge merges the generation's segments into one (after bulk loads: fewer segments,
// fewer dictionaries per query term). Scorch's own single-segment plan merges ten segments
// per task: a build's 200 segments became 20, which the background merger then made two,
// writing most postings three times, and with two segments every query term reads two
// dictionaries and two posting lists (a search took a tenth longer). One task over all of
// them writes each posting once: 10 s for 100,000 articles, where running Scorch's plan
// until one segment was left took about 15. Segments not yet on disk are left out of a
// plan, so it runs until one is left, or a few rounds did not get there.
func forceMerge(ctx context.Context, g *generation) error {
	adv, err := g.idx.Advanced()
	if err != nil {
		return err
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	for range 4 {
		if segments(sc) <= 1 {
			return nil
		}
		if err := sc.ForceMerge(ctx, &mergeAll); err != nil {
			return err
		}
	}
	return nil
}

// mergeAll is Scorch's single-segment merge plan with one task for all the segments.
var mergeAll = func() mergeplan.MergePlanOptions {
	mo := mergeplan.SingleSegmentMergePlanOptions
	mo.SegmentsPerMergeTask = math.MaxInt32
	return mo
}()

// segments is how many segments the index's current snapshot holds.
func segments(sc *scorch.Scorch) uint64 {
	st := sc.StatsMap()
	n, _ := st["num_root_filesegments"].(uint64)
	m, _ := st["num_root_memorysegments"].(uint64)
	return n + m
}

// eventCallbacks names the Scorch event hook that lets a bulk load hold back background
// merges: merging segments that a force-merge will merge again anyway is wasted work.
const eventCallbacks = "helpportal"

// mergesPaused holds the Scorch instances whose background merges wait (during a build).
var mergesPaused sync.Map

func init() {
	scorch.RegistryEventCallbacks[eventCallbacks] = func(ev scorch.Event) bool {
		if ev.Kind != scorch.EventKindPreMergeCheck {
			return true
		}
		if _, paused := mergesPaused.Load(ev.Scorch); paused {
			// The merger asks again at once when told no: wait a little before answering.
			time.Sleep(50 * time.Millisecond)
			return false
		}
		return true
	}
}

// pauseMerges holds back g's background merges until the returned function is called.
func pauseMerges(g *generation) func() {
	adv, err := g.idx.Advanced()
	if err != nil {
		return func() {}
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return func() {}
	}
	mergesPaused.Store(sc, struct{}{})
	return func() { mergesPaused.Delete(sc) }
}
