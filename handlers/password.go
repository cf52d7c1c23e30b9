package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams is the argon2id cost. The zero value selects OWASP's
// recommendation: 19 MiB of memory, 2 passes, 1 lane.
type PasswordParams struct {
	MemoryKiB uint32
	Passes    uint32
	Lanes     uint8
}

const (
	saltLen = 16
	keyLen  = 32
)

type passwords struct {
	p     PasswordParams
	dummy string // hashed at start-up; verified against for unknown users
}

func newPasswords(p PasswordParams) *passwords {
	if p.MemoryKiB == 0 {
		p = PasswordParams{MemoryKiB: 19 * 1024, Passes: 2, Lanes: 1}
	}
	pw := &passwords{p: p}
	pw.dummy = pw.hash("not a real password; only spends the same time")
	return pw
}

// hash returns the password in PHC string format, which records its own
// parameters so they can be raised later without breaking old hashes.
func (pw *passwords) hash(password string) string {
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails on supported platforms
	key := argon2.IDKey([]byte(password), salt, pw.p.Passes, pw.p.MemoryKiB, pw.p.Lanes, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, pw.p.MemoryKiB, pw.p.Passes, pw.p.Lanes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// verify reports whether password matches encoded, in constant time.
func (pw *passwords) verify(password, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var p PasswordParams
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

// spend burns the time of one verification, so a login for an unknown
// username takes as long as one with a wrong password.
func (pw *passwords) spend(password string) { pw.verify(password, pw.dummy) }

// HashPassword hashes a password at the given cost (zero: OWASP's), for
// admin tooling that creates accounts outside a request.
func HashPassword(password string, p PasswordParams) string {
	return newPasswords(p).hash(password)
}
