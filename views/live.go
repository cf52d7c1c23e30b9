package views

import (
	"strconv"

	"github.com/rtmessenger/rtmessenger/chat"
)

// presenceGroup is the users whose presence became state, space-separated.
type presenceGroup struct {
	state chat.Presence
	users string
}

// presenceGroups groups changes by state: online, away, offline.
func presenceGroups(changes []chat.PresenceChange) []presenceGroup {
	var groups []presenceGroup
	for _, state := range []chat.Presence{chat.PresenceOnline, chat.PresenceAway, chat.PresenceOffline} {
		var b []byte
		for _, c := range changes {
			if c.State != state {
				continue
			}
			if len(b) > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendInt(b, c.User, 10)
		}
		if len(b) > 0 {
			groups = append(groups, presenceGroup{state, string(b)})
		}
	}
	return groups
}
