package sessiondata

import (
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

func TestSessionCodec(t *testing.T) {
	deadline := time.Unix(1_800_000_000, 123)
	in := map[string]any{"uid": int64(42), "seen": int64(-7)}
	b, err := Codec{}.Encode(deadline, in)
	if err != nil {
		t.Fatal(err)
	}
	d, out, err := Codec{}.Decode(b)
	if err != nil || !d.Equal(deadline) || out["uid"] != int64(42) || out["seen"] != int64(-7) || len(out) != 2 {
		t.Fatalf("round trip: %v %v %v", d, out, err)
	}
	old, _ := scs.GobCodec{}.Encode(deadline, in)
	if d, out, err := (Codec{}).Decode(old); err != nil || !d.Equal(deadline) || out["uid"] != int64(42) {
		t.Fatalf("gob data must still decode: %v %v %v", d, out, err)
	}
	if _, err := (Codec{}).Encode(deadline, map[string]any{"x": 1.5}); err == nil {
		t.Fatal("values other than int64 and string must be refused")
	}
	// A string (a kept form) switches to the tagged form; int64 values
	// beside it survive.
	withText := map[string]any{"uid": int64(42), "kept": `{"body":"héllo\n"}`, "empty": ""}
	tb, err := Codec{}.Encode(deadline, withText)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != codecMagic || tb[0] != codecTagged {
		t.Fatalf("magic bytes %#x and %#x", b[0], tb[0])
	}
	d, out, err = Codec{}.Decode(tb)
	if err != nil || !d.Equal(deadline) || len(out) != 3 || out["uid"] != int64(42) || out["kept"] != withText["kept"] || out["empty"] != "" {
		t.Fatalf("tagged round trip: %v %v %v", d, out, err)
	}
	for _, data := range [][]byte{b, tb} {
		for i := 1; i < len(data); i++ {
			if _, _, err := (Codec{}).Decode(data[:i]); err == nil {
				t.Fatalf("truncated data (%d of %d bytes, magic %#x) decoded", i, len(data), data[0])
			}
		}
	}
}

func BenchmarkSessionDecode(b *testing.B) {
	deadline := time.Now()
	values := map[string]any{"uid": int64(42), "seen": time.Now().Unix()}
	for _, c := range []struct {
		name  string
		codec scs.Codec
	}{{"binary", Codec{}}, {"gob", scs.GobCodec{}}} {
		data, _ := c.codec.Encode(deadline, values)
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := c.codec.Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A minted session decodes to its values and expiry, under a token fit
// for a cookie, and no two tokens are alike.
func TestMint(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	token, data, expiry, err := Mint(SignedIn(7, now), now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !expiry.Equal(now.Add(time.Hour)) || len(token) != 43 || strings.ContainsAny(token, "+/=") {
		t.Fatalf("token %q, expiry %v", token, expiry)
	}
	d, values, err := Codec{}.Decode(data)
	if err != nil || !d.Equal(expiry) || len(values) != 2 || values[UserKey] != int64(7) || values[SeenKey] != now.Unix() {
		t.Fatalf("decoded %v %v %v", d, values, err)
	}
	if other, _, _, _ := Mint(SignedIn(7, now), now, time.Hour); other == token {
		t.Fatal("two mints gave one token")
	}
}
