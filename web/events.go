package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// Streams of changes: an open page listens at /events (Server-Sent Events,
// htmx's sse extension) instead of polling, and each element that shows an
// instance fetches itself again when an event names it (views.InstanceEvent,
// whose data is the instance's ID). An event names an ID and nothing else;
// what the element fetches is authorized as any request.
const (
	// streamHeartbeat is how often an idle stream sends a comment, so that
	// proxies keep it open and a vanished browser is noticed.
	streamHeartbeat = 15 * time.Second
	// streamLife ends a stream after a while: the browser reconnects at
	// once, through the session's checks again, so a signed-out or demoted
	// viewer stops hearing within it.
	streamLife = 10 * time.Minute
	// recentMargin widens the time a page says passed since it asked for
	// itself (age): its stream's request may reach the portal sooner than
	// its own did, and a change told twice costs a row's fetch.
	recentMargin = 2 * time.Second
	// maxAge bounds what a page may ask to be told again.
	maxAge = 10 * time.Minute
)

// pageAge reads how long ago, in ms, the page that opens the stream asked
// for itself (age=; stream.js): the changes made since, and a margin, are
// told first. 0 when it does not say.
func pageAge(c *echo.Context) time.Duration {
	ms, err := strconv.ParseInt(c.QueryParam("age"), 10, 64)
	if err != nil || ms < 0 {
		return 0
	}
	return min(time.Duration(ms)*time.Millisecond+recentMargin, maxAge)
}

// instanceEvents streams the changes of the instances the viewer may list:
// first those made since the page asked for itself (pageAge), or, when they
// cannot all be told, views.ResyncEvent; then each as it comes.
func (s *Server) instanceEvents(c *echo.Context) error {
	ctx := c.Request().Context()
	age := pageAge(c)
	watch, recent, complete, err := s.service.WatchInstances(ctx, age)
	if err != nil {
		return err
	}
	defer watch.Close()
	heartbeat := s.cfg.StreamHeartbeat
	if heartbeat <= 0 {
		heartbeat = streamHeartbeat
	}
	w := c.Response()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx passes each event at once
	// Sent as is: compressing would hold events back until a block fills.
	h.Set("Content-Encoding", "identity")
	rc := http.NewResponseController(w)
	send := func(text string) error {
		// Each write may take a while (limitBody bounds the request's).
		_ = rc.SetWriteDeadline(time.Now().Add(heartbeat + 30*time.Second))
		if _, err := fmt.Fprint(w, text); err != nil {
			return err
		}
		return rc.Flush()
	}
	w.WriteHeader(http.StatusOK)
	// retry: how soon the browser reconnects after the stream ends.
	if err := send("retry: 1000\n: open\n\n"); err != nil {
		return nil
	}
	if age > 0 {
		var told strings.Builder
		seen := map[int64]bool{}
		for _, change := range recent {
			if !seen[change.ID] {
				seen[change.ID] = true
				fmt.Fprintf(&told, "event: %s\ndata: %d\n\n", views.InstanceEvent, change.ID)
			}
		}
		if !complete {
			fmt.Fprintf(&told, "event: %s\ndata: all\n\n", views.ResyncEvent)
		}
		if told.Len() > 0 && send(told.String()) != nil {
			return nil
		}
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	life := time.NewTimer(streamLife)
	defer life.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-life.C:
			return nil
		case <-tick.C:
			if send(": heartbeat\n\n") != nil {
				return nil
			}
		case change, ok := <-watch.Changes():
			if !ok { // fell behind, or the portal shuts down
				return nil
			}
			if send(fmt.Sprintf("event: %s\ndata: %d\n\n", views.InstanceEvent, change.ID)) != nil {
				return nil
			}
		}
	}
}
