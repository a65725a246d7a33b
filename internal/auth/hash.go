package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

	"helpportal"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
}

// DefaultParams returns the OWASP minimum for argon2id: 19 MiB, 2 passes, 1 lane. One lane
// keeps each login on one core, so the worker count alone sets how many cores hashing takes.
func DefaultParams() Params { return Params{Memory: 19456, Time: 2, Threads: 1} }

const (
	saltLen = 16
	keyLen  = 32
	// maxInput bounds what Hash and Verify will feed to NFKC and argon2, whatever the caller
	// forgot to limit: far above any password the policy accepts.
	maxInput = 16 << 10
)

var (
	// errMalformed deliberately carries no detail: the stored hash is a secret of sorts, and a
	// malformed one is our fault (it maps to EINTERNAL).
	errMalformed = errors.New("auth: malformed argon2id hash")
	b64          = base64.RawStdEncoding.Strict() // PHC uses unpadded standard base64
)

// Hasher hashes and verifies passwords through a bounded pool: at most workers argon2 runs at
// once (memory × workers bounds the RAM that hashing can take, and page views keep the other
// cores), and at most queue callers wait; anyone beyond is refused at once, so a login flood
// costs a queue slot rather than a goroutine stack and 19 MiB each.
type Hasher struct {
	params Params
	admit  chan struct{} // capacity workers+queue: everyone running or waiting holds one
	run    chan struct{} // capacity workers: everyone running holds one
}

// NewHasher returns a Hasher with params p (zero fields take DefaultParams; fields below the
// OWASP floor are raised to it, so a configuration slip cannot weaken new hashes).
func NewHasher(p Params, workers, queue int) *Hasher {
	d := DefaultParams()
	p.Memory, p.Time, p.Threads = max(p.Memory, d.Memory), max(p.Time, d.Time), max(p.Threads, d.Threads)
	workers, queue = max(workers, 1), max(queue, 0)
	return &Hasher{params: p, admit: make(chan struct{}, workers+queue), run: make(chan struct{}, workers)}
}

func errBusy() error {
	return helpportal.Errorf(helpportal.ETOOMANY, "Too many sign-in attempts right now; please try again in a moment.")
}

// acquire takes a worker slot, waiting in the queue if there is room; release gives it back.
func (h *Hasher) acquire(ctx context.Context) error {
	if ctx.Err() != nil {
		return errBusy()
	}
	select {
	case h.admit <- struct{}{}:
	default:
		return errBusy()
	}
	select {
	case h.run <- struct{}{}:
		return nil
	case <-ctx.Done():
		<-h.admit
		return errBusy()
	}
}

func (h *Hasher) release() { <-h.run; <-h.admit }

// key runs argon2id inside the pool.
func (h *Hasher) key(ctx context.Context, password string, salt []byte, p Params, n uint32) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.release()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, n), nil
}

// Hash returns the PHC string of the NFKC form of password, with a fresh 16-byte salt:
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>". It fails with ETOOMANY when the pool is full
// or ctx ends while waiting.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > maxInput {
		return "", helpportal.Errorf(helpportal.EINVALID, "This password is too long.")
	}
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails: crypto/rand crashes the program rather than return weak bytes
	k, err := h.key(ctx, Normalize(password), salt, h.params, keyLen)
	if err != nil {
		return "", err
	}
	p := h.params
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(k)), nil
}

// Verify reports whether password (NFKC-normalised) matches the PHC string encoded, comparing
// in constant time. needsRehash is true when the password matched and the stored parameters,
// salt or key length differ from h's: the caller then stores a fresh Hash. (It is never true
// for a wrong password, so a careless caller cannot re-hash the wrong one.) A malformed string
// returns an error; a full pool returns ETOOMANY.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	tooLong := len(password) > maxInput
	if tooLong {
		password = "" // cannot match; still spend the time, as for any wrong password
	}
	got, err := h.key(ctx, Normalize(password), salt, p, uint32(len(want)))
	if err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(got, want) == 1 && !tooLong
	return ok, ok && (p != h.params || len(salt) != saltLen || len(want) != keyLen), nil
}

// VerifyDummy spends the time of a real Verify with h's parameters (and queues the same way)
// for a sign-in to an unknown account, so timing does not reveal which emails exist.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	if len(password) > maxInput {
		password = ""
	}
	var salt [saltLen]byte
	got, err := h.key(ctx, Normalize(password), salt[:], h.params, keyLen)
	if err == nil {
		subtle.ConstantTimeCompare(got, make([]byte, keyLen))
	}
}

// decode parses a PHC argon2id string strictly. The bounds keep a corrupted or hostile row
// from making one login allocate gigabytes or spin for minutes.
func decode(s string) (p Params, salt, key []byte, err error) {
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errMalformed
	}
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, errMalformed
	}
	var v [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(kv[i], name)
		if v[i], err = strconv.ParseUint(num, 10, 32); !ok || err != nil {
			return p, nil, nil, errMalformed
		}
	}
	p = Params{Memory: uint32(v[0]), Time: uint32(v[1]), Threads: uint8(v[2])}
	if v[2] < 1 || v[2] > 255 || p.Memory < 8*uint32(p.Threads) || p.Memory > 1<<20 || p.Time < 1 || p.Time > 64 {
		return p, nil, nil, errMalformed
	}
	salt, err1 := b64.DecodeString(f[4])
	key, err2 := b64.DecodeString(f[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(salt) > 64 || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errMalformed
	}
	return p, salt, key, nil
}
