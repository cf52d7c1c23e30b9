package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/hub/redisbus"
	"github.com/rtmessenger/rtmessenger/store/postgres"
)

// openBus connects the hub to the other nodes through the Redis named by
// -bus. members reads every membership from the store, for catching up
// after an outage; it is called only once the bus has started, as is
// delivered, which records announcement copies other nodes' relays sent
// that reached a stream here.
func openBus(cfg config, streams *hub.Hub, members func(context.Context, func(chat.Membership)) error, delivered func(int64), log *slog.Logger) (*redisbus.Bus, error) {
	if !postgres.IsURL(cfg.db) {
		log.Warn("-bus with an SQLite database: SQLite serves one node only; the bus is for several nodes sharing PostgreSQL")
	}
	bus, err := redisbus.New(redisbus.Options{
		URL:   cfg.bus,
		Local: streams,
		CatchUp: func(ctx context.Context) error {
			return streams.Resync(func() ([]chat.Membership, error) {
				var all []chat.Membership
				err := members(ctx, func(m chat.Membership) { all = append(all, m) })
				return all, err
			})
		},
		Delivered: delivered,
		Logger:    log,
	})
	if err != nil {
		return nil, fmt.Errorf("-bus: %w", err)
	}
	return bus, nil
}

// closeBus sends what the bus still holds and disconnects.
func closeBus(bus *redisbus.Bus, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := bus.Close(ctx); err != nil {
		log.Warn("bus did not close cleanly", "err", err)
	}
}

// busStreams is the hub for the handlers, with what must reach every
// node's streams (ended sessions, light mode, typing) sent through the
// bus. (Presence the bus shares by itself.)
type busStreams struct {
	*hub.Hub
	bus *redisbus.Bus
}

func (s busStreams) EndSession(user int64, session string) { s.bus.EndSession(user, session) }
func (s busStreams) Disconnect(user int64)                 { s.bus.Disconnect(user) }
func (s busStreams) SetLight(user int64, on bool)          { s.bus.SetLight(user, on) }
func (s busStreams) Typing(room, user int64, name string) bool {
	return s.bus.Typing(room, user, name)
}
func (s busStreams) StoppedTyping(room, user int64) { s.bus.StoppedTyping(room, user) }
