package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// notifyChannel is the PostgreSQL channel every transaction that appends to the change log
// notifies at commit. The payload is the store's schema: portals in other schemas of the
// same database share the channel, and listeners pass over their notifications.
const notifyChannel = "helpportal_changes"

// The listening connection's timings: reconnection backoff from listenRetryMin doubling to
// listenRetryMax, and a ping after listenIdle without a notification, so a connection that
// died silently (a network partition sends no reset) is noticed in a minute, not in TCP's
// keep-alive hours.
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 5 * time.Second
	listenIdle     = 30 * time.Second
	listenTimeout  = 10 * time.Second // connecting, pinging
)

// changeFeed fans change-log wake-ups out to subscribers. On PostgreSQL one connection per
// process LISTENs, started by the first subscriber and stopped by Close.
type changeFeed struct {
	mu     sync.Mutex
	subs   map[chan struct{}]struct{}
	log    *slog.Logger
	closed bool
	stop   context.CancelFunc // ends the listener; nil until it starts
	done   chan struct{}      // closed when the listener has ended
	pid    atomic.Uint32      // the listening connection's server process, 0 while there is none
}

// Changes subscribes to the change log: the channel receives a value soon after the log may
// have grown, so a follower can read what is new at once instead of at its next poll.
// This process's own writes signal as they commit, on both databases. On PostgreSQL other
// instances' writes signal too, through LISTEN/NOTIFY on one dedicated connection per
// process (opened with the first subscription); when that connection drops it is reopened
// with backoff, and every (re)connection signals once, since notifications may have been
// missed meanwhile. On SQLite another process's writes are seen only by polling
// (PollChanges, ChangesSince), so subscribers keep polling as a fallback on either database.
//
// Signals coalesce (the channel holds one): a woken subscriber reads everything new, not one
// change. The subscription ends with ctx; the channel is never closed.
func (db *DB) Changes(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	f := &db.feed
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[chan struct{}]struct{}{}
	}
	f.subs[ch] = struct{}{}
	if db.pgConfig != nil && f.stop == nil && !f.closed {
		lctx, stop := context.WithCancel(context.Background())
		f.stop, f.done = stop, make(chan struct{})
		go db.listen(lctx, f.done)
	}
	f.mu.Unlock()
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	})
	return ch
}

// SetLogger names where the store reports trouble it recovers from on its own (the change
// listener's lost connection); by default slog's default logger.
func (db *DB) SetLogger(log *slog.Logger) {
	db.feed.mu.Lock()
	db.feed.log = log
	db.feed.mu.Unlock()
}

func (f *changeFeed) logger() *slog.Logger {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.log == nil {
		return slog.Default()
	}
	return f.log
}

// signal wakes every subscriber; one already woken and not yet reading stays woken once.
func (f *changeFeed) signal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// close stops the listener, if any, and waits for it.
func (f *changeFeed) close() {
	f.mu.Lock()
	f.closed = true
	stop, done := f.stop, f.done
	f.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// lockChangeLog takes the change-log lock (see changeLogLock) and, on PostgreSQL, queues in
// the same round trip the notification that wakes every listening instance when tx commits
// (none if it rolls back). PostgreSQL delivers identical notifications of one transaction
// once, so a batch of a thousand changes wakes listeners once.
func (db *DB) lockChangeLog(ctx context.Context, tx *sql.Tx) error {
	if db.dialect != postgresDialect {
		return db.lockName(ctx, tx, changeLogLock)
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?), pg_notify('`+notifyChannel+`', ?)`,
		db.lockKey(changeLogLock), db.schema)
	return err
}

// listen keeps a LISTEN connection open until ctx ends, reconnecting with backoff.
func (db *DB) listen(ctx context.Context, done chan struct{}) {
	defer close(done)
	log := db.feed.logger()
	wait, lost := listenRetryMin, false
	for {
		err := db.listenOnce(ctx, func() {
			wait = listenRetryMin
			if lost {
				lost = false
				log.Info("store: change notifications are back")
			}
			db.feed.signal() // whatever committed while nobody listened
		})
		if ctx.Err() != nil {
			return
		}
		if !lost { // said once per outage, not at every retry
			lost = true
			log.Warn("store: change notifications lost; polling until they are back", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetryMax)
	}
}

// pollQuietly reads the newest change number, which wakes the subscribers if it moved
// (sawChange). Signalling them directly on a notification woke each twice: once here, and
// again when their own poll moved ChangeSeq. An error is left to the pollers, which run
// anyway and report it.
func (db *DB) pollQuietly(ctx context.Context) {
	_, _ = db.PollChanges(ctx)
}

// listenOnce opens the listening connection, calls listening once LISTEN is in place, and
// relays notifications for this store's schema until the connection fails or ctx ends.
func (db *DB) listenOnce(ctx context.Context, listening func()) error {
	cctx, cancel := context.WithTimeout(ctx, listenTimeout)
	conn, err := pgx.ConnectConfig(cctx, db.pgConfig)
	if err == nil {
		_, err = conn.Exec(cctx, "LISTEN "+notifyChannel)
	}
	cancel()
	if conn != nil {
		defer func() {
			db.feed.pid.Store(0)
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			conn.Close(cctx) //nolint:errcheck // the connection is being dropped either way
			cancel()
		}()
	}
	if err != nil {
		return err
	}
	db.feed.pid.Store(conn.PgConn().PID())
	listening()
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdle)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil:
			if n.Payload == db.schema {
				db.pollQuietly(ctx)
			}
		case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
			// Quiet for a while: make sure the connection is still there.
			pctx, cancel := context.WithTimeout(ctx, listenTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}
