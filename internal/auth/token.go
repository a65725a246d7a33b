package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// tokenLen is the length of a token: 32 bytes in unpadded base64url.
const tokenLen = 43

// NewToken returns a one-time token or session ID (256 bits from crypto/rand, base64url without
// padding, 43 characters) and the hash to store. Only the hash is kept, so a leaked database
// or backup holds nothing that signs anyone in.
func NewToken() (token, hash string) {
	var b [32]byte
	rand.Read(b[:]) // never fails: crypto/rand crashes the program rather than return weak bytes
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 of token, the form stored and looked up. A plain hash is
// enough (no salt, no slow hash): the token has 256 bits of entropy, nothing to brute-force.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ValidToken reports whether token has the exact shape NewToken makes: 43 base64url characters
// that decode to 32 bytes with zero padding bits. It is a cheap check before any lookup, so a
// forged or truncated value never reaches the store.
func ValidToken(token string) bool {
	if len(token) != tokenLen {
		return false
	}
	var buf [32]byte
	n, err := base64.RawURLEncoding.Strict().Decode(buf[:], []byte(token))
	return err == nil && n == len(buf) // a newline would be skipped by Decode and shorten n
}
