// Package e2e runs the real server binary for browser tests and drives
// Chromium tabs against it. The tests live in the packages below it, one
// per area of the product (rooms, reconnect, people, xss): `go test ./...`
// runs packages side by side, so several small packages finish sooner than
// one large one, and none comes near its timeout.
//
// Each test package builds the server once (with -race when the tests run
// with it, so the server is checked for races as before), or uses the one
// `make test` builds for all of them ($RTM_E2E_SERVER), and starts it as
// a process per test, on a free port with a fresh database. A server that
// reports a data race or exits badly fails the test.
//
// A new browser test goes into the package of its area, or into a new
// package beside the others with the same one-line TestMain:
//
//	func TestMain(m *testing.M) { e2e.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		browser := browsertest.Start(t) // first: without Chromium the test skips before building anything
//		s := e2e.Start(t, "-max-tabs", "2")
//		anna := e2e.OpenTab(t, browser, s)
//		anna.Signup("anna")
//		anna.WaitFor("the rooms page", `location.pathname === '/rooms'`)
//	}
package e2e
