// Package browsertest starts a real headless Chromium for tests. Without
// Chromium a test skips and leaves a note for `make test` to print (see
// notes.go), except where a browser is required (CI=true or
// RTM_REQUIRE_BROWSER=1): there a missing browser is a failure, so CI runs
// every browser test.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Start launches one browser for the test and returns its context. Each
// User opened from it is an isolated profile (own cookies).
// Flags add command-line switches (e.g. "test-third-party-cookie-phaseout"
// to block third-party cookies as browsers that block them do).
func Start(t *testing.T, flags ...string) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	path := chromium()
	if path == "" {
		if required(os.Getenv) {
			t.Fatal("chromium not found, and browser tests may not skip here (CI=true or RTM_REQUIRE_BROWSER=1): install it (apt-get install -y chromium) or set CHROMIUM to its path")
		}
		if err := leaveNote(os.Getenv(NotesEnv), missingBrowser); err != nil {
			t.Logf("browsertest: %v", err) // the skip below still says why
		}
		t.Skip(missingBrowser)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // Debian's chromium runs as root only without it
		chromedp.DisableGPU,
		// The machine's network is closed; these stop Chromium from trying it.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	for _, f := range flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// User opens a tab in a fresh browser profile, as a different person would.
func User(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return ctx
}

// Screenshot saves the tab as a PNG in $RTM_SCREENSHOTS, when set, so a
// person can look at what the test saw.
func Screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	dir := os.Getenv("RTM_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100)) // quality 100 means PNG
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}

func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Problems collects console errors and uncaught exceptions of a tab,
// including Content-Security-Policy violations, from now on.
type Problems struct {
	msgs chan string
}

// WatchConsole starts collecting a tab's problems.
func WatchConsole(tab context.Context) *Problems {
	p := &Problems{msgs: make(chan string, 100)}
	messages := chromedp.Console(tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" || strings.Contains(m.Text, "Content Security Policy") {
				select {
				case p.msgs <- string(m.Type) + ": " + m.Text:
				default:
				}
			}
		}
	}()
	return p
}

// Check fails the test if any problem was seen so far, but for messages
// that contain one of expected (a refusal the test provoked, say).
func (p *Problems) Check(t *testing.T, what string, expected ...string) {
	t.Helper()
	for {
		select {
		case m := <-p.msgs:
			if !containsAny(m, expected) {
				t.Errorf("%s: browser console: %s", what, m)
			}
		default:
			return
		}
	}
}

// Drain returns the problems seen so far and forgets them.
func (p *Problems) Drain() []string {
	var out []string
	for {
		select {
		case m := <-p.msgs:
			out = append(out, m)
		default:
			return out
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// guardJS runs before any page script in every document of a tab: it
// records Content-Security-Policy violations and would-be dialogs.
const guardJS = `(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation',
    (e) => window.__csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));
  window.__dialogs = 0;
  for (const name of ['alert', 'confirm', 'prompt', 'print']) window[name] = () => { window.__dialogs++; };
})()`

// Guard makes every later page of the tab record CSP violations and dialogs
// for Check.
func Guard(t *testing.T, tab context.Context) {
	t.Helper()
	if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: guardJS}); err != nil {
		t.Fatalf("install guard: %v", err)
	}
}

// CheckGuard fails the test if the current page of a guarded tab saw a CSP
// violation or a dialog.
func CheckGuard(t *testing.T, tab context.Context, where string) {
	t.Helper()
	got, err := chromedp.Run(tab, chromedp.Evaluate[string](`JSON.stringify({csp: window.__csp, dialogs: window.__dialogs})`))
	if err != nil {
		t.Fatalf("%s: read guard: %v", where, err)
	}
	if got != `{"csp":[],"dialogs":0}` {
		t.Errorf("%s: %s", where, got)
	}
}
