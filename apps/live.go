package apps

import (
	"context"
	"strings"
	"sync"
	"time"
)

// liveConn is one proxied request under way: a WebSocket, or a long
// download. cancel ends it, which makes ReverseProxy close both sides.
type liveConn struct {
	session    string
	userID     int64
	name, slug string
	cancel     context.CancelFunc
}

// grant is what one authorization decides: all the live connections of a
// session to one application share it, so a recheck asks once for them.
type grant struct {
	session    string
	userID     int64
	name, slug string
}

type liveConns struct {
	mu      sync.Mutex
	conns   map[*liveConn]struct{}
	grants  map[grant]int // how many live connections each grant has
	metrics Metrics
}

func newLiveConns(m Metrics) *liveConns {
	return &liveConns{conns: make(map[*liveConn]struct{}), grants: make(map[grant]int), metrics: m}
}

func (l *liveConns) add(c *liveConn) *liveConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conns[c] = struct{}{}
	l.grants[c.grant()]++
	l.metrics.SessionsOpen(len(l.grants))
	return c
}

func (l *liveConns) remove(c *liveConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, c)
	k := c.grant()
	if l.grants[k]--; l.grants[k] <= 0 {
		delete(l.grants, k)
	}
	l.metrics.SessionsOpen(len(l.grants))
}

func (c *liveConn) grant() grant {
	return grant{session: c.session, userID: c.userID, name: strings.ToLower(c.name), slug: c.slug}
}

// byGrant groups the live connections that match.
func (l *liveConns) byGrant(match func(*liveConn) bool) map[grant][]*liveConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	groups := make(map[grant][]*liveConn)
	for c := range l.conns {
		if match(c) {
			groups[c.grant()] = append(groups[c.grant()], c)
		}
	}
	return groups
}

// Revoke rechecks at once the live connections to name's applications and
// closes those no longer allowed.
func (g *Gateway) Revoke(name string) {
	go g.recheck(context.Background(), func(c *liveConn) bool { return strings.EqualFold(c.name, name) })
}

func (g *Gateway) recheckEvery(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			g.recheck(ctx, func(*liveConn) bool { return true })
		}
	}
}

// recheck authorizes each matching connection's grant again and ends the
// connections of those refused: the session ended, the instance stopped or
// went, or it has another owner. A failure to ask keeps them open.
func (g *Gateway) recheck(ctx context.Context, match func(*liveConn) bool) {
	for k, conns := range g.live.byGrant(match) {
		_, inst, _, err := g.authorize(ctx, k.session, k.name, k.slug)
		if err == nil && inst.OwnerID != k.userID {
			err = errOwnerChanged
		}
		if !isEnded(err) {
			if err != nil {
				g.cfg.Logger.Warn("recheck application connections", "instance", k.name, "err", err)
			}
			continue
		}
		for _, c := range conns {
			c.cancel()
		}
	}
}
