package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestRealIP(t *testing.T) {
	s := &Server{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}}
	var got string
	h := s.realIP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = clientIP(r) }))
	for _, tc := range []struct {
		peer, xff, want string
	}{
		{"203.0.113.9:5000", "198.51.100.1", "203.0.113.9"},                   // untrusted peer: header ignored
		{"127.0.0.1:5000", "198.51.100.1", "198.51.100.1"},                    // trusted proxy
		{"127.0.0.1:5000", "6.6.6.6, 198.51.100.1, 10.1.2.3", "198.51.100.1"}, // client-written entries on the left are skipped
		{"127.0.0.1:5000", "", "127.0.0.1"},                                   // no header
		{"127.0.0.1:5000", "not-an-ip", "127.0.0.1"},                          // garbage
		{"[::ffff:10.0.0.5]:80", "2001:db8::1", "2001:db8::1"},                // IPv4-mapped proxy, IPv6 client
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("peer %s, XFF %q: client %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}
