package web_test

import (
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.get("/articles/pay-an-invoice")
	f.get("/articles/pay-an-invoice")
	f.get("/no-such-page")
	f.get("/reset-password/" + strings.Repeat("A", 43))
	res, body := f.get("/metrics")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics = %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`helpportal_http_requests_total{code="200",route="GET /articles/{slug}"} 2`,
		`helpportal_http_requests_total{code="404",route="/"} 2`, // the unknown page and the reset link (no client area here)
		`helpportal_http_request_duration_seconds_bucket{route="GET /articles/{slug}",le="+Inf"} 2`,
		`helpportal_change_seq `,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, strings.Repeat("A", 43)) {
		t.Error("a token reached a metric label")
	}
}
