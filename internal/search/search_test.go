package search_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"helpportal"
	"helpportal/internal/search"
)

func has(list []string, s string) bool { return slices.Contains(list, s) }

func TestFindsWords(t *testing.T) {
	f := newFixture(t)
	res := f.search(anon, "reset password")
	if len(res.Hits) == 0 || res.Hits[0].Slug != "reset-password" {
		t.Fatalf("reset password: %v", slugs(res))
	}
	if res.Hits[0].CategoryName != "Account & security" || res.Hits[0].Type != helpportal.TypeHowTo || res.Hits[0].UpdatedAt.IsZero() {
		t.Errorf("hit = %+v", res.Hits[0])
	}
	// Stemming: "passwords" finds "password".
	if res := f.search(anon, "passwords"); !has(slugs(res), "reset-password") {
		t.Errorf("passwords: %v", slugs(res))
	}
	// A title match ranks above a body-only match.
	res = f.search(anon, "invoice")
	if len(res.Hits) == 0 || res.Hits[0].Slug != "invoice-explained" {
		t.Errorf("invoice: %v", slugs(res))
	}
}

// The typo rules are Meilisearch's: none under 5 characters, one from 5, two from 9, the
// first letter never, and an exact match always above a typo match.
func TestTypoThresholds(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		q    string
		want string // "" for no match
	}{
		{"smtp", "smtp-ports"},
		{"smpt", ""},                      // 4 letters: no typo allowed
		{"nginx", "wordpress-backup"},     // exact
		{"ngnix", "wordpress-backup"},     // 5 letters, one transposition
		{"ngnxi", ""},                     // 5 letters, two edits
		{"databse", "wordpress-backup"},   // 7 letters, one deletion
		{"dtabase", "wordpress-backup"},   // 7 letters, one deletion
		{"dtabse", ""},                    // 6 letters, two edits
		{"dbtabaes", ""},                  // 8 letters, two edits
		{"wrodpress", "wordpress-backup"}, // 9 letters, one edit
		{"wrodperss", "wordpress-backup"}, // 9 letters, two edits
		{"wrodpersz", ""},                 // 9 letters, three edits
		{"qordpress", ""},                 // the first letter is never a typo
		{"mailbxo", "email-setup"},        // 7 letters, transposition
		{"wordpres backup", "wordpress-backup"},
	} {
		res := f.search(anon, c.q)
		got := slugs(res)
		if c.want == "" && len(got) != 0 {
			t.Errorf("%q found %v, want nothing", c.q, got)
		}
		if c.want != "" && (len(got) == 0 || got[0] != c.want) {
			t.Errorf("%q found %v, want %s first", c.q, got, c.want)
		}
	}
}

func TestExactAboveTypo(t *testing.T) {
	f := newFixture(t)
	// "billling" is in one article only, so its neighbour "billing" is searched too; the
	// article with the word exactly as typed must still come first.
	f.save(&helpportal.Article{Slug: "typo-article", Title: "Automatic billling", Body: "Misspelt on purpose."}, "account")
	f.sync()
	res := f.search(anon, "billling")
	if got := slugs(res); len(got) < 2 || got[0] != "typo-article" || !has(got, "invoice-explained") {
		t.Errorf("billling: %v", got)
	}
	// A common word is not corrected, so the misspelt article does not come with it.
	res = f.search(anon, "billing")
	if got := slugs(res); len(got) == 0 || has(got, "typo-article") {
		t.Errorf("billing: %v", got)
	}
}

func TestPrefixOnLastWord(t *testing.T) {
	f := newFixture(t)
	for q, want := range map[string]string{
		"passw":           "reset-password",
		"reset pass":      "reset-password",
		"wordpr":          "wordpress-backup",
		"understanding y": "invoice-explained",
	} {
		if got := slugs(f.search(anon, q)); len(got) == 0 || got[0] != want {
			t.Errorf("%q: %v, want %s first", q, got, want)
		}
	}
	// Only the last word is a prefix, and not after a space.
	if got := slugs(f.search(anon, "passw reset")); len(got) != 0 && got[0] == "reset-password" && !f.search(anon, "passw reset").Relaxed {
		t.Errorf("passw reset matched strictly: %v", got)
	}
}

func TestPhrasesAndExclusion(t *testing.T) {
	f := newFixture(t)
	if got := slugs(f.search(anon, `"change the dns"`)); len(got) != 1 || got[0] != "dns-record-types" {
		t.Errorf(`"change the dns": %v`, got)
	}
	both := slugs(f.search(anon, "dns record"))
	if !has(both, "dns-record-types") || !has(both, "dns-propagation") {
		t.Errorf("dns record: %v", both)
	}
	if got := slugs(f.search(anon, "dns -mx")); has(got, "dns-record-types") || !has(got, "dns-propagation") {
		t.Errorf("dns -mx: %v", got)
	}
	if got := slugs(f.search(anon, `dns -"dns change"`)); has(got, "dns-propagation") || !has(got, "dns-record-types") {
		t.Errorf(`dns -"dns change": %v`, got)
	}
	// A hyphen inside a word is not an exclusion.
	if got := slugs(f.search(anon, "two-factor")); len(got) == 0 || got[0] != "two-factor" {
		t.Errorf("two-factor: %v", got)
	}
}

func TestSynonyms(t *testing.T) {
	f := newFixture(t)
	for q, want := range map[string]string{
		"signin":     "login-trouble", // → log in
		"login":      "login-trouble",
		"email":      "email-setup", // → e-mail
		"2fa":        "two-factor",
		"mfa":        "two-factor",
		"passphrase": "reset-password",
	} {
		if got := slugs(f.search(anon, q)); !has(got, want) {
			t.Errorf("%q: %v, want %s", q, got, want)
		}
	}
}

func TestPins(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.db.SetSearchPins(ctx, "billing", []string{"smtp-ports", "staff-zebra"}); err != nil {
		t.Fatal(err)
	}
	f.sync()
	res := f.search(anon, "Billing")
	if got := slugs(res); len(got) < 2 || got[0] != "smtp-ports" || !res.Hits[0].Pinned || has(got, "staff-zebra") {
		t.Errorf("billing (anonymous): %v", got)
	}
	res = f.search(staff, "billing")
	if got := slugs(res); len(got) < 2 || got[0] != "smtp-ports" || got[1] != "staff-zebra" {
		t.Errorf("billing (staff): %v", got)
	}
	if err := f.db.SetSearchPins(ctx, "billing", nil); err != nil {
		t.Fatal(err)
	}
	f.sync()
	if got := slugs(f.search(anon, "billing")); has(got, "smtp-ports") {
		t.Errorf("unpinned: %v", got)
	}
}

func TestFilters(t *testing.T) {
	f := newFixture(t)
	res := f.searchReq(search.Request{Query: "dns", Viewer: anon, CategoryID: f.cats["hosting"].ID, Facets: true})
	if got := slugs(res); len(got) != 2 {
		t.Errorf("category hosting (with sub-category dns): %v", got)
	}
	res = f.searchReq(search.Request{Query: "dns", Viewer: anon, Type: helpportal.TypeReference})
	if got := slugs(res); len(got) != 1 || got[0] != "dns-record-types" {
		t.Errorf("type reference: %v", got)
	}
	res = f.searchReq(search.Request{Query: "password", Viewer: anon, Tag: "security"})
	if got := slugs(res); len(got) != 1 || got[0] != "reset-password" {
		t.Errorf("tag security: %v", got)
	}
	res = f.searchReq(search.Request{Query: "mail", Viewer: anon, CategoryID: f.cats["billing"].ID})
	if len(res.Hits) != 0 {
		t.Errorf("mail in billing: %v", slugs(res))
	}
}

func TestVisibility(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		v    helpportal.Viewer
		want []string
	}{
		{anon, nil},
		{client, []string{"clients-zebra"}},
		{staff, []string{"clients-zebra", "draft-zebra", "staff-zebra"}},
	} {
		res := f.search(c.v, "zebra")
		got := slugs(res)
		slices.Sort(got)
		if !slices.Equal(got, c.want) || res.Total != len(c.want) {
			t.Errorf("%s: zebra = %v (total %d), want %v", c.v.Role, got, res.Total, c.want)
		}
		n := 0
		for _, count := range res.Types {
			n += count
		}
		if n != len(c.want) || res.Categories[f.cats["billing"].ID] > len(c.want) {
			t.Errorf("%s: facets %v %v leak", c.v.Role, res.Types, res.Categories)
		}
		sugg, err := f.eng.Suggest(context.Background(), c.v, "zeb", 10)
		if err != nil || len(sugg) != len(c.want) {
			t.Errorf("%s: suggest zeb = %v, %v", c.v.Role, sugg, err)
		}
	}
	// No "did you mean" may reveal a word only hidden articles hold.
	if res := f.search(anon, "zebre"); res.DidYouMean != "" || len(res.Hits) != 0 {
		t.Errorf("zebre (anonymous): %+v", res)
	}
}

func TestFacetsCountSubcategories(t *testing.T) {
	f := newFixture(t)
	res := f.search(anon, "dns")
	if res.Categories[f.cats["dns"].ID] != 2 || res.Categories[f.cats["hosting"].ID] != 2 || res.Types[helpportal.TypeReference] != 1 {
		t.Errorf("facets: %v %v", res.Categories, res.Types)
	}
}

func TestSnippets(t *testing.T) {
	f := newFixture(t)
	res := f.search(anon, "invoice tax")
	if len(res.Hits) == 0 {
		t.Fatal("no hits")
	}
	s := string(res.Hits[0].Snippet)
	if !strings.Contains(s, "<mark>invoice</mark>") || !strings.Contains(s, "<mark>tax</mark>") {
		t.Errorf("snippet lacks marks: %s", s)
	}
	rest := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(s)
	if strings.ContainsAny(rest, "<>") || !strings.Contains(rest, "&lt;") && !strings.Contains(rest, "&amp;") {
		t.Errorf("snippet not escaped: %s", s)
	}
	res = f.search(anon, "script alert")
	for _, h := range res.Hits {
		if strings.Contains(string(h.Snippet), "<script") {
			t.Errorf("snippet has a script: %s", h.Snippet)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	f := newFixture(t)
	// Beyond what typo tolerance forgives: a wrong first letter, two typos in eight letters.
	res := f.search(anon, "oassword")
	if res.Total != 0 || res.DidYouMean != "password" {
		t.Errorf("oassword: total %d, did you mean %q", res.Total, res.DidYouMean)
	}
	res = f.search(anon, "Qordpress")
	if res.Total != 0 || res.DidYouMean != "wordpress" {
		t.Errorf("Qordpress: did you mean %q (hits %v)", res.DidYouMean, slugs(res))
	}
	if res := f.search(anon, "xyzzyplugh"); res.DidYouMean != "" {
		t.Errorf("nonsense: did you mean %q", res.DidYouMean)
	}
}

func TestHostileInput(t *testing.T) {
	f := newFixture(t)
	for _, q := range []string{"", " ", `"`, `""`, `"dns`, `-`, `--`, `- -dns`, `-"`, `* ( ) : \ ~ ^ + -`, `dns:record`, `title:dns`,
		`+password -`, `(reset OR password)`, `password~2`, `pass*`, `^boost`, `\"`, "emoji 🔑🔐 password", "مرحبا كلمة المرور",
		"שלום", "\u202eevil", "a\x00b", "\xff\xfe", strings.Repeat("password ", 100), strings.Repeat("é", 500), "the of and",
		"-password", `-"reset password"`} {
		res, err := f.eng.Search(context.Background(), search.Request{Query: q, Viewer: anon, Facets: true, Snippets: true})
		if err != nil {
			t.Errorf("%q: %v", q, err)
			continue
		}
		if utf8.RuneCountInString(res.Query) > search.MaxQueryRunes {
			t.Errorf("query not cut: %d runes", utf8.RuneCountInString(res.Query))
		}
		if _, err := f.eng.Suggest(context.Background(), anon, q, 8); err != nil {
			t.Errorf("suggest %q: %v", q, err)
		}
	}
	if got := slugs(f.search(anon, "emoji 🔑 password")); !has(got, "reset-password") {
		t.Errorf("emoji query: %v", got)
	}
}

func TestRelaxesWhenTooFew(t *testing.T) {
	f := newFixture(t)
	res := f.search(anon, "password zanzibar")
	if !res.Relaxed || len(res.Hits) == 0 || res.Hits[0].Slug != "reset-password" {
		t.Errorf("password zanzibar: relaxed %v hits %v", res.Relaxed, slugs(res))
	}
}

// Relaxing drops words from the end first (Meilisearch's "words" rule): an article holding
// the first words comes before one holding only the last, however rare that word is.
func TestRelaxesByDroppingLastWords(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ q, first, then string }{
		{"password reset invoice", "login-trouble", "invoice-explained"},
		{"record mailbox", "dns-propagation", "email-setup"},
	} {
		res := f.search(anon, c.q)
		got := slugs(res)
		first, then := slices.Index(got, c.first), slices.Index(got, c.then)
		if !res.Relaxed || first < 0 || then < 0 || first > then {
			t.Errorf("%q: relaxed %v, want %s before %s: %v", c.q, res.Relaxed, c.first, c.then, got)
		}
	}
}

func TestSuggest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for q, want := range map[string]string{"res": "reset-password", "reset yo": "reset-password", "dns rec": "dns-record-types",
		"wordpres": "wordpress-backup", "mailbxo": "email-setup"} {
		got, err := f.eng.Suggest(ctx, anon, q, 5)
		if err != nil || len(got) == 0 || got[0].Slug != want || got[0].URL != "/articles/"+want {
			t.Errorf("suggest %q = %v, %v", q, got, err)
		}
	}
	if got, _ := f.eng.Suggest(ctx, anon, "dns ", 5); len(got) != 2 {
		t.Errorf("suggest 'dns ' = %v", got)
	}
}

func TestPagination(t *testing.T) {
	f := newFixture(t)
	all := f.searchReq(search.Request{Query: "the", Viewer: staff, Limit: 100})
	if all.Total != 0 {
		t.Errorf("stop words only: %d", all.Total)
	}
	all = f.searchReq(search.Request{Query: "a", Viewer: staff, Limit: 100})
	_ = all
	full := f.searchReq(search.Request{Query: "dns mail password", Viewer: anon, Limit: 100})
	var paged []string
	for off := 0; off < full.Total; off += 2 {
		res := f.searchReq(search.Request{Query: "dns mail password", Viewer: anon, Offset: off, Limit: 2})
		if res.Total != full.Total {
			t.Errorf("total changes by page: %d vs %d", res.Total, full.Total)
		}
		paged = append(paged, slugs(res)...)
	}
	if !slices.Equal(paged, slugs(full)) {
		t.Errorf("pages %v != all %v", paged, slugs(full))
	}
}

func TestAnalyzerFor(t *testing.T) {
	for lang, want := range map[string]string{"": "en", "en": "en", "en-GB": "en", "de-CH": "de", "fr": "fr", "pt_BR": "pt",
		"nb": "no", "ja": "cjk", "xx": "standard", "tlh": "standard"} {
		if got := search.AnalyzerFor(lang); got != want {
			t.Errorf("AnalyzerFor(%q) = %q, want %q", lang, got, want)
		}
	}
}

func TestNormalizeQuery(t *testing.T) {
	for in, want := range map[string]string{"  Reset   PASSWORD ": "reset password", "invoice 12345678": "invoice [number]",
		"mail jane@example.com bounce": "mail [email] bounce"} {
		if got := search.NormalizeQuery(in); got != want {
			t.Errorf("NormalizeQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResultCache(t *testing.T) {
	f := newFixture(t)
	first := f.search(anon, "dns")
	again := f.search(anon, "dns")
	if !slices.Equal(slugs(first), slugs(again)) {
		t.Fatalf("cached result differs: %v vs %v", slugs(first), slugs(again))
	}
	again.Hits[0].Title = "changed by a caller"
	if f.search(anon, "dns").Hits[0].Title == "changed by a caller" {
		t.Error("the cache hands out its own copy")
	}
	// Another viewer class never sees a cached result of another.
	if got := slugs(f.search(staff, "zebra")); len(got) != 3 {
		t.Errorf("staff zebra: %v", got)
	}
	if got := slugs(f.search(anon, "zebra")); len(got) != 0 {
		t.Errorf("anonymous zebra after staff: %v", got)
	}
	// A change applied to the index empties the cache.
	f.save(&helpportal.Article{Slug: "dns-glue", Title: "DNS glue records", Body: "Glue."}, "dns")
	f.sync()
	if got := slugs(f.search(anon, "dns")); !has(got, "dns-glue") {
		t.Errorf("after a change: %v", got)
	}
}
