package sessiondata

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Codec encodes sessions in a small binary form: every request
// decodes its session, and gob, scs's default, spends more time on that than
// the rest of a post. Sessions hold int64 values, and now and then a string
// (a refused form kept for the page it goes back to, handlers/kept.go). Data in gob
// form (written before this codec) still decodes.
type Codec struct{}

const (
	// codecMagic starts data of int64 values only. A gob stream starts with
	// its length, a byte below 0x80 or from 0xF8 up, so neither magic
	// byte can start one.
	codecMagic = 0xA7
	// codecTagged starts data whose values each begin with a type byte: a
	// session holding a string. Sessions without one keep the older,
	// tag-free form, so the common case stays as small and fast as before.
	codecTagged = 0xA8
	tagInt64    = 0
	tagString   = 1
)

// Encode is scs.Codec's Encode.
func (Codec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	size, tagged := 16, false
	for k, v := range values {
		switch v := v.(type) {
		case int64:
			size += len(k) + 12
		case string:
			size += len(k) + len(v) + 12
			tagged = true
		default:
			return nil, fmt.Errorf("session value %q is %T; only int64 and string are stored", k, v)
		}
	}
	b := make([]byte, 0, size)
	if tagged {
		b = append(b, codecTagged)
	} else {
		b = append(b, codecMagic)
	}
	b = binary.AppendVarint(b, deadline.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(values)))
	for k, v := range values {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		switch v := v.(type) {
		case int64:
			if tagged {
				b = append(b, tagInt64)
			}
			b = binary.AppendVarint(b, v)
		case string:
			b = append(b, tagString)
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		}
	}
	return b, nil
}

var errBadSession = errors.New("malformed session data")

// Decode is scs.Codec's Decode.
func (Codec) Decode(b []byte) (time.Time, map[string]any, error) {
	if len(b) == 0 || (b[0] != codecMagic && b[0] != codecTagged) {
		return scs.GobCodec{}.Decode(b)
	}
	tagged := b[0] == codecTagged
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
		tag := byte(tagInt64)
		if tagged {
			if len(b) == 0 {
				return time.Time{}, nil, errBadSession
			}
			tag, b = b[0], b[1:]
		}
		switch tag {
		case tagInt64:
			v, n := binary.Varint(b)
			if n <= 0 {
				return time.Time{}, nil, errBadSession
			}
			b = b[n:]
			values[key] = v
		case tagString:
			slen, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < slen {
				return time.Time{}, nil, errBadSession
			}
			values[key] = string(b[n : n+int(slen)])
			b = b[n+int(slen):]
		default:
			return time.Time{}, nil, errBadSession
		}
	}
	return time.Unix(0, deadline), values, nil
}
