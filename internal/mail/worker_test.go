package mail

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// memOutbox is the Outbox contract in memory, leases included; the real store has its own
// tests against the same contract.
type memOutbox struct {
	mu        sync.Mutex
	rows      []*memRow
	released  []int64
	sentTwice int
}

type memRow struct {
	m                Message
	next, leaseUntil time.Time
	sent, dead       bool
	reason           string
}

func (o *memOutbox) add(m Message) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	m.ID = int64(len(o.rows) + 1)
	o.rows = append(o.rows, &memRow{m: m, next: m.CreatedAt})
	return m.ID
}

func (o *memOutbox) row(id int64) memRow {
	o.mu.Lock()
	defer o.mu.Unlock()
	return *o.rows[id-1]
}

func (o *memOutbox) ClaimMail(_ context.Context, now time.Time, n int, lease time.Duration) ([]Message, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Message
	for _, r := range o.rows {
		if len(out) < n && !r.sent && !r.dead && !r.next.After(now) && !r.leaseUntil.After(now) {
			r.leaseUntil = now.Add(lease)
			out = append(out, r.m)
		}
	}
	return out, nil
}

func (o *memOutbox) MailSent(_ context.Context, id int64, at time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.rows[id-1]
	if r.sent {
		o.sentTwice++
	}
	r.sent, r.leaseUntil = true, time.Time{}
	r.m.Attempts++
	return nil
}

func (o *memOutbox) MailFailed(_ context.Context, id int64, next time.Time, reason string, giveUp bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.rows[id-1]
	r.m.Attempts++
	r.next, r.reason, r.dead, r.leaseUntil = next, reason, giveUp, time.Time{}
	return nil
}

func (o *memOutbox) ReleaseMail(_ context.Context, ids []int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.released = append(o.released, ids...)
	for _, id := range ids {
		o.rows[id-1].leaseUntil = time.Time{}
	}
	return nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var t0 = time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)

// funcSender lets a test decide what one delivery does.
type funcSender func(ctx context.Context, m Message) error

func (f funcSender) Send(ctx context.Context, _ string, m Message) error { return f(ctx, m) }

func queued(to string, at time.Time) Message {
	return Message{To: to, Subject: "S", Text: "t", HTML: "<p>h</p>", MessageID: "<x@help.example.com>", CreatedAt: at}
}

func TestRetryAt(t *testing.T) {
	tests := []struct {
		attempts int
		since    time.Duration // from CreatedAt to the failure
		want     time.Duration // 0: give up
	}{
		{0, 0, 30 * time.Second},
		{1, time.Minute, time.Minute},
		{2, 3 * time.Minute, 2 * time.Minute},
		{6, time.Hour, 32 * time.Minute},
		{7, 2 * time.Hour, time.Hour},
		{40, 20 * time.Hour, time.Hour},
		{30, 23*time.Hour - time.Second, time.Hour},
		{30, 23 * time.Hour, 0}, // the next try would be at the 24 h mark
		{0, 25 * time.Hour, 0},
	}
	for _, tt := range tests {
		next, giveUp := retryAt(t0, tt.attempts, t0.Add(tt.since))
		if giveUp != (tt.want == 0) || (!giveUp && next.Sub(t0.Add(tt.since)) != tt.want) {
			t.Errorf("attempts %d at +%v: next +%v giveUp %v, want %v", tt.attempts, tt.since, next.Sub(t0.Add(tt.since)), giveUp, tt.want)
		}
	}
}

func TestWorkerGivesUpOldMail(t *testing.T) {
	ob, clk := &memOutbox{}, &clock{t: t0}
	id := ob.add(queued("alice@example.com", t0.Add(-25*time.Hour)))
	sent := 0
	w := NewWorker(ob, funcSender(func(context.Context, Message) error { sent++; return nil }), WorkerConfig{Now: clk.Now}, nil)
	w.pass(t.Context())
	if r := ob.row(id); !r.dead || r.sent || sent != 0 {
		t.Errorf("dead %v sent %v deliveries %d", r.dead, r.sent, sent)
	}
}

// A crashed instance never releases its lease; the message waits for the lease to run out.
func TestWorkerTakesOverExpiredLease(t *testing.T) {
	ob, clk := &memOutbox{}, &clock{t: t0}
	id := ob.add(queued("alice@example.com", t0))
	if got, _ := ob.ClaimMail(t.Context(), t0, 10, 5*time.Minute); len(got) != 1 {
		t.Fatal("crashed instance claimed nothing")
	}
	w := NewWorker(ob, funcSender(func(context.Context, Message) error { return nil }), WorkerConfig{Now: clk.Now, Lease: 5 * time.Minute}, nil)
	w.pass(t.Context())
	if ob.row(id).sent {
		t.Fatal("sent while another instance held the lease")
	}
	clk.Add(5 * time.Minute)
	w.pass(t.Context())
	if !ob.row(id).sent {
		t.Fatal("not sent after the lease expired")
	}
}

// Run must return promptly when ctx ends, even mid-delivery, and hand its leases back
// without counting an attempt.
func TestWorkerRunCancel(t *testing.T) {
	ob := &memOutbox{}
	for range 3 {
		ob.add(queued("alice@example.com", time.Now()))
	}
	started := make(chan struct{}, 3)
	blocked := funcSender(func(ctx context.Context, m Message) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	w := NewWorker(ob, blocked, WorkerConfig{Poll: time.Hour}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	<-started
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return")
	}
	slices.Sort(ob.released)
	if !slices.Equal(ob.released, []int64{1, 2, 3}) {
		t.Errorf("released %v", ob.released)
	}
	for id := int64(1); id <= 3; id++ {
		if r := ob.row(id); !r.leaseUntil.IsZero() || r.m.Attempts != 0 || r.dead || r.sent {
			t.Errorf("message %d: %+v", id, r)
		}
	}
}

// The lease is configurable (a crashed instance's mail waits that long), and a delivery is
// cut off at half of it, so a lease never runs out mid-delivery.
func TestWorkerLeaseBoundsDelivery(t *testing.T) {
	for _, tc := range []struct{ lease, want, send time.Duration }{
		{0, DefaultLease, time.Minute},
		{time.Hour, time.Hour, time.Minute},
		{4 * time.Second, 4 * time.Second, 2 * time.Second},
		{time.Millisecond, MinLease, MinLease / 2},
	} {
		ob := &memOutbox{}
		id := ob.add(queued("alice@example.com", time.Now()))
		var budget, held time.Duration
		w := NewWorker(ob, funcSender(func(ctx context.Context, _ Message) error {
			deadline, _ := ctx.Deadline()
			budget = time.Until(deadline)
			held = time.Until(ob.row(id).leaseUntil)
			return nil
		}), WorkerConfig{Lease: tc.lease}, nil)
		w.pass(t.Context())
		if !ob.row(id).sent {
			t.Errorf("lease %s: not sent", tc.lease)
		}
		if held > tc.want || held < tc.want-time.Second {
			t.Errorf("lease %s: held for %s, want %s", tc.lease, held, tc.want)
		}
		if budget > tc.send || budget < tc.send-time.Second {
			t.Errorf("lease %s: a delivery may take %s, want %s", tc.lease, budget, tc.send)
		}
	}
}
