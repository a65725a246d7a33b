package auth

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"helpportal"
)

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(DefaultParams(), 2, 4)
	enc, err := h.Hash(ctx, "ｃｏｒｒｅｃｔ horse caf\u00e9") // fullwidth letters, composed é
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(enc) {
		t.Fatalf("not a PHC argon2id string with a 16-byte salt and 32-byte key: %s", enc)
	}
	if again, _ := h.Hash(ctx, "ｃｏｒｒｅｃｔ horse caf\u00e9"); again == enc {
		t.Fatal("two hashes of one password share a salt")
	}
	stronger := NewHasher(Params{Memory: 19456, Time: 3, Threads: 1}, 1, 0)
	tests := []struct {
		name, pw       string
		h              *Hasher
		ok, needRehash bool
	}{
		{"NFKC-equivalent: ASCII, decomposed é", "correct horse cafe\u0301", h, true, false},
		{"same text", "ｃｏｒｒｅｃｔ horse caf\u00e9", h, true, false},
		{"wrong", "correct horse cafe", h, false, false},
		{"empty", "", h, false, false},
		{"oversized", strings.Repeat("x", maxInput+1), h, false, false},
		{"params changed", "correct horse café", stronger, true, true},
		{"params changed, wrong password: never re-hash it", "wrong horse café", stronger, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, re, err := tt.h.Verify(ctx, tt.pw, enc)
			if err != nil || ok != tt.ok || re != tt.needRehash {
				t.Fatalf("Verify = %v, %v, %v; want %v, %v, nil", ok, re, err, tt.ok, tt.needRehash)
			}
		})
	}
}

func TestNewHasherFloors(t *testing.T) {
	if got := NewHasher(Params{Memory: 1024, Time: 1}, 0, -1).params; got != DefaultParams() {
		t.Fatalf("params below the OWASP floor kept: %+v", got)
	}
}

func TestVerifyMalformed(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	// The well-formed original of the cases below: a wrong password, not an error.
	if ok, _, err := NewHasher(DefaultParams(), 1, 0).Verify(context.Background(), "password", "$argon2id$v=19$m=19456,t=2,p=1$"+salt+"$"+key); ok || err != nil {
		t.Fatalf("well-formed: %v, %v", ok, err)
	}
	for _, enc := range []string{
		"",
		"plaintext",
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt,
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key, // 4 TiB: refused, not allocated
		"$argon2id$v=19$m=19456,t=4000000000,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$",
		"$argon2id$v=19$m=19456,t=2,p=1$!!!$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "==",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key, // 4-byte salt
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$a2V5",
	} {
		ok, re, err := NewHasher(DefaultParams(), 1, 0).Verify(context.Background(), "password", enc)
		if err == nil || ok || re || helpportal.ErrorCode(err) != helpportal.EINTERNAL {
			t.Errorf("%q: got %v, %v, %v; want an internal error", enc, ok, re, err)
		}
	}
}

// waitQueued waits until n callers hold an admission slot (running or queued).
func waitQueued(t *testing.T, h *Hasher, n int) {
	for deadline := time.Now().Add(5 * time.Second); len(h.admit) != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d callers admitted, want %d", len(h.admit), n)
		}
	}
}

func TestPoolBounds(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(DefaultParams(), 1, 1)
	// A first call that never finishes: it holds the only worker.
	if err := h.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() { _, err := h.Hash(ctx, "vanilla quantum bicycle"); second <- err }()
	waitQueued(t, h, 2)
	// The queue is full: a third caller is refused at once, whichever call it makes.
	if _, err := h.Hash(ctx, "x"); helpportal.ErrorCode(err) != helpportal.ETOOMANY {
		t.Fatalf("third Hash: %v, want ETOOMANY", err)
	}
	if _, _, err := h.Verify(ctx, "x", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"); helpportal.ErrorCode(err) != helpportal.ETOOMANY {
		t.Fatalf("third Verify: %v, want ETOOMANY", err)
	}
	if msg := helpportal.ErrorMessage(errBusy()); !strings.Contains(msg, "try again") {
		t.Fatalf("message %q", msg)
	}
	h.release()
	if err := <-second; err != nil {
		t.Fatalf("queued caller: %v", err)
	}
	waitQueued(t, h, 0)
}

func TestPoolContextCancel(t *testing.T) {
	h := NewHasher(DefaultParams(), 1, 1)
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan error, 1)
	go func() { _, err := h.Hash(ctx, "vanilla quantum bicycle"); waiting <- err }()
	waitQueued(t, h, 2)
	cancel()
	if err := <-waiting; helpportal.ErrorCode(err) != helpportal.ETOOMANY {
		t.Fatalf("cancelled while waiting: %v, want ETOOMANY", err)
	}
	waitQueued(t, h, 1) // its queue slot is back
	if _, err := h.Hash(ctx, "x"); helpportal.ErrorCode(err) != helpportal.ETOOMANY {
		t.Fatalf("already-cancelled context: %v, want ETOOMANY", err)
	}
	h.release()
}

func TestVerifyDummyTiming(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(DefaultParams(), 1, 0)
	enc, err := h.Hash(ctx, "vanilla quantum bicycle")
	if err != nil {
		t.Fatal(err)
	}
	// The fastest of several interleaved runs: other work on the machine only ever adds time.
	real, dummy := time.Hour, time.Hour
	for range 5 {
		start := time.Now()
		h.Verify(ctx, "wrong password guess", enc)
		real = min(real, time.Since(start))
		start = time.Now()
		h.VerifyDummy(ctx, "wrong password guess")
		dummy = min(dummy, time.Since(start))
	}
	t.Logf("verify %v, dummy %v", real, dummy)
	if diff := (dummy - real).Abs(); diff > real/2 {
		t.Fatalf("dummy %v vs real %v: more than 50%% apart", dummy, real)
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams(), 1, 0)
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "vanilla quantum bicycle"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams(), 1, 0)
	enc, _ := h.Hash(context.Background(), "vanilla quantum bicycle")
	for b.Loop() {
		if ok, _, err := h.Verify(context.Background(), "vanilla quantum bicycle", enc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
