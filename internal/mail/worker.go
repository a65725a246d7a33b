package mail

import (
	"context"
	"log/slog"
	"time"
)

const (
	firstRetry  = 30 * time.Second
	maxRetry    = time.Hour
	giveUpAfter = 24 * time.Hour
	// DefaultLease is how long a claim holds by default: how long a crashed instance's mail
	// waits before another instance takes it over.
	DefaultLease = 2 * time.Minute
	// DefaultPoll is how often a worker looks for due mail unless told otherwise.
	DefaultPoll = 5 * time.Second
	// MinLease gives a delivery (half the lease) at least a second.
	MinLease = 2 * time.Second
	// maxSendTimeout bounds one delivery as a whole (go-mail's 30 s applies per step); a
	// shorter lease cuts deliveries at half its length instead. A message is only sent while
	// its lease has at least this long left, so the lease cannot run out mid-delivery and let
	// another instance send it too.
	maxSendTimeout = time.Minute
	// storeTimeout bounds recording a result, which happens even during shutdown.
	storeTimeout = 10 * time.Second
)

// WorkerConfig tunes a Worker; zero values take the defaults.
type WorkerConfig struct {
	From  string           // From and envelope sender; "" means noreply@ the base URL's host
	Poll  time.Duration    // how often to look for due mail (default DefaultPoll)
	Lease time.Duration    // how long a claim holds (default DefaultLease, at least MinLease)
	Batch int              // messages claimed at once (default 10)
	Now   func() time.Time // the clock (default time.Now); tests inject their own
}

// Worker delivers the outbox. Backoff: 30 s, 1 min, 2 min, … doubling, capped at 1 h between
// tries, giving up 24 h after CreatedAt. Poll every 5 s (configurable), and Wake() triggers an
// immediate pass (called after a request queued mail). Run(ctx) returns when ctx ends,
// releasing leases it still holds. Log lines never contain bodies, links, tokens or full
// addresses.
type Worker struct {
	ob          Outbox
	s           Sender
	cfg         WorkerConfig
	log         *slog.Logger
	wake        chan struct{}
	sendTimeout time.Duration // one delivery's bound: half the lease, at most maxSendTimeout
}

// NewWorker returns a worker delivering ob's mail through s; call Run to start it.
func NewWorker(ob Outbox, s Sender, cfg WorkerConfig, log *slog.Logger) *Worker {
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	cfg.Lease = max(cfg.Lease, MinLease)
	if cfg.Batch <= 0 {
		cfg.Batch = 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{ob: ob, s: s, cfg: cfg, log: log, wake: make(chan struct{}, 1), sendTimeout: min(cfg.Lease/2, maxSendTimeout)}
}

// Wake asks for a pass now. It never blocks: wake-ups that arrive during a pass fold into one.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. A message being sent when ctx ends has its connection cut and
// its lease released, without counting an attempt.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		for w.pass(ctx) {
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// pass claims one batch and works through it. It reports whether to go again at once: the
// batch was full, so more mail may be due.
func (w *Worker) pass(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	now := w.cfg.Now()
	batch, err := w.ob.ClaimMail(ctx, now, w.cfg.Batch, w.cfg.Lease)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn("mail outbox: claim failed", "error", err)
		}
		return false
	}
	leaseEnd := now.Add(w.cfg.Lease)
	var unsettled []int64
	for _, m := range batch {
		if ctx.Err() != nil || w.cfg.Now().Add(w.sendTimeout).After(leaseEnd) || !w.deliver(ctx, m) {
			unsettled = append(unsettled, m.ID)
		}
	}
	// Only leases still ours are released: once one has run out another instance may hold
	// the message, and releasing it would let a third send it as well.
	if len(unsettled) > 0 && w.cfg.Now().Before(leaseEnd) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		if err := w.ob.ReleaseMail(rctx, unsettled); err != nil {
			w.log.Warn("mail outbox: release failed; the leases will expire", "count", len(unsettled), "error", err)
		}
	}
	return ctx.Err() == nil && len(batch) == w.cfg.Batch
}

// deliver tries m once and records the outcome. It returns false only if ctx ended during
// the attempt: shutdown is not the mail server's fault, so no attempt is counted and the
// caller releases the lease.
func (w *Worker) deliver(ctx context.Context, m Message) bool {
	// Outcomes are recorded even if ctx has just ended: a delivered mail left unrecorded
	// would be sent again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	log := w.log.With("id", m.ID, "to", maskAddr(m.To), "attempt", m.Attempts+1)

	var reason string
	if now := w.cfg.Now(); now.Before(m.CreatedAt.Add(giveUpAfter)) {
		sctx, scancel := context.WithTimeout(ctx, w.sendTimeout)
		err := w.s.Send(sctx, w.cfg.From, m)
		scancel()
		if err == nil {
			if err := w.ob.MailSent(rctx, m.ID, w.cfg.Now()); err != nil {
				log.Error("mail sent but not recorded; it may be sent again", "error", err)
			} else {
				log.Info("mail sent")
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		reason = redact(err.Error())
	} else {
		// Never tried in time (instances were down): a reset link this old is useless and
		// a late mail only confuses.
		reason = "not sent within 24 hours of being queued"
	}

	next, giveUp := retryAt(m.CreatedAt, m.Attempts, w.cfg.Now())
	if err := w.ob.MailFailed(rctx, m.ID, next, reason, giveUp); err != nil {
		log.Error("mail failure not recorded", "error", err)
	}
	if giveUp {
		log.Error("mail given up", "reason", reason)
	} else {
		log.Warn("mail not sent; will retry", "next", next, "reason", reason)
	}
	return true
}

// retryAt returns when to try again after attempt number attempts+1 failed at now: 30 s,
// then doubling up to 1 h. It gives up when that would be 24 h or more after created, so the
// last try happens within the 24 hours.
func retryAt(created time.Time, attempts int, now time.Time) (next time.Time, giveUp bool) {
	d := maxRetry
	if attempts < 7 { // 30 s << 7 is past the cap; the guard also keeps the shift sane
		d = min(firstRetry<<max(attempts, 0), maxRetry)
	}
	next = now.Add(d)
	return next, !next.Before(created.Add(giveUpAfter))
}
