package handlers

import (
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

func TestSessionCodec(t *testing.T) {
	deadline := time.Unix(1_800_000_000, 123)
	in := map[string]any{"uid": int64(42), "seen": int64(-7)}
	b, err := sessionCodec{}.Encode(deadline, in)
	if err != nil {
		t.Fatal(err)
	}
	d, out, err := sessionCodec{}.Decode(b)
	if err != nil || !d.Equal(deadline) || out["uid"] != int64(42) || out["seen"] != int64(-7) || len(out) != 2 {
		t.Fatalf("round trip: %v %v %v", d, out, err)
	}
	old, _ := scs.GobCodec{}.Encode(deadline, in)
	if d, out, err := (sessionCodec{}).Decode(old); err != nil || !d.Equal(deadline) || out["uid"] != int64(42) {
		t.Fatalf("gob data must still decode: %v %v %v", d, out, err)
	}
	if _, err := (sessionCodec{}).Encode(deadline, map[string]any{"x": "string"}); err == nil {
		t.Fatal("non-int64 values must be refused")
	}
	for i := 1; i < len(b); i++ {
		if _, _, err := (sessionCodec{}).Decode(b[:i]); err == nil {
			t.Fatalf("truncated data (%d of %d bytes) decoded", i, len(b))
		}
	}
}

func BenchmarkSessionDecode(b *testing.B) {
	deadline := time.Now()
	values := map[string]any{"uid": int64(42), "seen": time.Now().Unix()}
	for _, c := range []struct {
		name  string
		codec scs.Codec
	}{{"binary", sessionCodec{}}, {"gob", scs.GobCodec{}}} {
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
