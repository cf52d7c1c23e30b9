package chat

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestEmbedTokens(t *testing.T) {
	secret := []byte("the site's secret")
	now := time.Unix(1_800_000_000, 0)
	good := EmbedClaims{Site: 3, Sub: "user-42", Name: "  Dana  ", Rooms: []int64{7, 9}, Iat: now.Unix() - 5, Exp: now.Unix() + 595, Nonce: "n0nce-1234"}
	sign := func(c EmbedClaims) string {
		tok, err := SignEmbedToken(secret, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	with := func(change func(*EmbedClaims)) string {
		c := good
		c.Rooms = append([]int64(nil), good.Rooms...)
		change(&c)
		return sign(c)
	}
	goodToken := sign(good)
	payload, _, _ := strings.Cut(goodToken, ".")
	cases := []struct {
		name  string
		token string
		room  int64
		at    time.Time
		want  error
	}{
		{"good", goodToken, 7, now, nil},
		{"good, another granted room", goodToken, 9, now, nil},
		{"good, host clock a little behind", goodToken, 7, now.Add(-50 * time.Second), nil},
		{"expired", with(func(c *EmbedClaims) { c.Iat, c.Exp = now.Unix()-700, now.Unix()-100 }), 7, now, ErrEmbedTokenExpired},
		{"expired just now (past the minute of skew)", goodToken, 7, now.Add(596*time.Second + time.Minute), ErrEmbedTokenExpired},
		{"not yet valid", with(func(c *EmbedClaims) { c.Iat, c.Exp = now.Unix()+300, now.Unix()+600 }), 7, now, ErrEmbedTokenNotYet},
		{"lives over 10 minutes", with(func(c *EmbedClaims) { c.Exp = c.Iat + 601 }), 7, now, ErrEmbedTokenTooLong},
		{"wrong site", with(func(c *EmbedClaims) { c.Site = 4 }), 7, now, ErrEmbedTokenWrongSite},
		{"wrong room", goodToken, 8, now, ErrEmbedTokenWrongRoom},
		{"bad signature", payload + "." + base64.RawURLEncoding.EncodeToString([]byte("not the mac at all, 32 bytes....")), 7, now, ErrEmbedTokenSignature},
		{"signed with another secret", func() string { tok, _ := SignEmbedToken([]byte("other"), good); return tok }(), 7, now, ErrEmbedTokenSignature},
		{"claims changed after signing", base64.RawURLEncoding.EncodeToString([]byte(`{"site":3,"sub":"admin","name":"Dana","rooms":[7],"iat":1799999995,"exp":1800000595,"nonce":"n0nce-1234"}`)) + goodToken[len(payload):], 7, now, ErrEmbedTokenSignature},
		{"oversized", strings.Repeat("a", MaxEmbedTokenBytes+1), 7, now, ErrEmbedTokenOversized},
		{"malformed: no dot", payload, 7, now, ErrEmbedTokenMalformed},
		{"malformed: not base64", "!!!." + "abc", 7, now, ErrEmbedTokenMalformed},
		{"malformed: not JSON", base64.RawURLEncoding.EncodeToString([]byte("hello")) + ".abc", 7, now, ErrEmbedTokenMalformed},
		{"malformed: unknown claim", base64.RawURLEncoding.EncodeToString([]byte(`{"site":3,"admin":true}`)) + ".abc", 7, now, ErrEmbedTokenMalformed},
		{"empty", "", 7, now, ErrEmbedTokenMalformed},
		{"no user id", with(func(c *EmbedClaims) { c.Sub = "" }), 7, now, ErrEmbedTokenBadClaims},
		{"short nonce", with(func(c *EmbedClaims) { c.Nonce = "abc" }), 7, now, ErrEmbedTokenBadClaims},
		{"no rooms", with(func(c *EmbedClaims) { c.Rooms = nil }), 7, now, ErrEmbedTokenBadClaims},
		{"name with a direction override", with(func(c *EmbedClaims) { c.Name = "Dana\u202Eevil" }), 7, now, ErrEmbedTokenBadName},
		{"name of two lines", with(func(c *EmbedClaims) { c.Name = "Dana\nAdmin" }), 7, now, ErrEmbedTokenBadName},
		{"blank name", with(func(c *EmbedClaims) { c.Name = "   " }), 7, now, ErrEmbedTokenBadName},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := VerifyEmbedToken(tc.token, secret, 3, tc.room, tc.at)
			if err != tc.want {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err == nil && (c.Sub != "user-42" || c.Name != "Dana") {
				t.Fatalf("claims %+v", c)
			}
			if err != nil && CodeOf(err) != Unauthorized {
				t.Fatalf("%v is not Unauthorized", err)
			}
		})
	}
}

func TestSiteSettings(t *testing.T) {
	for in, want := range map[string]string{
		"https://Help.Example.com/": "https://help.example.com",
		"http://localhost:8081":     "http://localhost:8081",
	} {
		if got, err := CleanOrigin(in); err != nil || got != want {
			t.Errorf("CleanOrigin(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "help.example.com", "ftp://x.example", "https://x.example/path", "https://user@x.example",
		"https://x.example?q", "https://*.example.com", "javascript:alert(1)", "https://x.example 'self'"} {
		if _, err := CleanOrigin(bad); err == nil {
			t.Errorf("CleanOrigin(%q) accepted", bad)
		}
	}
	if _, err := CleanTheme(Theme{Accent: "red"}); err == nil {
		t.Error("a named colour passed")
	}
	if _, err := CleanTheme(Theme{Accent: "#fff;background:url(x)"}); err == nil {
		t.Error("CSS injection passed")
	}
	if _, err := CleanTheme(Theme{Font: "huge"}); err == nil {
		t.Error("an unknown font size passed")
	}
	site := Theme{Accent: "#123456", Font: "small"}
	got := site.Over(Theme{Accent: "#ABC", Bg: "url(x)", Density: "roomy", Scheme: "sepia"})
	if got != (Theme{Accent: "#abc", Font: "small", Density: "roomy"}) {
		t.Errorf("host picks: %+v", got)
	}
	s := Site{Rooms: []int64{7}}
	if !s.Allows(7, KindRoom) || s.Allows(8, KindRoom) || s.Allows(7, KindGroup) {
		t.Error("Allows with listed rooms")
	}
	s = Site{AllPublic: true}
	if !s.Allows(8, KindRoom) || s.Allows(8, KindDirect) {
		t.Error("Allows with all public rooms")
	}
	if (Site{AllPublic: true, Disabled: true}).Allows(8, KindRoom) {
		t.Error("a disabled site allows a room")
	}
}
