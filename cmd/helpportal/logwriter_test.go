package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// The log writer holds lines back for at most logFlushEvery, sends them at once when
// logFlushAt bytes wait, and loses none at Close or after it.
func TestLogWriter(t *testing.T) {
	out := &lockedBuffer{}
	lw := newLogWriter(out)
	lw.Write([]byte("one\n"))
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(out.String(), "one\n") {
		if time.Now().After(deadline) {
			t.Fatal("a line was not flushed within 2 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	big := strings.Repeat("x", logFlushAt)
	lw.Write([]byte(big))
	if !strings.Contains(out.String(), big) {
		t.Error("a full buffer was not written at once")
	}
	lw.Write([]byte("last\n"))
	lw.Close()
	if !strings.HasSuffix(out.String(), "last\n") {
		t.Error("Close lost the last line")
	}
	lw.Write([]byte("after\n"))
	if !strings.HasSuffix(out.String(), "after\n") {
		t.Error("a line written after Close was held back with nothing left to flush it")
	}
}
