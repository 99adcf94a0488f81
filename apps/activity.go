package apps

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/instancehub/instancehub"
)

var errOwnerChanged = instancehub.Errorf(instancehub.EFORBIDDEN, "The instance has another owner now.")

// activity tells the Activity hook of an instance's use, at most once per
// interval per instance: idle shutdown needs minutes, not every request.
type activity struct {
	hook  func(name string, at time.Time)
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time
}

func newActivity(hook func(string, time.Time), every time.Duration) *activity {
	return &activity{hook: hook, every: every, last: make(map[string]time.Time)}
}

func (a *activity) touch(name string, now time.Time) {
	if a.hook == nil {
		return
	}
	name = strings.ToLower(name)
	a.mu.Lock()
	due := now.Sub(a.last[name]) >= a.every
	if due {
		a.last[name] = now
	}
	a.mu.Unlock()
	if due {
		a.hook(name, now)
	}
}

// countsAsActivity tells a person's request from what an application's page
// does by itself. Counted: page loads (navigations) and changes (any method
// but GET, HEAD and OPTIONS: saving, running, creating, uploading).
// Not counted: the page's own GET requests, with which Jupyter polls its
// kernels, sessions and terminals and refreshes the file list, nor its
// scripts and styles. WebSocket messages the browser sends count, through
// hijackWatcher.
func countsAsActivity(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return true
	}
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	// Browsers without Fetch Metadata: a page load asks for HTML.
	return r.Header.Get("X-Requested-With") == "" && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// hijackWatcher hands ReverseProxy a client connection that reports each
// data message the browser sends on a WebSocket: a person typing in a
// terminal or running a cell. Pings, pongs and closes are not activity, nor
// is what the application sends (a long computation's output; Jupyter's own
// /api/status tells of busy kernels).
type hijackWatcher struct {
	http.ResponseWriter
	onMessage func()
}

func (h *hijackWatcher) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &watchedConn{Conn: conn, frames: frameCounter{onMessage: h.onMessage}}, rw, nil
}

func (h *hijackWatcher) Unwrap() http.ResponseWriter { return h.ResponseWriter }

type watchedConn struct {
	net.Conn
	frames frameCounter
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.frames.observe(p[:n])
	return n, err
}

// frameCounter follows the WebSocket frames (RFC 6455, section 5.2) of a
// byte stream without changing it, and calls onMessage at the first frame
// of each text or binary message.
type frameCounter struct {
	onMessage func()
	head      [14]byte
	got, need int    // header bytes read, and needed
	skip      uint64 // payload bytes left of the current frame
}

func (f *frameCounter) observe(p []byte) {
	for len(p) > 0 {
		if f.skip > 0 {
			k := min(uint64(len(p)), f.skip)
			f.skip -= k
			p = p[k:]
			continue
		}
		f.head[f.got] = p[0]
		f.got++
		p = p[1:]
		if f.got == 2 {
			f.need = 2 + 4*int(f.head[1]>>7) // the mask key, on every frame a browser sends
			switch f.head[1] & 0x7f {
			case 126:
				f.need += 2
			case 127:
				f.need += 8
			}
		}
		if f.got >= 2 && f.got == f.need {
			f.endHeader()
		}
	}
}

func (f *frameCounter) endHeader() {
	var size uint64
	switch n := f.head[1] & 0x7f; n {
	case 126:
		size = uint64(f.head[2])<<8 | uint64(f.head[3])
	case 127:
		for _, b := range f.head[2:10] {
			size = size<<8 | uint64(b)
		}
	default:
		size = uint64(n)
	}
	if op := f.head[0] & 0x0f; op == 1 || op == 2 { // text or binary; 0 continues one
		f.onMessage()
	}
	f.skip, f.got, f.need = size, 0, 0
}
