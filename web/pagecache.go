package web

import (
	"context"
	"crypto/sha256"
	"net/http"
	"sync"

	"github.com/labstack/echo/v5"
)

// A department keeps the list open all day and it polls; between changes,
// every poll would render the same page again. So the list and its rows are
// kept as rendered, per session and address, for the database version they
// were rendered at (SQLite's data_version: any commit, by this process or
// another, makes a new one) and the minute (pages say "stops in 12
// minutes"). A kept page is exactly the page a new rendering would give, and
// pages that carry a notice (and so clear its cookie) are never kept.

// maxCachedBytes bounds the memory of kept pages (a list page is 60 KB).
const maxCachedBytes = 8 << 20

type pageKey struct {
	session [sha256.Size]byte // the session's token, hashed: no secret in memory twice
	uri     string
	htmx    string // HX-Request and HX-Target: a fragment is another answer
}

type keptPage struct {
	version int64
	minute  int64
	status  int
	ctype   string // "" for HTML
	body    []byte
}

type renderedPages struct {
	mu    sync.Mutex
	pages map[pageKey]keptPage
	bytes int
}

func (r *renderedPages) get(k pageKey, version, minute int64) (keptPage, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pages[k]
	if !ok || p.version != version || p.minute != minute {
		return keptPage{}, false
	}
	return p, true
}

func (r *renderedPages) put(k pageKey, p keptPage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.pages[k]; ok {
		r.bytes -= len(old.body)
	}
	if r.pages == nil || r.bytes+len(p.body) > maxCachedBytes {
		r.pages, r.bytes = make(map[pageKey]keptPage), 0
	}
	r.pages[k] = p
	r.bytes += len(p.body)
}

// keeping is what render needs to keep the page it renders.
type keeping struct {
	key     pageKey
	version int64
	minute  int64
}

type keepingKey struct{}

// kept serves a page from the kept ones when nothing changed since it was
// rendered, and otherwise lets render keep the new one. It runs after the
// session is checked, so a signed-out or refused session never reaches it.
func (s *Server) kept(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		req := c.Request()
		token := sessionToken(c)
		if token == "" || req.Method != http.MethodGet || s.readCookie(c, noticeCookie) != "" {
			return next(c)
		}
		return s.serveKept(c, next, pageKey{session: sha256.Sum256([]byte(token)), uri: req.RequestURI,
			htmx: req.Header.Get("HX-Request") + "|" + req.Header.Get("HX-Target")})
	}
}

// changeCounter tells whether anything was committed since a page was
// kept: the service's DataVersion.
type changeCounter interface {
	// DataVersion differs from an earlier one whenever anything was
	// committed in between; ok is false when the store cannot tell.
	DataVersion(ctx context.Context) (version int64, ok bool)
}

// serveKept answers the request with the answer kept under k, when nothing
// was committed since it was made and the minute is the same, and otherwise
// lets next make it, and render or sendJSON keep it.
func (s *Server) serveKept(c *echo.Context, next echo.HandlerFunc, k pageKey) error {
	req := c.Request()
	version, ok := s.changes.DataVersion(req.Context())
	if !ok {
		return next(c)
	}
	minute := s.cfg.Now().Unix() / 60
	if p, ok := s.pages.get(k, version, minute); ok {
		if p.ctype == "" {
			return c.HTMLBlob(p.status, p.body)
		}
		return c.Blob(p.status, p.ctype, p.body)
	}
	ctx := context.WithValue(req.Context(), keepingKey{}, &keeping{key: k, version: version, minute: minute})
	c.SetRequest(req.WithContext(ctx))
	return next(c)
}

// keptAPI is kept for the API's reads: an answer is kept per token (its
// hash), host (the answers name the portal's own addresses), address and
// Accept, for the database version it was made at. It runs after the token
// is checked, so a revoked or refused token never reaches it.
func (s *Server) keptAPI(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		req := c.Request()
		if req.Method != http.MethodGet {
			return next(c)
		}
		return s.serveKept(c, next, pageKey{session: sha256.Sum256([]byte(req.Header.Get(echo.HeaderAuthorization))),
			uri: req.Host + " " + req.RequestURI, htmx: "api|" + req.Header.Get(echo.HeaderAccept)})
	}
}

// keep keeps a page render has just made, when kept asked for it.
func (s *Server) keep(c *echo.Context, status int, body []byte, hadNotice bool) {
	s.keepAs(c, status, "", body, hadNotice)
}

// keepAs keeps an answer of type ctype ("" for HTML), when kept or
// keptAPI asked for it.
func (s *Server) keepAs(c *echo.Context, status int, ctype string, body []byte, hadNotice bool) {
	k, ok := c.Request().Context().Value(keepingKey{}).(*keeping)
	if !ok || hadNotice || status != http.StatusOK {
		return
	}
	s.pages.put(k.key, keptPage{version: k.version, minute: k.minute, status: status, ctype: ctype, body: append([]byte(nil), body...)})
}
