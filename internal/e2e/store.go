package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/store"
)

// PostDirectly writes n messages "prefix 0", "prefix 1", ... as user into
// their room named room, straight into the database, as if other nodes had
// posted them. Call it while the server is stopped, or for messages the
// running server should only find on the next page load.
func PostDirectly(t *testing.T, db, user, room string, n int, prefix string) {
	t.Helper()
	bodies := make([]string, n)
	for i := range n {
		bodies[i] = fmt.Sprint(prefix, " ", i)
	}
	postAt(t, db, user, room, nil, bodies)
}

// PostAt writes a message as PostDirectly does, sent at a known time.
func PostAt(t *testing.T, db, user, room string, at time.Time, body string) {
	t.Helper()
	postAt(t, db, user, room, func() time.Time { return at }, []string{body})
}

func postAt(t *testing.T, db, user, room string, now func() time.Time, bodies []string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{Now: now})
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
		for _, body := range bodies {
			if _, err := st.PostMessage(ctx, r.ID, u, body, ""); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	t.Fatalf("%s is not in %s", user, room)
}
