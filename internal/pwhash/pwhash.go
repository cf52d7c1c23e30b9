// Package pwhash hashes passwords with argon2id in PHC string format, which
// records its own parameters so the cost can be raised later without
// breaking old hashes. The server checks log-ins with it; the load
// generator hashes its accounts' shared password with it, so the accounts
// it writes straight to the database can log in like any other.
package pwhash

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params is the argon2id cost. The zero value selects OWASP's
// recommendation: 19 MiB of memory, 2 passes, 1 lane.
type Params struct {
	MemoryKiB uint32
	Passes    uint32
	Lanes     uint8
}

const (
	saltLen = 16
	keyLen  = 32
)

// Hash returns password hashed at cost p, with a fresh salt.
func Hash(password string, p Params) string {
	if p.MemoryKiB == 0 {
		p = Params{MemoryKiB: 19 * 1024, Passes: 2, Lanes: 1}
	}
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails on supported platforms
	key := argon2.IDKey([]byte(password), salt, p.Passes, p.MemoryKiB, p.Lanes, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Passes, p.Lanes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether password matches encoded, in constant time. A
// malformed encoding matches nothing.
func Verify(password, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Passes, &p.Lanes); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Passes, p.MemoryKiB, p.Lanes, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
