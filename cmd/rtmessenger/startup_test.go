package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// On start the server says where to open it, and while its database holds
// no account, that the first one becomes the admin: "new" for a file it
// just made, "no accounts yet" for one that was there.
func TestStartupSaysWhereToOpenAndWhoBecomesAdmin(t *testing.T) {
	db := filepath.Join(t.TempDir(), "fresh.db")
	admin := ": the first account you create becomes the admin"
	for _, step := range []struct {
		want, not string
		signup    bool
	}{
		{want: "new database at " + db + admin},
		{want: "no accounts yet in " + db + admin, not: "new database", signup: true},
		{not: admin},
	} {
		s := startServer(t, db)
		if step.signup {
			s.signup("anna")
		}
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
		log := strings.Join(s.log.all(t), "\n")
		if !strings.Contains(log, "ready: open "+s.url+"/") {
			t.Errorf("no address to open in:\n%s", log)
		}
		if step.want != "" && !strings.Contains(log, step.want) {
			t.Errorf("want %q in:\n%s", step.want, log)
		}
		if step.not != "" && strings.Contains(log, step.not) {
			t.Errorf("want no %q in:\n%s", step.not, log)
		}
	}
}

func TestOpenURL(t *testing.T) {
	for _, tc := range []struct {
		public, addr, want string
	}{
		{"", "127.0.0.1:8080", "http://127.0.0.1:8080/"},
		{"", "0.0.0.0:8080", "http://127.0.0.1:8080/"},
		{"", "[::]:8080", "http://127.0.0.1:8080/"},
		{"", "[::1]:8080", "http://[::1]:8080/"},
		{"https://chat.example.com/", "127.0.0.1:8080", "https://chat.example.com/"},
		{"https://chat.example.com", "127.0.0.1:8080", "https://chat.example.com/"},
	} {
		addr, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := openURL(config{publicURL: tc.public}, "http", addr); got != tc.want {
			t.Errorf("%q on %s: %q, want %q", tc.public, tc.addr, got, tc.want)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-version"}, func(string) string { return "" }, &out); err != nil {
		t.Fatal(err)
	}
	if want := "rtmessenger " + buildVersion() + "\n"; out.String() != want {
		t.Errorf("-version printed %q, want %q", out.String(), want)
	}
	defer func(v string) { version = v }(version)
	version = "v1.2.3-4-gabcdef0-dirty" // as make dist stamps it
	out.Reset()
	if err := run(context.Background(), []string{"-version"}, func(string) string { return "" }, &out); err != nil || out.String() != "rtmessenger v1.2.3-4-gabcdef0-dirty\n" {
		t.Errorf("-version with a stamped version printed %q, %v", out.String(), err)
	}
}

func TestVersionOf(t *testing.T) {
	vcs := func(main string, settings ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{Main: debug.Module{Version: main}}
		for i := 0; i < len(settings); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return info
	}
	rev := "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		stamped string
		info    *debug.BuildInfo
		ok      bool
		want    string
	}{
		{"v1.0.0", vcs("(devel)"), true, "v1.0.0"},
		{"", nil, false, "devel"},
		{"", vcs("(devel)"), true, "devel"},
		{"", vcs("v1.4.0"), true, "v1.4.0"},
		{"", vcs("(devel)", "vcs.revision", rev, "vcs.modified", "false"), true, "0123456789ab"},
		{"", vcs("", "vcs.revision", rev, "vcs.modified", "true"), true, "0123456789ab-dirty"},
	} {
		if got := versionOf(tc.stamped, tc.info, tc.ok); got != tc.want {
			t.Errorf("versionOf(%q, %+v): %q, want %q", tc.stamped, tc.info, got, tc.want)
		}
	}
}
