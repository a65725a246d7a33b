// Package config reads the server's settings from flags and HELPPORTAL_* environment
// variables (a flag on the command line wins), fills defaults and validates them.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"helpportal"
	hpmail "helpportal/internal/mail"
)

// Config is every setting of `helpportal serve` and the commands that open the store.
type Config struct {
	Addr        string
	Data        string
	DatabaseURL string
	BaseURL     string
	SMTPURL     string
	MailFrom    string
	NoDemo      bool
	Metrics     bool
	// MailLease is how long an instance holds a mail it is delivering; a crashed instance's
	// mail waits this long before another takes it over.
	MailLease time.Duration
	// LogFormat is how serve writes its log to stderr: "json" (one object a line) or "text".
	LogFormat string
	// RequestLog writes one line per request (on by default).
	RequestLog bool
	// BaseURLDerived is true when --base-url was not given and comes from --addr.
	BaseURLDerived bool
	Site           helpportal.Site
	headerLinks    string
	// TrustedProxies are parsed from --trusted-proxies.
	TrustedProxies []netip.Prefix
	trustedProxies string
	given          map[string]bool // flags set on the command line or in the environment
}

// StoreFlags registers the flags every store-opening command shares.
func (c *Config) StoreFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Data, "data", "./data", "folder for the SQLite database, search index and outgoing mail")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "postgres://… to use PostgreSQL; empty for SQLite in --data")
}

// MailFlags registers the flags of commands that send mail.
func (c *Config) MailFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.BaseURL, "base-url", "", "the portal's public URL, used in links, feeds and mail (default http://ADDR)")
	fs.StringVar(&c.SMTPURL, "smtp-url", "", "smtp://[user:pass@]host:port or smtps://…; empty writes mail to DATA/mail")
	fs.StringVar(&c.MailFrom, "mail-from", "", "sender address of outgoing mail (default helpportal@HOST of --base-url)")
}

// ServeFlags registers the flags of `serve`.
func (c *Config) ServeFlags(fs *flag.FlagSet) {
	c.StoreFlags(fs)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	c.MailFlags(fs)
	fs.BoolVar(&c.NoDemo, "no-demo", false, "start with an empty portal instead of demo content")
	fs.DurationVar(&c.MailLease, "mail-lease", hpmail.DefaultLease, "how long an instance may hold a mail it is delivering before another instance takes it over (a delivery is cut off at half of it)")
	fs.BoolVar(&c.Metrics, "metrics", false, "serve Prometheus metrics at /metrics (request counts and latency, search lag, outbox depth, Go runtime)")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log lines on stderr as json (one object a line) or text")
	fs.BoolVar(&c.RequestLog, "request-log", true, "log one line per request (set false when a proxy in front already logs requests: the line costs about a tenth of a cached page's throughput)")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed")
	fs.StringVar(&c.Site.Name, "site-name", "Helpportal", "the portal's name")
	fs.StringVar(&c.Site.Tagline, "tagline", "Answers, guides and fixes for your account, services and billing.", "one line under the name")
	fs.StringVar(&c.Site.Language, "language", "en", "the content's language (BCP 47)")
	fs.StringVar(&c.headerLinks, "header-links", "", `header call-to-action links: "Label=URL, Label=URL"`)
	fs.StringVar(&c.Site.Support, "support", "", "one line on how to reach support, shown in the footer")
	fs.StringVar(&c.Site.Footer, "footer", "", "footer text")
}

// FromEnv runs after fs.Parse: it fills every flag not given on the command line from
// HELPPORTAL_<FLAG> (upper case, dashes as underscores) and returns the names of the flags
// given either way.
func FromEnv(fs *flag.FlagSet) (map[string]bool, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		env := "HELPPORTAL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			given[f.Name] = true
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
		}
	})
	return given, errors.Join(errs...)
}

// Load runs after fs.Parse: it fills every flag not given on the command line from
// HELPPORTAL_<FLAG> (upper case, dashes as underscores), then validates.
func (c *Config) Load(fs *flag.FlagSet) error {
	var err error
	if c.given, err = FromEnv(fs); err != nil {
		return err
	}
	if fs.Lookup("addr") != nil {
		return c.Validate()
	}
	if err := c.validateStore(); err != nil {
		return err
	}
	if fs.Lookup("smtp-url") != nil {
		if c.BaseURL == "" {
			c.BaseURL = "http://127.0.0.1:8080"
		}
		return c.validateMail()
	}
	return nil
}

// validateStore checks the settings of commands that only open the store.
func (c *Config) validateStore() error {
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return errors.New("--database-url must be a postgres:// URL (leave it empty for SQLite)")
		}
	}
	if c.Data == "" {
		return errors.New("--data must name a folder")
	}
	return nil
}

// Validate checks the settings of serve and fills derived defaults; each error names the
// flag.
func (c *Config) Validate() error {
	if err := c.validateStore(); err != nil {
		return err
	}
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			return fmt.Errorf("--addr %q is not host:port", c.Addr)
		}
	}
	if c.BaseURL == "" && c.Addr != "" {
		c.BaseURL, c.BaseURLDerived = "http://"+c.Addr, true
	}
	if err := c.validateMail(); err != nil {
		return err
	}
	if c.MailLease < hpmail.MinLease {
		return fmt.Errorf("--mail-lease %s must be at least %s", c.MailLease, hpmail.MinLease)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return fmt.Errorf("--log-format %q must be json or text", c.LogFormat)
	}
	if strings.TrimSpace(c.Site.Name) == "" {
		return errors.New("--site-name must not be empty")
	}
	links, err := ParseLinks(c.headerLinks)
	if err != nil {
		return fmt.Errorf("--header-links: %w", err)
	}
	c.Site.HeaderLinks = links
	if c.TrustedProxies, err = ParsePrefixes(c.trustedProxies); err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	c.Site.BaseURL = c.BaseURL
	return nil
}

// Given reports whether the flag was set on the command line or in the environment.
func (c *Config) Given(flag string) bool { return c.given[flag] }

// SiteSetting is a site setting kept in the store (defaults written by the demo, later
// edited in the admin); a flag given explicitly wins over it.
type SiteSetting struct {
	Flag string // the flag that overrides it, e.g. "site-name"
	Key  string // the store's key, e.g. "site.name"
}

// SiteSettings lists the site settings that can live in the store.
var SiteSettings = []SiteSetting{
	{"site-name", "site.name"}, {"tagline", "site.tagline"}, {"header-links", "site.header_links"},
	{"support", "site.support"}, {"footer", "site.footer"},
}

// ApplyStored sets each site setting whose flag was not given from stored values (by key).
func (c *Config) ApplyStored(stored map[string]string) error {
	for _, s := range SiteSettings {
		v, ok := stored[s.Key]
		if !ok || c.Given(s.Flag) {
			continue
		}
		switch s.Flag {
		case "site-name":
			c.Site.Name = v
		case "tagline":
			c.Site.Tagline = v
		case "header-links":
			links, err := ParseLinks(v)
			if err != nil {
				return fmt.Errorf("stored setting %s: %w", s.Key, err)
			}
			c.Site.HeaderLinks = links
		case "support":
			c.Site.Support = v
		case "footer":
			c.Site.Footer = v
		}
	}
	return nil
}

// ParseLinks reads "Label=URL, Label=URL". URLs must be absolute http(s) or start with /.
func ParseLinks(s string) ([]helpportal.Link, error) {
	var links []helpportal.Link
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		label, target, ok := strings.Cut(part, "=")
		label, target = strings.TrimSpace(label), strings.TrimSpace(target)
		if !ok || label == "" || target == "" {
			return nil, fmt.Errorf("%q is not Label=URL", part)
		}
		u, err := url.Parse(target)
		if err != nil || !(strings.HasPrefix(target, "/") && !strings.HasPrefix(target, "//") ||
			(u.Scheme == "http" || u.Scheme == "https") && u.Host != "") {
			return nil, fmt.Errorf("the link %q must be an absolute http(s) URL or a path starting with /", target)
		}
		links = append(links, helpportal.Link{Label: label, URL: target})
	}
	return links, nil
}

// validateMail checks --base-url, --smtp-url and --mail-from.
func (c *Config) validateMail() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--base-url %q must be an absolute http:// or https:// URL", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.SMTPURL != "" {
		s, err := url.Parse(c.SMTPURL)
		if err != nil || (s.Scheme != "smtp" && s.Scheme != "smtps") || s.Host == "" {
			return errors.New("--smtp-url must look like smtp://host:port or smtps://host:port")
		}
	}
	if c.MailFrom == "" {
		c.MailFrom = "helpportal@" + u.Hostname()
	}
	if a, err := mail.ParseAddress(c.MailFrom); err != nil || !strings.Contains(a.Address, "@") {
		return fmt.Errorf("--mail-from %q is not an email address", c.MailFrom)
	}
	return nil
}

// ParsePrefixes reads "10.0.0.0/8, 192.0.2.7": CIDRs, or single addresses as /32 or /128.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR", part)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// DatabasePath is the SQLite file inside the data folder.
func (c *Config) DatabasePath() string { return filepath.Join(c.Data, "helpportal.db") }
