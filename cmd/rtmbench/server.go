package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// server is the rtmessenger binary under test, on loopback only.
type server struct {
	cmd      *exec.Cmd
	url      string // http://127.0.0.1:port
	addr     string
	debugURL string
	exited   chan error
}

var listeningRE = regexp.MustCompile(`msg=listening url=(http://\S+)`)
var debugRE = regexp.MustCompile(`msg="debug endpoints" url=(http://\S+)`)

func freeLoopback() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer runs the binary with the benchmark's settings: no rate
// limits, room for many tabs. Only its warnings and errors are shown.
func startServer(bin, db string, extra ...string) (*server, error) {
	addr, err := freeLoopback()
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"-addr", addr, "-db", db, "-debug-addr", "127.0.0.1:0",
		"-post-rate", "0", "-login-rate", "0", "-stream-rate", "0", "-max-tabs", "1000",
		"-replay-limit", "100000", "-anon-conns-per-ip", "0", "-anon-conns", "0",
	}, extra...)
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, addr: addr, exited: make(chan error, 1)}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if m := debugRE.FindStringSubmatch(line); m != nil {
				s.debugURL = m[1]
			}
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				s.url = m[1]
			}
			if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
				fmt.Fprintln(os.Stderr, "server:", line)
			}
			if !sent && s.url != "" && s.debugURL != "" {
				sent = true
				close(found)
			}
		}
		io.Copy(io.Discard, out)
		s.exited <- cmd.Wait()
	}()
	select {
	case <-found:
		if !isLoopback(s.url) || !isLoopback(s.debugURL) {
			cmd.Process.Kill()
			return nil, fmt.Errorf("server is not on loopback: %s", s.url)
		}
	case err := <-s.exited:
		return nil, fmt.Errorf("server exited: %v", err)
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("server did not start")
	}
	return s, nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// usage reads the server's CPU time and resident memory from /proc.
type usage struct {
	cpu time.Duration
	rss int64 // bytes
}

func (s *server) usage() (usage, error) { return procUsage(s.cmd.Process.Pid) }

// procUsage reads a process's CPU time and resident memory from /proc.
func procUsage(pid int) (usage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}, err
	}
	// Fields after the parenthesised command name; utime and stime are the
	// 14th and 15th fields of the whole line, in clock ticks (100 a second).
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return usage{}, err
	}
	var rssKB int64
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rssKB, _ = strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
		}
	}
	return usage{cpu: time.Duration(ut+st) * 10 * time.Millisecond, rss: rssKB << 10}, nil
}

// vars reads the server's /debug/vars counters.
func (s *server) vars(ctx context.Context) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", s.debugURL+"vars", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v map[string]float64
	return v, json.NewDecoder(resp.Body).Decode(&v)
}

// gc asks the server for a garbage collection via pprof's heap endpoint,
// so RSS readings are taken at a steady point.
func (s *server) gc(ctx context.Context) {
	req, _ := http.NewRequestWithContext(ctx, "GET", s.debugURL+"pprof/heap?gc=1", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// profile saves a profile of the server over d into path, in the
// background; kind is profile (CPU), block or mutex. Wait on the returned
// channel for it to finish.
func (s *server) profile(ctx context.Context, kind string, d time.Duration, path string) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- fetchTo(ctx, fmt.Sprintf("%spprof/%s?seconds=%d", s.debugURL, kind, int(d.Seconds())), path)
	}()
	return done
}

// fetchTo saves what the server answers at url into the file at path.
func fetchTo(ctx context.Context, url, path string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// isLoopback reports whether a URL's host is a loopback address: the
// generator never loads anything else.
func isLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
