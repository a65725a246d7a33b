package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
)

func mustUser(t *testing.T, db *store.DB, email string) *helpportal.User {
	t.Helper()
	u := &helpportal.User{Email: email, Name: "N", Role: helpportal.RoleClient, Status: helpportal.UserActive, PasswordHash: "h"}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUsersAndSessions(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	u := mustUser(t, db, "a@example.com")
	if err := db.CreateUser(ctx, &helpportal.User{Email: "a@example.com", Name: "X", Role: helpportal.RoleClient, Status: helpportal.UserActive}); helpportal.ErrorCode(err) != helpportal.ECONFLICT {
		t.Errorf("duplicate email: %v", err)
	}
	now := time.Now()
	mk := func(hash string, idle, abs time.Duration) *helpportal.Session {
		s := &helpportal.Session{UserID: u.ID, TokenHash: hash, CreatedAt: now, LastSeenAt: now, IdleUntil: now.Add(idle), ExpiresAt: now.Add(abs)}
		if err := db.CreateSession(ctx, s, helpportal.Event{UserID: u.ID, Kind: helpportal.EventSignIn}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	mk("live", time.Hour, 12*time.Hour)
	mk("idle", -time.Minute, 12*time.Hour)
	mk("old", time.Hour, -time.Minute)
	if _, got, err := db.SessionByToken(ctx, "live", now); err != nil || got.ID != u.ID {
		t.Errorf("live session: %v", err)
	}
	for _, h := range []string{"idle", "old", "unknown"} {
		if _, _, err := db.SessionByToken(ctx, h, now); helpportal.ErrorCode(err) != helpportal.EUNAUTHORIZED {
			t.Errorf("%s session: %v", h, err)
		}
	}
	other := mk("other", time.Hour, 12*time.Hour)
	list, _ := db.Sessions(ctx, u.ID, now)
	if len(list) != 2 {
		t.Errorf("live sessions = %d", len(list))
	}
	if err := db.RevokeSession(ctx, u.ID+1, other.ID, helpportal.Event{UserID: u.ID, Kind: "x"}); helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
		t.Errorf("revoking someone else's session: %v", err)
	}
	if err := db.RevokeOtherSessions(ctx, u.ID, "live", helpportal.Event{UserID: u.ID, Kind: helpportal.EventOthersRevoked}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SessionByToken(ctx, "other", now); err == nil {
		t.Error("other session survived")
	}
	// A password change with EndSessions keeps only the named session.
	mk("third", time.Hour, time.Hour)
	if err := db.ChangePassword(ctx, u.ID, store.PasswordChange{Hash: "h2", EndSessions: true, Keep: "live",
		Event: helpportal.Event{UserID: u.ID, Kind: helpportal.EventPasswordChanged}}); err != nil {
		t.Fatal(err)
	}
	if list, _ := db.Sessions(ctx, u.ID, now); len(list) != 1 || list[0].TokenHash != "live" {
		t.Errorf("after change: %v", list)
	}
	// Disabled users' sessions stop working at once.
	events, _ := db.Events(ctx, u.ID, 10)
	if len(events) < 4 || events[0].Kind != helpportal.EventPasswordChanged {
		t.Errorf("events = %v", events)
	}
}

func TestTokensAreSingleUse(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	u := mustUser(t, db, "b@example.com")
	if err := db.CreateToken(ctx, u.ID, helpportal.TokenReset, "t1", "", time.Hour, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateToken(ctx, u.ID, helpportal.TokenReset, "t2", "", time.Hour, &helpportal.OutgoingMail{To: u.Email, Subject: "s", Text: "t", HTML: "h", MessageID: "<1@x>"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := db.TokenUser(ctx, "t1", helpportal.TokenReset); helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
		t.Errorf("a newer request voids the older token: %v", err)
	}
	if _, _, _, err := db.TokenUser(ctx, "t2", helpportal.TokenInvite); helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
		t.Errorf("token used for another purpose: %v", err)
	}
	// Two racing uses: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 4 {
		wg.Go(func() {
			err := db.UseToken(ctx, "t2", []string{helpportal.TokenReset}, func(*store.Tx, *helpportal.User, string, string) error { return nil })
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("token used %d times", wins)
	}
	if n, _ := db.OutboxDepth(ctx); n != 1 {
		t.Errorf("outbox depth = %d", n)
	}
	// Expired tokens are refused.
	db.SetClock(func() time.Time { return time.Now().Add(-2 * time.Hour) })
	db.CreateToken(ctx, u.ID, helpportal.TokenInvite, "old", "", time.Hour, nil, nil)
	db.SetClock(time.Now)
	if _, _, _, err := db.TokenUser(ctx, "old", helpportal.TokenInvite); helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
		t.Errorf("expired token: %v", err)
	}
}

func TestAttemptsWindow(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	now := time.Now()
	for i := range 5 {
		if _, err := db.Admit(ctx, "k", now.Add(time.Duration(-20+i*4)*time.Minute), 30*time.Minute, func(int, time.Time) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
	n, last, err := db.Attempts(ctx, "k", now.Add(-15*time.Minute))
	if err != nil || n != 3 || !last.Equal(fromMillisForTest(now.Add(-4*time.Minute))) {
		t.Errorf("attempts = %d, %v, %v", n, last, err)
	}
}

func fromMillisForTest(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

func TestOutboxLeases(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	u := mustUser(t, db, "c@example.com")
	for i := range 3 {
		if err := db.CreateToken(ctx, u.ID, "p"+string(rune('a'+i)), "h"+string(rune('a'+i)), "", time.Hour,
			&helpportal.OutgoingMail{To: u.Email, Subject: "s", Text: "t", HTML: "h", MessageID: "<m@x>"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	a, err := db.ClaimMail(ctx, now, 2, time.Minute)
	if err != nil || len(a) != 2 {
		t.Fatalf("first claim: %d %v", len(a), err)
	}
	b, _ := db.ClaimMail(ctx, now, 5, time.Minute)
	if len(b) != 1 || b[0].ID == a[0].ID || b[0].ID == a[1].ID {
		t.Fatalf("second claim overlaps: %v", b)
	}
	if err := db.MailSent(ctx, a[0].ID, now); err != nil {
		t.Fatal(err)
	}
	if err := db.MailFailed(ctx, a[1].ID, now.Add(time.Minute), "down", false); err != nil {
		t.Fatal(err)
	}
	// A crashed instance's lease expires and the message is claimed again.
	c, _ := db.ClaimMail(ctx, now.Add(2*time.Minute), 5, time.Minute)
	if len(c) != 2 {
		t.Errorf("after lease expiry: %d", len(c))
	}
	row, _ := store.StoreExec(db, `UPDATE mail_outbox SET subject = subject WHERE id = ? AND text_body = ''`, a[0].ID)
	if n, _ := row.RowsAffected(); n != 1 {
		t.Error("a delivered mail keeps its body, and the link in it")
	}
	if err := db.ReleaseMail(ctx, []int64{c[0].ID}); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.OutboxDepth(ctx); n != 2 {
		t.Errorf("depth = %d", n)
	}
}

// TestAdmitIsAtomic: a burst of concurrent attempts cannot pass a limit together.
func TestAdmitIsAtomic(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	now := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for range 16 {
		wg.Go(func() {
			ok, err := db.Admit(ctx, "k", now, 15*time.Minute, func(n int, _ time.Time) bool { return n < 5 })
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if admitted != 5 {
		t.Errorf("admitted %d of 16, want 5", admitted)
	}
	if err := db.ForgetAttempt(ctx, "k", now); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := db.Attempts(ctx, "k", now.Add(-time.Minute)); n != 0 { // all five share the millisecond
		t.Errorf("after forgetting one: %d", n)
	}
}

// TestNewPasswordClearsThrottleAndPendingChanges: a reset is the owner's way out of
// throttling, and kills a pending email change made with the old password.
func TestNewPasswordClearsThrottleAndPendingChanges(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	u := mustUser(t, db, "d@example.com")
	for range 2 {
		db.Admit(ctx, "login:acct:d@example.com", time.Now(), time.Hour, func(int, time.Time) bool { return true })
	}
	db.CreateToken(ctx, u.ID, helpportal.TokenEmail, "em", "evil@example.com", time.Hour, nil, nil)
	if err := db.ChangePassword(ctx, u.ID, store.PasswordChange{Hash: "new", EndSessions: true,
		Event: helpportal.Event{UserID: u.ID, Kind: helpportal.EventPasswordReset}}); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := db.Attempts(ctx, "login:acct:d@example.com", time.Now().Add(-time.Hour)); n != 0 {
		t.Errorf("%d failed attempts survive the new password", n)
	}
	if _, _, _, err := db.TokenUser(ctx, "em", helpportal.TokenEmail); helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
		t.Errorf("pending email change survives the new password: %v", err)
	}
	// A disabled account cannot be revived by a link.
	db.CreateToken(ctx, u.ID, helpportal.TokenReset, "rs", "", time.Hour, nil, nil)
	if _, err := store.StoreExec(db, `UPDATE users SET status = 'disabled' WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := db.TokenUser(ctx, "rs", helpportal.TokenReset); helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
		t.Errorf("a disabled account's link still works: %v", err)
	}
}
