package config

import (
	"os"
	"runtime/debug"
)

// TuneGC sets the collector as `serve` and `reindex` run it, trading memory for throughput:
// a page view allocates little but often, and the default GOGC=100 spent a tenth of the CPU
// collecting at full load. A soft memory limit keeps the larger heap bounded. Either is left
// alone when GOGC or GOMEMLIMIT is set. The search benchmarks call it too, so that they
// measure what serve runs.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
}

// MemoryLimit is the soft memory limit TuneGC sets. A small portal never reaches it (its
// heap is tens of MiB, and GOGC=400 collects at five times that). A large one does: at
// 100,000 articles the live heap is 90–130 MiB, and under a 256 MiB limit the collector ran
// after every 130–160 MiB allocated: about 10 % fewer searches a second than under this
// limit (docs/performance.md).
const MemoryLimit = 512 << 20
