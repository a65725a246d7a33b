package config

import (
	"flag"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func load(t *testing.T, args ...string) (*Config, error) {
	t.Helper()
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.ServeFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &c, c.Load(fs)
}

func TestTrustedProxies(t *testing.T) {
	c, err := load(t, "--trusted-proxies", "10.0.0.0/8, 192.0.2.7 ,2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32")}
	// Stored settings are applied after the flags; they must not add the proxies again.
	if err := c.ApplyStored(map[string]string{"site.header_links": "Prices=/p", "site.name": "X"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.TrustedProxies, want) {
		t.Errorf("proxies = %v, want %v", c.TrustedProxies, want)
	}
	for _, bad := range []string{"nonsense", "10.0.0.0/99", "1.2.3"} {
		if _, err := load(t, "--trusted-proxies", bad); err == nil {
			t.Errorf("--trusted-proxies %q accepted", bad)
		}
	}
}

func TestValidateNamesTheFlag(t *testing.T) {
	for _, tc := range []struct{ args []string }{
		{[]string{"--addr", "nonsense"}},
		{[]string{"--base-url", "ftp://x"}},
		{[]string{"--smtp-url", "http://x"}},
		{[]string{"--mail-from", "not an address"}},
		{[]string{"--database-url", "mysql://x"}},
		{[]string{"--header-links", "Prices"}},
		{[]string{"--site-name", " "}},
		{[]string{"--log-format", "xml"}},
		{[]string{"--mail-lease", "1s"}},
	} {
		if _, err := load(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.args[0]) {
			t.Errorf("%v: %v", tc.args, err)
		}
	}
}

func TestLogFormat(t *testing.T) {
	if c, err := load(t); err != nil || c.LogFormat != "json" {
		t.Errorf("default log format = %q, %v; want json", c.LogFormat, err)
	}
	if c, err := load(t, "--log-format", "text"); err != nil || c.LogFormat != "text" {
		t.Errorf("--log-format text = %q, %v", c.LogFormat, err)
	}
	t.Setenv("HELPPORTAL_LOG_FORMAT", "text")
	if c, err := load(t); err != nil || c.LogFormat != "text" {
		t.Errorf("HELPPORTAL_LOG_FORMAT=text gives %q, %v", c.LogFormat, err)
	}
	if c, err := load(t); err != nil || !c.RequestLog {
		t.Errorf("request log is off by default")
	}
	if c, err := load(t, "--request-log=false"); err != nil || c.RequestLog {
		t.Errorf("--request-log=false leaves it on (%v)", err)
	}
	t.Setenv("HELPPORTAL_LOG_FORMAT", "yaml")
	if _, err := load(t); err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Errorf("HELPPORTAL_LOG_FORMAT=yaml: %v", err)
	}
}
