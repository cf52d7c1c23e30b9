package handlers

import (
	"fmt"
	"reflect"
)

// stores are the parts of the store that each resource's handlers declare
// beside themselves; New takes them all from Deps.Store.
type stores struct {
	accounts      AccountStore
	signIns       SignInStore
	openRooms     OpenRoomStore
	members       MemberStore
	replays       ReplayStore
	announcements AnnouncementStore
	conversations ConversationStore
	people        PeopleStore
	imports       ImportStore
	signInLinks   SignInLinkStore
}

func storesOf(st Store) stores {
	return stores{
		accounts:      storeAs[AccountStore](st),
		signIns:       storeAs[SignInStore](st),
		openRooms:     storeAs[OpenRoomStore](st),
		members:       storeAs[MemberStore](st),
		replays:       storeAs[ReplayStore](st),
		announcements: storeAs[AnnouncementStore](st),
		conversations: storeAs[ConversationStore](st),
		people:        storeAs[PeopleStore](st),
		imports:       storeAs[ImportStore](st),
		signInLinks:   storeAs[SignInLinkStore](st),
	}
}

// orStore is given, or when Deps left it nil, the store's own T.
func orStore[T comparable](given T, st Store) T {
	var none T
	if given != none {
		return given
	}
	return storeAs[T](st)
}

// storeAs is st as a T. A store that lacks one is a wiring mistake, so
// New fails at once, naming what is missing.
func storeAs[T any](st Store) T {
	part, ok := st.(T)
	if !ok {
		panic(fmt.Sprintf("handlers: the store (%T) is no %v", st, reflect.TypeFor[T]()))
	}
	return part
}
