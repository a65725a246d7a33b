package search_test

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuOtherStart starts measuring the CPU that other processes use (the machine is shared),
// as a share of all cores; the returned function reports it. Figures from runs where it is
// high are not trusted. Linux only; elsewhere it reports 0.
func cpuOtherStart() func() float64 {
	busy0, self0 := busyTicks(), selfTicks()
	t0 := time.Now()
	return func() float64 {
		busy, self := busyTicks()-busy0, selfTicks()-self0
		elapsed := time.Since(t0).Seconds() * 100 * float64(numCPU()) // ticks at USER_HZ=100
		if elapsed <= 0 || busy < 0 {
			return 0
		}
		return max(0, float64(busy-self)/elapsed*100)
	}
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/stat")
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "cpu") && !strings.HasPrefix(l, "cpu ") {
			n++
		}
	}
	return max(n, 1)
}

func busyTicks() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy
}

func selfTicks() int64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}
