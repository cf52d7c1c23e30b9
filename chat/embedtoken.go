package chat

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// An embed token is how a host site vouches for one of its users to a
// widget on its pages, with no cookie shared between the two sites: its
// own server signs the claims below with the site's secret and puts the
// token in the snippet. The format is two base64url (unpadded) parts,
// "<claims JSON>.<HMAC-SHA256 of the first part with the secret>".
type EmbedClaims struct {
	Site  int64   `json:"site"`  // the registered site's id
	Sub   string  `json:"sub"`   // the user's id on the host site
	Name  string  `json:"name"`  // the name to show beside their messages
	Rooms []int64 `json:"rooms"` // rooms the user may use in the widget
	Iat   int64   `json:"iat"`   // issued at, Unix seconds
	Exp   int64   `json:"exp"`   // expires at, Unix seconds: at most 10 minutes after iat
	Nonce string  `json:"nonce"` // unique per token: a token works once
}

// Limits on tokens. MaxEmbedTokenLife bounds exp-iat; clockSkew forgives a
// host whose clock runs a little ahead or behind.
const (
	MaxEmbedTokenBytes = 4096
	MaxEmbedTokenLife  = 10 * time.Minute
	embedClockSkew     = time.Minute
	maxEmbedSubBytes   = 200
	minNonceBytes      = 8
	maxNonceBytes      = 128
	maxEmbedRooms      = 100
)

// What a refused token is told. Each is an Unauthorized error: the widget
// shows it in its frame.
var (
	ErrEmbedTokenMalformed  = Errorf(Unauthorized, "The sign-in token from the host site is malformed.")
	ErrEmbedTokenOversized  = Errorf(Unauthorized, "The sign-in token from the host site is too large (the limit is 4 KiB).")
	ErrEmbedTokenSignature  = Errorf(Unauthorized, "The sign-in token's signature does not match the site's secret.")
	ErrEmbedTokenUnknown    = Errorf(Unauthorized, "The sign-in token names a site that is not registered here.")
	ErrEmbedTokenWrongSite  = Errorf(Unauthorized, "The sign-in token was made for another site than this widget's.")
	ErrEmbedTokenWrongRoom  = Errorf(Unauthorized, "The sign-in token does not grant this room.")
	ErrEmbedTokenExpired    = Errorf(Unauthorized, "The sign-in token has expired. Reload the page for a fresh one.")
	ErrEmbedTokenNotYet     = Errorf(Unauthorized, "The sign-in token is not valid yet: the host site's clock may be wrong.")
	ErrEmbedTokenTooLong    = Errorf(Unauthorized, "The sign-in token lives longer than 10 minutes, which is not allowed.")
	ErrEmbedTokenReplayed   = Errorf(Unauthorized, "The sign-in token was already used. Reload the page for a fresh one.")
	ErrEmbedTokenBadClaims  = Errorf(Unauthorized, "The sign-in token lacks a user id, a nonce or rooms, or one of them is malformed.")
	ErrEmbedTokenBadName    = Errorf(Unauthorized, "The sign-in token's display name is not allowed (1 to 64 characters, one line, no direction controls).")
	ErrEmbedSiteUnavailable = Errorf(Unauthorized, "This site may not embed chat rooms here any more.")
)

// SignEmbedToken makes a token for c with secret: what a host site's server
// does (the README shows the same in other languages).
func SignEmbedToken(secret []byte, c EmbedClaims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(embedMAC(secret, p)), nil
}

func embedMAC(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// ParseEmbedToken reads a token's claims without trusting them: enough to
// find the site whose secret verifies it (VerifyEmbedToken).
func ParseEmbedToken(token string) (EmbedClaims, error) {
	var c EmbedClaims
	if len(token) > MaxEmbedTokenBytes {
		return c, ErrEmbedTokenOversized
	}
	payload, _, ok := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if !ok || err != nil {
		return c, ErrEmbedTokenMalformed
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() {
		return c, ErrEmbedTokenMalformed
	}
	return c, nil
}

// VerifyEmbedToken checks a token against its site's secret, the site the
// widget was set up for, the room it is opening and the time; it returns
// the claims, cleaned. Whether the nonce was used before is the store's
// to say, in the transaction that records it.
func VerifyEmbedToken(token string, secret []byte, site, room int64, now time.Time) (EmbedClaims, error) {
	c, err := ParseEmbedToken(token)
	if err != nil {
		return c, err
	}
	payload, sig, _ := strings.Cut(token, ".")
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, embedMAC(secret, payload)) {
		return c, ErrEmbedTokenSignature
	}
	switch {
	case c.Site != site:
		return c, ErrEmbedTokenWrongSite
	case c.Exp-c.Iat > int64(MaxEmbedTokenLife/time.Second):
		return c, ErrEmbedTokenTooLong
	case now.Unix() >= c.Exp+int64(embedClockSkew/time.Second):
		return c, ErrEmbedTokenExpired
	case c.Iat > now.Unix()+int64(embedClockSkew/time.Second):
		return c, ErrEmbedTokenNotYet
	}
	if err := c.clean(); err != nil {
		return c, err
	}
	for _, r := range c.Rooms {
		if r == room {
			return c, nil
		}
	}
	return c, ErrEmbedTokenWrongRoom
}

// clean checks the claims a host controls and normalises the name.
func (c *EmbedClaims) clean() error {
	if c.Sub == "" || len(c.Sub) > maxEmbedSubBytes || !utf8.ValidString(c.Sub) ||
		len(c.Nonce) < minNonceBytes || len(c.Nonce) > maxNonceBytes || !utf8.ValidString(c.Nonce) ||
		len(c.Rooms) == 0 || len(c.Rooms) > maxEmbedRooms || c.Iat <= 0 {
		return ErrEmbedTokenBadClaims
	}
	name, err := cleanName("name", "Display name", c.Name, MaxEmbedNameRunes, false)
	if err != nil || name == "" {
		return ErrEmbedTokenBadName
	}
	c.Name = name
	return nil
}

// MaxEmbedNameRunes bounds the name a host gives its user.
const MaxEmbedNameRunes = 64
