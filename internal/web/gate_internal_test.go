package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestHashGate: when every place is taken, a request waits, then gets 429 with Retry-After
// without reaching the handler; once a place frees up, requests get through again.
func TestHashGate(t *testing.T) {
	s := &Server{gate: make(chan struct{}, 1)}
	reached := 0
	h := s.hashGate(func(w http.ResponseWriter, r *http.Request) { reached++ })
	s.gate <- struct{}{}
	start := time.Now()
	w := httptest.NewRecorder()
	h(w, httptest.NewRequest(http.MethodPost, "/login", nil))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || reached != 0 {
		t.Fatalf("full gate: %d %q, handler reached %d times", w.Code, w.Header().Get("Retry-After"), reached)
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("turned away after %v, want a 2 s wait", waited)
	}
	go func() { time.Sleep(100 * time.Millisecond); <-s.gate }()
	w = httptest.NewRecorder()
	h(w, httptest.NewRequest(http.MethodPost, "/login", nil))
	if w.Code != http.StatusOK || reached != 1 {
		t.Errorf("after a place freed: %d, reached %d", w.Code, reached)
	}
	if len(s.gate) != 0 {
		t.Errorf("the place was not given back")
	}
}
