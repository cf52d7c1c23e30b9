// Package sessiondata is the stored form of a web session: the codec the
// server's session manager uses, the values that make a session signed
// in, and minting a session outside a request. The server's handlers use
// it, and so does the load generator, which writes its accounts' sessions
// straight to the database; sharing it keeps their format one.
package sessiondata

import (
	"crypto/rand"
	"encoding/base64"
	"time"
)

const (
	// UserKey holds the id of the signed-in user.
	UserKey = "uid"
	// SeenKey holds when the session was last used (Unix seconds), for the
	// idle timeout.
	SeenKey = "seen"
)

// SignedIn is the values of a session that signs user in, last used now.
func SignedIn(user int64, now time.Time) map[string]any {
	return map[string]any{UserKey: user, SeenKey: now.Unix()}
}

// Mint makes a new session token (the cookie value) and the stored form
// of values, valid for lifetime from now.
func Mint(values map[string]any, now time.Time, lifetime time.Duration) (token string, data []byte, expiry time.Time, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, time.Time{}, err
	}
	expiry = now.Add(lifetime)
	data, err = Codec{}.Encode(expiry, values)
	return base64.RawURLEncoding.EncodeToString(b[:]), data, expiry, err
}
