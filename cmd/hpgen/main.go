// Command hpgen writes a synthetic Markdown folder for load and import tests: N articles of
// about 600 words in nested categories, deterministic for a given seed.
//
//	go run ./cmd/hpgen -n 100000 -out /tmp/corpus
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

var helpTerms = strings.Fields(`password account login email domain dns invoice payment refund hosting
website server certificate https ssl backup restore database mysql php wordpress plugin theme cache
cron ssh sftp ftp mailbox quota spam forward alias mx record cname txt spf dkim dmarc nameserver
transfer renewal registrar whois billing card subscription plan upgrade downgrade cancel support ticket
migration redirect htaccess error timeout upload download permission file folder directory disk
bandwidth traffic visitor session cookie browser cache firewall malware security twofactor token api
key webhook integration export import report analytics staging deploy git node python ruby java`)

var filler = strings.Fields(`the to your you a and of is in for it on that this with can be as
if are or not from your then when after before click open choose select check make sure will
need use set new page settings menu button field section option value change save update step
first next last again only also more most some any each other all one two three about into out`)

func main() {
	n := flag.Int("n", 10000, "number of articles")
	out := flag.String("out", "", "folder to write (must not exist)")
	seed := flag.Uint64("seed", 1, "random seed")
	text := flag.String("text", "small", `text model: "small" (200 words, every help term in most articles: the worst case for search) or "zipf" (30,000 words with Zipf frequencies and per-article topics, like real help text)`)
	flag.Parse()
	if *out == "" || *n <= 0 || (*text != "small" && *text != "zipf") {
		fmt.Fprintln(os.Stderr, "usage: hpgen -n N -out DIR [-text small|zipf] [-seed S]")
		os.Exit(2)
	}
	var zm *zipfModel
	if *text == "zipf" {
		zm = newZipfModel()
	}
	if _, err := os.Stat(*out); err == nil {
		fmt.Fprintf(os.Stderr, "hpgen: %s already exists\n", *out)
		os.Exit(1)
	}
	// 12 top-level categories with 4 sub-categories each.
	var dirs []string
	for i := range 12 {
		top := fmt.Sprintf("topic-%02d", i)
		for j := range 4 {
			dirs = append(dirs, filepath.Join(top, fmt.Sprintf("topic-%02d-%d", i, j)))
		}
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(*out, d), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "hpgen:", err)
			os.Exit(1)
		}
	}
	types := []string{"troubleshooting", "how-to", "walkthrough", "faq", "reference"}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < *n; i += 4 {
				r := rand.New(rand.NewPCG(*seed, uint64(i)))
				bodyWord, titleWord := func() string { return word(r) }, func() string { return word(r) }
				var topics []string
				if zm != nil {
					var words func(float64) string
					words, topics = zm.article(r)
					bodyWord, titleWord = func() string { return words(0.03) }, func() string { return words(0.35) }
				}
				body := article(r, bodyWord, titleWord)
				title := sentence(r, 4+r.IntN(5), true, titleWord)
				tags := []string{helpTerms[r.IntN(len(helpTerms))], helpTerms[r.IntN(len(helpTerms))]}
				if zm != nil {
					tags = topics[:2]
				}
				doc := fmt.Sprintf("---\ntitle: %q\ntype: %s\ntags: [%s]\nsummary: %q\n---\n%s",
					title, types[r.IntN(len(types))], strings.Join(tags, ", "), sentence(r, 14, true, titleWord), body)
				name := filepath.Join(*out, dirs[r.IntN(len(dirs))], fmt.Sprintf("article-%06d.md", i))
				if err := os.WriteFile(name, []byte(doc), 0o644); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		fmt.Fprintln(os.Stderr, "hpgen:", err)
		os.Exit(1)
	}
}

func word(r *rand.Rand) string {
	if r.IntN(4) == 0 {
		return helpTerms[r.IntN(len(helpTerms))]
	}
	return filler[r.IntN(len(filler))]
}

func sentence(r *rand.Rand, words int, title bool, word func() string) string {
	w := make([]string, words)
	for i := range w {
		w[i] = word()
	}
	s := strings.Join(w, " ")
	s = strings.ToUpper(s[:1]) + s[1:]
	if title {
		return s
	}
	return s + "."
}

// article is about 600 words: an intro, three sections with steps, a note and a table.
func article(r *rand.Rand, word, headingWord func() string) string {
	var b strings.Builder
	para := func(sentences int) {
		for i := range sentences {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(sentence(r, 8+r.IntN(10), false, word))
		}
		b.WriteString("\n\n")
	}
	para(4)
	for s := range 3 {
		fmt.Fprintf(&b, "## %s\n\n", sentence(r, 3+r.IntN(3), true, headingWord))
		para(3)
		for i := range 4 {
			fmt.Fprintf(&b, "%d. %s\n", i+1, sentence(r, 8+r.IntN(8), false, word))
		}
		b.WriteString("\n")
		if s == 1 {
			b.WriteString("> [!NOTE]\n> ")
			b.WriteString(sentence(r, 14, false, word))
			b.WriteString("\n\n| Setting | Value |\n|---|---|\n")
			for range 3 {
				fmt.Fprintf(&b, "| %s | %s |\n", word(), word())
			}
			b.WriteString("\n")
		}
		para(4)
	}
	return b.String()
}
