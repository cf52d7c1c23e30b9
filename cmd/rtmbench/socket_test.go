package main

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"slices"
	"testing"
)

// The feed hands each message over whole, as soon as the inflater has put
// it out: this leans on compress/flate handing out everything it holds
// at an empty stored block before it reads on, which a later Go could
// change.
func TestTheFeedHandsOverEachMessageWhole(t *testing.T) {
	var want []string
	in := make(chan wsMessage, 100)
	var out bytes.Buffer
	fw, _ := flate.NewWriter(&out, flate.BestSpeed)
	for i := range 50 {
		msg := fmt.Sprintf(`{"id":%d,"content":"<p>message %d, %s</p>"}`, i, i, bytes.Repeat([]byte("la "), i*40))
		want = append(want, msg)
		if i%10 == 3 { // plain messages pass by the inflater
			in <- wsMessage{payload: []byte(msg)}
			continue
		}
		out.Reset()
		fw.Write([]byte(msg))
		fw.Flush()
		in <- wsMessage{payload: bytes.Clone(bytes.TrimSuffix(out.Bytes(), []byte{0, 0, 0xff, 0xff})), compressed: true}
	}
	var got []string
	received := make(chan struct{}, 100)
	feed := &deflateFeed{in: in, whole: func(b []byte) { got = append(got, string(b)); received <- struct{}{} }}
	fr := flate.NewReader(feed)
	done := make(chan error)
	go func() {
		buf := make([]byte, 512)
		for {
			n, err := fr.Read(buf)
			feed.out = append(feed.out, buf[:n]...)
			if err != nil {
				done <- err
				return
			}
		}
	}()
	for range want { // each arrives before the feed is closed: none waits for the next
		<-received
	}
	close(in)
	if err := <-done; err != io.ErrUnexpectedEOF && err != io.EOF {
		t.Fatalf("the end: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %d messages, want %d; first: %.60q", len(got), len(want), got)
	}
}
