// Package proxy holds browser tests through a real reverse proxy: Debian's
// nginx, run with the project's own site configuration (deploy/nginx.conf)
// in front of real servers.
package proxy

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
