package metrics

import (
	"testing"
	"time"
)

// What a hook costs on the path it sits on.
func BenchmarkMessagePosted(b *testing.B) {
	m := New()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.MessagePosted(3 * time.Millisecond)
		}
	})
}

func BenchmarkMessageRefused(b *testing.B) {
	m := New()
	for b.Loop() {
		m.MessageRefused("rate_limited")
	}
}

func BenchmarkDelivered(b *testing.B) {
	h := New().Hub()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Delivered(20)
		}
	})
}
