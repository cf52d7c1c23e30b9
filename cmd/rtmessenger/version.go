package main

import "runtime/debug"

// version is set by make dist (-ldflags "-X main.version=..."), from git
// describe. Without it the build's own record is used.
var version = ""

// buildVersion is what -version prints and the log's first line carries.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	return versionOf(version, info, ok)
}

// versionOf picks the version: the one stamped in at link time, else the
// module version the go command recorded (a tag, or a pseudo-version from
// the commit since Go 1.24), else the commit, else "devel".
func versionOf(stamped string, info *debug.BuildInfo, ok bool) string {
	if stamped != "" {
		return stamped
	}
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value[:min(12, len(s.Value))]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return "devel"
	}
	return rev + dirty
}
