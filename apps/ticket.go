package apps

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"sync"
	"time"

	"github.com/instancehub/instancehub"
)

// TicketLifetime is how long a sign-in ticket can be redeemed: long enough
// for a redirect, too short to be worth stealing from a log.
const TicketLifetime = 30 * time.Second

// ticket hands a signed-in portal user over to one application's origin,
// once. It is bound to the user, the instance, the application, the
// portal session it was issued in and the browser that asked for it (the
// digest of its state, state.go).
type ticket struct {
	ID       string `json:"i"`
	UserID   int64  `json:"u"`
	Instance string `json:"n"`
	App      string `json:"a"`
	Session  string `json:"s"`
	State    string `json:"b"`
	Expires  int64  `json:"e"` // Unix seconds
}

func newTicketID() string {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// names reports whether the ticket names the application at that host.
func (t *ticket) names(name, slug string) bool {
	return strings.EqualFold(t.Instance, name) && t.App == slug
}

// TicketLedger records the tickets redeemed, until they expire, so that
// none is redeemed twice. Portals that share a database share it (the
// store's SpendTicket), since a ticket one replica issued may be redeemed,
// and replayed, on any of them.
type TicketLedger interface {
	// SpendTicket marks ticket id redeemed; EUNAUTHORIZED when it was.
	SpendTicket(ctx context.Context, id string, expires, now time.Time) error
}

// spentTickets is a TicketLedger in memory, for a gateway alone: it holds
// at most max tickets, and past that refuses sign-ins rather than forget a
// ticket still alive.
type spentTickets struct {
	mu  sync.Mutex
	ids map[string]time.Time
	max int
}

func newSpentTickets(max int) *spentTickets {
	return &spentTickets{ids: make(map[string]time.Time), max: max}
}

// SpendTicket marks a ticket redeemed. EUNAUTHORIZED when it was already;
// EUNAVAILABLE when too many live tickets are remembered.
func (s *spentTickets) SpendTicket(_ context.Context, id string, expires, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, used := s.ids[id]; used {
		return instancehub.Errorf(instancehub.EUNAUTHORIZED, "This sign-in link has been used already. Open the application again from the portal.")
	}
	if len(s.ids) >= s.max {
		for k, exp := range s.ids {
			if now.After(exp) {
				delete(s.ids, k)
			}
		}
		if len(s.ids) >= s.max {
			return instancehub.Errorf(instancehub.EUNAVAILABLE, "Too many sign-ins at once. Try again in a minute.")
		}
	}
	s.ids[id] = expires
	return nil
}
