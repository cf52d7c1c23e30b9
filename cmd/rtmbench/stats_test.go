package main

import (
	"testing"
	"time"
)

func TestHistPercentiles(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 500 * time.Millisecond}, {99, 990 * time.Millisecond}, {100, time.Second}} {
		got := h.pct(c.p)
		if diff := got - c.want; diff < -c.want/50 || diff > c.want/50 {
			t.Errorf("p%v = %v, want %v ±2%%", c.p, got, c.want)
		}
	}
	var small hist
	small.add(3 * time.Microsecond)
	if small.pct(50) != 3*time.Microsecond {
		t.Errorf("small values: %v", small.pct(50))
	}
	for _, d := range []time.Duration{time.Microsecond, 65 * time.Microsecond, 10 * time.Millisecond, time.Hour} {
		if v := bucketValue(bucketOf(d)); v > d || v < d-d/60 {
			t.Errorf("bucket of %v is %v", d, v)
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for url, want := range map[string]bool{"http://127.0.0.1:80": true, "http://[::1]:8080/x": true, "http://10.0.0.1:80": false, "http://example.com": false} {
		if isLoopback(url) != want {
			t.Errorf("isLoopback(%q) = %v", url, !want)
		}
	}
}

func TestParseRates(t *testing.T) {
	got, err := parseRates("400, 800,1200")
	if err != nil || len(got) != 3 || got[0] != 400 || got[2] != 1200 {
		t.Fatalf("parseRates = %v, %v", got, err)
	}
	for _, bad := range []string{"", "400,x", "400,300", "0", "-5", "NaN", "400,Inf"} {
		if _, err := parseRates(bad); err == nil {
			t.Errorf("parseRates(%q) took it", bad)
		}
	}
}
