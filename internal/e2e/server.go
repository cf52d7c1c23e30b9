package e2e

import (
	"bufio"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Generous limits: they only decide how long a broken test takes to fail,
// and a machine running other test suites at the same time is slow.
const (
	startLimit = 60 * time.Second // from exec to "listening", building included separately
	stopLimit  = 20 * time.Second // SIGTERM to exit; the server's own grace is 4 s
)

// build is the server binary, built once per test binary by the first test
// that starts a server, and removed by Main.
var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// prebuilt names a server binary built for the whole run (`make test`
// builds one, with the same race setting as the tests), so that each of
// the browser packages does not build its own.
const prebuilt = "RTM_E2E_SERVER"

const serverPackage = "github.com/rtmessenger/rtmessenger/cmd/rtmessenger"

// raceFlags build the server under -race as the Makefile's RACE does
// (a test holds the two lists equal): SQLite's translated C with its C
// runtime and allocator, the brotli encoder and the minifier are left
// uninstrumented.
var raceFlags = []string{"-race",
	"-gcflags=modernc.org/sqlite/lib=-race=false", "-gcflags=modernc.org/libc/...=-race=false", "-gcflags=modernc.org/memory=-race=false",
	"-gcflags=github.com/andybalholm/brotli/...=-race=false", "-gcflags=github.com/tdewolff/...=-race=false"}

func binary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		if path := os.Getenv(prebuilt); path != "" {
			build.path, build.err = checkPrebuilt(path)
			return
		}
		build.dir, build.err = os.MkdirTemp("", "rtm-e2e-")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "rtmessenger")
		args := []string{"build", "-o", build.path}
		if raceEnabled {
			args = append(args, raceFlags...)
		}
		args = append(args, serverPackage)
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// checkPrebuilt refuses a prebuilt server that is not the one these tests
// need: another program, or one built without -race while the tests run
// with it (its races would go unreported), as a variable left set from
// another run could name. Reading it also has the test cache note the file.
func checkPrebuilt(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("$%s=%s: give an absolute path", prebuilt, path)
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("$%s: %w", prebuilt, err)
	}
	if info.Path != serverPackage {
		return "", fmt.Errorf("$%s=%s is %s, not the server", prebuilt, path, info.Path)
	}
	race := "false"
	for _, s := range info.Settings {
		if s.Key == "-race" {
			race = s.Value
		}
	}
	if want := strconv.FormatBool(raceEnabled); race != want {
		return "", fmt.Errorf("$%s=%s was built with -race=%s, and the tests run with -race=%s: build it as they run", prebuilt, path, race, want)
	}
	return path, nil
}

// Main runs a test package's tests, checks that none leaked a goroutine,
// and removes the server binary. Call it from TestMain.
func Main(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if build.dir != "" {
			os.RemoveAll(build.dir)
		}
		os.Exit(code)
	}))
}

// Server is the server binary running as its own process for one test.
type Server struct {
	URL string // base URL, http://127.0.0.1:port
	DB  string // the SQLite file, in the test's temporary directory

	t    *testing.T
	addr string
	args []string
	proc *process // nil while stopped
}

var listening = regexp.MustCompile(`msg=listening url=(\S+)`)

// Start runs the server with args (flags as on the command line) on a
// free loopback port and a fresh database until the test ends.
func Start(t *testing.T, args ...string) *Server {
	t.Helper()
	s := &Server{t: t, DB: filepath.Join(t.TempDir(), "rtm.db"), addr: "127.0.0.1:0", args: args}
	s.start()
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Stop ends the server with SIGTERM, as a supervisor would, and waits for
// it to exit. It reports a data race, a failed exit or a stuck shutdown.
// Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopLimit):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("server did not exit within %v of SIGTERM\n%s", stopLimit, p.log.tail(60))
	}
	if race := p.log.race(); race != "" {
		return fmt.Errorf("the server reported a data race:\n%s", race)
	}
	if p.err != nil {
		return fmt.Errorf("server exit: %v\n%s", p.err, p.log.tail(60))
	}
	return nil
}

var debugEndpoints = regexp.MustCompile(`msg="debug endpoints" url=(\S+)/debug/`)

// Vars reads the server's live counters (/debug/vars: stream_conns,
// stream_users, ...). The server must run with -debug-addr 127.0.0.1:0.
func (s *Server) Vars() map[string]float64 {
	s.t.Helper()
	if s.proc == nil {
		s.t.Fatal("e2e: Vars of a stopped server")
	}
	m := debugEndpoints.FindStringSubmatch(s.proc.log.find(debugEndpoints))
	if m == nil {
		s.t.Fatal("e2e: Vars needs the server started with -debug-addr")
	}
	res, err := http.Get(m[1] + "/debug/vars")
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	vars := map[string]float64{}
	if err := json.NewDecoder(res.Body).Decode(&vars); err != nil {
		s.t.Fatal(err)
	}
	return vars
}

// Restart starts a stopped server again on the same address and database,
// so open pages can reconnect to it.
func (s *Server) Restart() {
	s.t.Helper()
	if s.proc != nil {
		s.t.Fatal("e2e: Restart of a server that is running")
	}
	s.start()
}

func (s *Server) start() {
	t := s.t
	t.Helper()
	args := append([]string{"-addr", s.addr, "-db", s.DB, "-password-memory", "64"}, s.args...)
	cmd := exec.Command(binary(t), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // a race report goes to stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	urls := make(chan string, 1)
	echo := os.Getenv("RTM_TEST_LOG") != "" // show the server's log as it runs
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.log.add(line)
			if echo {
				fmt.Fprintln(os.Stderr, "server:", line) // t.Log would race the test's end
			}
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		p.err = cmd.Wait() // after the pipe is drained, as Wait requires
		close(p.done)
	}()
	select {
	case s.URL = <-urls:
	case <-p.done:
		t.Fatalf("server exited at start: %v\n%s", p.err, p.log.tail(60))
	case <-time.After(startLimit):
		_ = cmd.Process.Kill()
		<-p.done
		t.Fatalf("server did not start within %v\n%s", startLimit, p.log.tail(60))
	}
	s.addr = strings.TrimPrefix(s.URL, "http://") // a restart takes the same port
	s.proc = p
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log, last lines:\n%s", p.log.tail(40))
		}
	})
}

// process is one run of the binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited; err is set then
	err  error
	log  lines
}
