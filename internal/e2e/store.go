package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/rtmessenger/rtmessenger/store"
)

// PostDirectly writes n messages "prefix 0", "prefix 1", ... as user into
// their room named room, straight into the database, as if other nodes had
// posted them. Call it while the server is stopped, or for messages the
// running server should only find on the next page load.
func PostDirectly(t *testing.T, db, user, room string, n int, prefix string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, _, err := st.UserByName(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	joined, _, err := st.Rooms(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range joined {
		if r.Name != room {
			continue
		}
		for i := range n {
			if _, err := st.PostMessage(ctx, r.ID, u, fmt.Sprint(prefix, " ", i), ""); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	t.Fatalf("%s is not in %s", user, room)
}
