// Package xss holds browser tests that hostile text stays text and that
// the Content-Security-Policy is never tripped. Hostile inputs come from
// internal/attack: add a case there and these tests try it everywhere.
package xss

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
