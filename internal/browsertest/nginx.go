package browsertest

import (
	"os"
	"os/exec"
	"testing"
)

// missingNginx is both the skip message and the note of a proxy test.
const missingNginx = "proxy tests skipped: nginx not found; install it (apt-get install nginx) or set NGINX to its path"

// Nginx returns the path of nginx, the reverse proxy the proxy tests put
// in front of real servers. Without it the test skips with a note, or
// fails where nothing may skip (CI=true or RTM_REQUIRE_BROWSER=1), as
// browser tests do.
func Nginx(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("proxy test skipped in -short mode")
	}
	path := os.Getenv("NGINX")
	if path == "" {
		path, _ = exec.LookPath("nginx")
	}
	if path == "" {
		path, _ = exec.LookPath("/usr/sbin/nginx")
	}
	if path != "" {
		return path
	}
	if required(os.Getenv) {
		t.Fatal("nginx not found, and proxy tests may not skip here (CI=true or RTM_REQUIRE_BROWSER=1): install it (apt-get install -y nginx) or set NGINX to its path")
	}
	if err := leaveNote(os.Getenv(NotesEnv), missingNginx); err != nil {
		t.Logf("browsertest: %v", err)
	}
	t.Skip(missingNginx)
	return ""
}
