package hub

import (
	"bytes"
	"strconv"
)

// appendEvent frames an SSE event: id first, every data line prefixed, then
// the event name and a blank line, as r3labs does with SplitData on.
func appendEvent(b []byte, id int64, event string, data []byte) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, '\n')
	data = cleanData(data)
	for {
		line, rest, more := bytes.Cut(data, []byte("\n"))
		b = append(b, "data: "...)
		b = append(b, line...)
		b = append(b, '\n')
		if !more {
			break
		}
		data = rest
	}
	if event != "" {
		b = append(b, "event: "...)
		b = append(b, event...)
		b = append(b, '\n')
	}
	return append(b, '\n')
}
