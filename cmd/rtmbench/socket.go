package main

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// dialSocket opens acct's stream over the WebSocket (/ws), reading frames
// on its own goroutine like dialStream.
func dialSocket(ctx context.Context, addr string, acct *account, after int64, seen *seenSet, onEvent func(*stream, delivery)) (*stream, error) {
	h := http.Header{"Cookie": {"rtm_session=" + acct.token}}
	url := "ws://" + addr + "/ws?after=" + strconv.FormatInt(after, 10)
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	s := &stream{acct: acct, ws: ws, done: make(chan struct{}), seen: seen}
	go s.readFrames(onEvent)
	return s, nil
}

func (s *stream) readFrames(onEvent func(*stream, delivery)) {
	defer close(s.done)
	for {
		_, frame, err := s.ws.Read(context.Background())
		if err != nil {
			s.err = err
			return
		}
		s.wire.Add(int64(len(frame)) + 4) // payload and a typical frame header
		id := frameID(frame)
		if id <= 0 {
			continue
		}
		s.lastID.Store(id)
		var ev event
		socketMarkers.scan(frame, &ev)
		if d, ok := ev.delivery(id, time.Now()); ok {
			onEvent(s, d)
		}
	}
}

// frameID reads the id at the start of a frame: {"id":123,...}.
func frameID(frame []byte) int64 {
	rest, ok := bytes.CutPrefix(frame, []byte(`{"id":`))
	if !ok {
		return 0
	}
	end := bytes.IndexByte(rest, ',')
	if end < 0 {
		return 0
	}
	id, _ := strconv.ParseInt(string(rest[:end]), 10, 64)
	return id
}
