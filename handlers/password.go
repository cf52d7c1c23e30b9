package handlers

import "github.com/rtmessenger/rtmessenger/internal/pwhash"

// PasswordParams is the argon2id cost. The zero value selects OWASP's
// recommendation: 19 MiB of memory, 2 passes, 1 lane.
type PasswordParams = pwhash.Params

type passwords struct {
	p     PasswordParams
	dummy string // hashed at start-up; verified against for unknown users
}

func newPasswords(p PasswordParams) *passwords {
	pw := &passwords{p: p}
	pw.dummy = pw.hash("not a real password; only spends the same time")
	return pw
}

// hash returns the password in PHC string format (see pwhash).
func (pw *passwords) hash(password string) string { return pwhash.Hash(password, pw.p) }

// verify reports whether password matches encoded, in constant time.
func (pw *passwords) verify(password, encoded string) bool { return pwhash.Verify(password, encoded) }

// spend burns the time of one verification, so a login for an unknown
// username takes as long as one with a wrong password.
func (pw *passwords) spend(password string) { pw.verify(password, pw.dummy) }
