package config

import (
	"runtime/debug"
	"testing"
)

// TuneGC sets GOGC=400 and the soft memory limit unless the environment sets them; an
// operator's GOGC or GOMEMLIMIT is left alone.
func TestTuneGC(t *testing.T) {
	gc, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	})
	for _, tc := range []struct {
		name, gogc, memlimit string
		wantGC               int
		wantLimit            int64
	}{
		{"defaults", "", "", 400, MemoryLimit},
		{"operator's GOGC", "150", "", 150, MemoryLimit},
		{"operator's GOMEMLIMIT", "", "1GiB", 400, 1 << 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", tc.gogc)
			t.Setenv("GOMEMLIMIT", tc.memlimit)
			// What the runtime would have read from the environment at start.
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(1 << 30)
			if tc.gogc == "150" {
				debug.SetGCPercent(150)
			}
			TuneGC()
			if got := debug.SetGCPercent(-1); got != tc.wantGC {
				t.Errorf("GOGC = %d, want %d", got, tc.wantGC)
			}
			debug.SetGCPercent(tc.wantGC)
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit {
				t.Errorf("memory limit = %d MiB, want %d MiB", got>>20, tc.wantLimit>>20)
			}
		})
	}
}
