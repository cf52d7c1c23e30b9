package redisbus

import (
	"math"
	"reflect"
	"testing"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	for _, e := range []envelope{
		{origin: 1, seq: 1, body: body{op: opPublish, a: 10, id: 7, data: []byte("<p>hi</p>")}},
		{origin: math.MaxUint64, seq: math.MaxUint64, body: body{op: opPublishExcept, a: math.MaxInt64, b: -3, id: math.MinInt64, data: []byte{}}},
		{origin: 42, seq: 9, body: body{op: opEndSession, a: 5, data: []byte("token")}},
		{origin: 42, seq: 10, body: body{op: opResync, data: []byte{}}},
		{origin: 42, seq: 11, body: body{op: opPublishSidebar, a: 5, b: 10, id: 99, data: []byte("<span>1</span>")}},
	} {
		got, err := decode(e.appendTo(nil))
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Errorf("decode(encode(%+v)) = %+v, %v", e, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {version}, {2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, {version, 99, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, {version, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x80}} {
		if _, err := decode(bad); err == nil {
			t.Errorf("decode(%v) accepted it", bad)
		}
	}
}

// FuzzEnvelope: any bytes decode without panicking, and what decodes
// encodes back to the same bytes' meaning.
func FuzzEnvelope(f *testing.F) {
	f.Add((&envelope{origin: 3, seq: 4, body: body{op: opJoin, a: 1, b: 2}}).appendTo(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := decode(p)
		if err != nil {
			return
		}
		again, err := decode(e.appendTo(nil))
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("%+v re-decoded as %+v, %v", e, again, err)
		}
	})
}
