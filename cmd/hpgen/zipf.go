package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// The "zipf" text model follows the corpus of ../shared/notes/search-feasibility.md: a
// 30,000-word vocabulary drawn with Zipf s=1.07 whose top ranks are real function words,
// about 360 help-desk terms spread over ranks 150–3,000, and 3–5 topic terms per article
// that its title, summary, headings, tags and body lean on. It is closer to real help text
// than the "small" model (200 words, each help term in ~70 % of articles), which is the
// worst case for a search engine.

// moreHelpTerms extends helpTerms to the notes' ~360 help-desk words.
var moreHelpTerms = strings.Fields(`username passphrase signin signout logout recovery verification
authenticator sms code otp lockout locked reset unlock profile avatar notification newsletter
unsubscribe preference language timezone currency tax vat receipt statement charge declined paypal
bank transfer credit debit coupon discount trial license seat team member role owner admin invite
collaborator workspace project organization contact address phone company gdpr privacy consent
deletion retention archive trash recycle version history revision rollback snapshot replica cluster
node instance container docker kubernetes image volume mount memory cpu load latency uptime outage
incident maintenance status monitor alert threshold log logs syslog audit event queue worker job
schedule scheduler crontab script shell terminal console dashboard panel cpanel plesk whm control
domainkey subdomain wildcard propagation ttl ipv4 ipv6 address gateway proxy cdn edge origin purge
compression gzip brotli minify optimize performance speed slow latency varnish redis memcached
opcache composer npm yarn laravel symfony django flask rails express nextjs react vue angular
static dynamic sitemap robots seo indexing crawl googlebot analytics tracking pixel tag manager
smtp imap pop3 webmail outlook thunderbird gmail iphone android autodiscover autoconfig bounce
delivery blacklist blocklist reputation greylisting quarantine filter rule catchall autoresponder
vacation signature attachment size limit inbox sent draft folder sync calendar contacts caldav
carddav exchange activesync vpn tunnel wireguard openvpn port portforward nat router modem wifi
network latency ping traceroute dig nslookup whois expiry expired grace redemption auth code epp
lock unlock privacy protection reseller affiliate commission referral partner marketplace addon
extension module widget shortcode editor builder elementor gutenberg woocommerce checkout cart
product order shipping stripe gateway subscription recurring prorate proration upgrade invoice`)

// functionWords take the top Zipf ranks, as in real English text.
var functionWords = strings.Fields(`the to and a of your you in is for it on that this with can be as
if are or not from then when after before will by at an we our have has do does what how which there
all any more into`)

type zipfModel struct {
	vocab  []string  // by rank
	cdf    []float64 // cumulative Zipf weights over vocab
	help   []string  // help terms, most popular first
	topicW []float64 // cumulative weights for choosing an article's topics
}

func newZipfModel() *zipfModel {
	const size = 30000
	m := &zipfModel{vocab: make([]string, size)}
	seen := map[string]bool{}
	for _, w := range append(slices.Clone(helpTerms), moreHelpTerms...) {
		if !seen[w] {
			seen[w] = true
			m.help = append(m.help, w)
		}
	}
	for i, w := range functionWords {
		m.vocab[i] = w
		seen[w] = true
	}
	// Help term i (from 1) sits near rank 150·√i: "password" in ~35 % of the articles,
	// the 10th term in ~15 %, the 100th in ~3 % once topics are added.
	for i, w := range m.help {
		r := int(150 * math.Sqrt(float64(i+1)))
		for m.vocab[r] != "" {
			r++
		}
		m.vocab[r] = w
	}
	g := rand.New(rand.NewPCG(7, 7))
	syll := strings.Fields("ba be bi bo bu ca ce co cu da de di do fa fe fi fo ga ge go gu ha he hi ho ja jo ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo wa we wi za ze zo an en in on un ar er or ur al el il ol st tr pr gr br cl pl fl sh ch th")
	for r := range m.vocab {
		if m.vocab[r] != "" {
			continue
		}
		for {
			var b strings.Builder
			for n := 1 + g.IntN(4); n > 0; n-- {
				b.WriteString(syll[g.IntN(len(syll))])
			}
			if g.IntN(3) == 0 {
				b.WriteString([]string{"n", "r", "s", "t", "l", "m"}[g.IntN(6)])
			}
			w := b.String()
			if len(w) >= 3 && len(w) <= 12 && !seen[w] {
				seen[w] = true
				m.vocab[r] = w
				break
			}
		}
	}
	m.cdf = cumulative(size, 1.07)
	m.topicW = cumulative(len(m.help), 0.6)
	return m
}

func cumulative(n int, s float64) []float64 {
	c := make([]float64, n)
	sum := 0.0
	for i := range c {
		sum += math.Pow(float64(i+1), -s)
		c[i] = sum
	}
	for i := range c {
		c[i] /= sum
	}
	return c
}

func pick(r *rand.Rand, cdf []float64) int {
	i, _ := slices.BinarySearch(cdf, r.Float64())
	return min(i, len(cdf)-1)
}

// zipfArticle picks one article's topics and returns its word source.
func (m *zipfModel) article(r *rand.Rand) (words func(topicShare float64) string, topics []string) {
	for n := 3 + r.IntN(3); len(topics) < n; {
		if t := m.help[pick(r, m.topicW)]; !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	return func(topicShare float64) string {
		if r.Float64() < topicShare {
			return topics[r.IntN(len(topics))]
		}
		return m.vocab[pick(r, m.cdf)]
	}, topics
}
