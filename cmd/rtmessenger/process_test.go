package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The real binary, built once for the tests that signal or kill it.
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "rtm-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "rtmessenger")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func removeBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// proc is the server binary running as its own process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	done chan error
	log  serverLog
}

// freeAddr returns a loopback address that was free a moment ago, so a
// restarted server can take the same one.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startProc(t *testing.T, addr, db string, args ...string) *proc {
	t.Helper()
	args = append([]string{"-addr", addr, "-db", db, "-password-memory", "64"}, args...)
	cmd := exec.Command(serverBinary(t), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, done: make(chan error, 1)}
	urls := make(chan string, 1)
	echo := os.Getenv("RTM_TEST_LOG") != ""
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.log.add(sc.Text())
			if echo {
				t.Log(sc.Text())
			}
			if u := listeningURL(sc.Text()); u != "" {
				urls <- u
			}
		}
		io.Copy(io.Discard, out)
		p.done <- cmd.Wait()
	}()
	select {
	case p.url = <-urls:
	case err := <-p.done:
		t.Fatalf("server exited at start: %v", err)
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// kill ends the process as a crash would: no shutdown at all.
func (p *proc) kill() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// terminate sends SIGTERM and returns how long the process took to exit.
func (p *proc) terminate() (time.Duration, error) {
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return time.Since(start), err
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		return time.Since(start), fmt.Errorf("no exit within 15s of SIGTERM")
	}
}
