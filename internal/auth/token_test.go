package auth

import (
	"encoding/hex"
	"strings"
	"testing"

	"helpportal"
)

func TestTokens(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok, hash := NewToken()
		if len(tok) != 43 || !ValidToken(tok) || seen[tok] {
			t.Fatalf("token %q: len %d, valid %v, repeated %v", tok, len(tok), ValidToken(tok), seen[tok])
		}
		seen[tok] = true
		if _, err := hex.DecodeString(hash); len(hash) != 64 || err != nil || hash != strings.ToLower(hash) || hash != HashToken(tok) {
			t.Fatalf("hash %q of %q", hash, tok)
		}
	}
	good, _ := NewToken()
	for _, bad := range []string{
		"", good[:42], good + "A", good[:42] + "=", good[:42] + "+", good[:42] + "/", good[:21] + "." + good[22:],
		good[:42] + "\n", good[:21] + "\n" + good[22:], good[:41] + "é", good[:42] + "B", // B leaves padding bits set
		strings.Repeat("A", 42) + " ",
	} {
		if ValidToken(bad) {
			t.Errorf("ValidToken(%q) = true", bad)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{ // want "" = refused
		{"  Jane.Doe@Example.COM ", "jane.doe@example.com"},
		{"a+tag@mail.example.co.uk", "a+tag@mail.example.co.uk"},
		{"ÜNÏ@exämple.com", "ünï@exämple.com"},
		{"", ""},
		{"jane", ""},
		{"jane@", ""},
		{"@example.com", ""},
		{"a@b@example.com", ""},
		{"Jane <jane@example.com>", ""},
		{"jane@example.com (Jane)", ""},
		{`"jane doe"@example.com`, ""},
		{"jane@localhost", ""},
		{"jane@[192.0.2.1]", ""},
		{"jane..doe@example.com", ""},
		{"jane@example..com", ""},
		{"ja\x00ne@example.com", ""},
		{"jane\r\n@example.com", ""},
		{"ja\u0085ne@example.com", ""},
		{"jane\u200b@example.com", ""},
		{"\xff@example.com", ""},
		{strings.Repeat("a", 65) + "@example.com", ""},
		{"a@" + strings.Repeat("b", 250) + ".com", ""},
		{"jane@example.com, joe@example.com", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if tt.want == "" {
			if err == nil || helpportal.ErrorCode(err) != helpportal.EINVALID || helpportal.ErrorMessage(err) == "" {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want EINVALID with a message", tt.in, got, err)
			}
		} else if got != tt.want || err != nil {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"jane@example.com": "j***@example.com",
		"ünï@example.com":  "ü***@example.com",
		"@example.com":     "***",
		"not an address":   "***",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescribeUserAgent(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0":                                                           "Firefox on Windows",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1":    "Safari on iPhone",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36":                      "Chrome on Android",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0":        "Edge on macOS",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":                         "Safari on macOS",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0":              "Opera on Windows",
		"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1":      "Chrome on iPad",
		"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36": "Samsung Internet on Android",
		"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0":                                                             "Firefox on Linux",
		"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36":                             "Chrome on ChromeOS",
		"curl/8.5.0":  "curl",
		"Wget/1.21.4": "Wget",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64)": "Unknown browser on Windows",
		"Go-http-client/1.1":                        "Unknown browser",
		"":                                          "Unknown browser",
		"<script>alert(1)</script>":                 "Unknown browser",
	} {
		if got := DescribeUserAgent(ua); got != want {
			t.Errorf("DescribeUserAgent(%q) = %q, want %q", ua, got, want)
		}
	}
}
