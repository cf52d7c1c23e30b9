package views

import (
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
)

// A change made with `rtmessenger admin` has no account behind it: the
// audit trail names the command line.
func TestAuditTrailNamesTheCommandLine(t *testing.T) {
	admin := chat.User{ID: 1, Name: "alice", Admin: true}
	out := render(t, PersonView(PersonPage{Page: Page{User: &admin}, Person: chat.Person{User: chat.User{ID: 2, Name: "bob"}},
		Changes: []chat.ProfileChange{
			{User: "bob", By: "", Field: "admin", Old: "no", New: "yes"},
			{User: "bob", By: "alice", Field: "account", Old: "active", New: "deactivated"},
		}}))
	out = strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"<td>command line</td><td>Admin</td>", "<td>alice</td><td>Account</td>"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit trail lacks %q:\n%s", want, out)
		}
	}
}
