package handlers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
)

// sessionCodec encodes sessions in a small binary form: every request
// decodes its session, and gob, scs's default, spends more time on that than
// the rest of a post. Sessions here only ever hold int64 values. Data in
// gob form (written before this codec) still decodes.
type sessionCodec struct{}

const codecMagic = 0xA7 // never the first byte of a gob stream for scs's data

func (sessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	b := make([]byte, 0, 16+len(values)*16)
	b = append(b, codecMagic)
	b = binary.AppendVarint(b, deadline.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(values)))
	for k, v := range values {
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("session value %q is %T; only int64 is stored", k, v)
		}
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendVarint(b, n)
	}
	return b, nil
}

var errBadSession = errors.New("malformed session data")

func (sessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if len(b) == 0 || b[0] != codecMagic {
		return scs.GobCodec{}.Decode(b)
	}
	b = b[1:]
	deadline, n := binary.Varint(b)
	if n <= 0 {
		return time.Time{}, nil, errBadSession
	}
	b = b[n:]
	count, n := binary.Uvarint(b)
	if n <= 0 || count > 64 {
		return time.Time{}, nil, errBadSession
	}
	b = b[n:]
	values := make(map[string]any, count)
	for range count {
		klen, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < klen {
			return time.Time{}, nil, errBadSession
		}
		key := string(b[n : n+int(klen)])
		b = b[n+int(klen):]
		v, n := binary.Varint(b)
		if n <= 0 {
			return time.Time{}, nil, errBadSession
		}
		b = b[n:]
		values[key] = v
	}
	return time.Unix(0, deadline), values, nil
}
