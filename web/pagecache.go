package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v5"
)

// A department keeps the list open all day and it polls; between changes,
// every poll would render the same page again. So the list and its rows are
// kept as rendered, per session and address, for the database version they
// were rendered at (the store's DataVersion: any commit of what a page shows,
// by this process or another, makes a new one; a session's last-seen or a
// token's last use, written once a minute each, does not) and the minute
// (pages say "stops in 12 minutes"). A kept page is exactly the page a new rendering would give, and
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

	// encoded holds the page as compress sent it, by the Accept-Encoding
	// that asked for it (a browser sends the same one every time): a kept
	// page is compressed once, not at every view. Under renderedPages.mu.
	encoded map[string]encodedPage
}

// encodedPage is a kept page as compress sends it to one Accept-Encoding.
type encodedPage struct {
	encoding string // its Content-Encoding; "" when compress left it as it is
	body     []byte // nil when compress left it as it is
	// fast: compressed at speed (compressFast), as the answer of the render
	// that made the page; its first view again compresses it as compress
	// does, smaller, for every view after.
	fast bool
}

// maxEncodings bounds the encodings kept of a page, and maxAcceptEncoding
// the Accept-Encoding a request may name one by: browsers send one short
// value each; others are compressed per answer, as any other answer.
const (
	maxEncodings      = 4
	maxAcceptEncoding = 100
)

type renderedPages struct {
	mu    sync.Mutex
	pages map[pageKey]*keptPage
	bytes int
}

func (r *renderedPages) get(k pageKey, version, minute int64) (*keptPage, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pages[k]
	if !ok || p.version != version || p.minute != minute {
		return nil, false
	}
	return p, true
}

func (r *renderedPages) put(k pageKey, p *keptPage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.pages[k]; ok {
		r.bytes -= old.size()
	}
	r.grow(p.size())
	r.pages[k] = p
}

// grow counts n more bytes kept, forgetting every kept page first when
// they would pass maxCachedBytes.
func (r *renderedPages) grow(n int) {
	if r.pages == nil || r.bytes+n > maxCachedBytes {
		r.pages, r.bytes = make(map[pageKey]*keptPage), 0
	}
	r.bytes += n
}

// size is what p holds in memory, its encodings too. Under mu.
func (p *keptPage) size() int {
	n := len(p.body)
	for _, e := range p.encoded {
		n += len(e.body)
	}
	return n
}

// encoding is p as compress sends it to acceptEncoding, if kept.
func (r *renderedPages) encoding(p *keptPage, acceptEncoding string) (encodedPage, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := p.encoded[acceptEncoding]
	return e, ok
}

// keepEncoding keeps e as p sent to acceptEncoding, while p is kept and
// has room for another encoding; e replaces one kept fast when it is not.
func (r *renderedPages) keepEncoding(k pageKey, p *keptPage, acceptEncoding string, e encodedPage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pages[k] != p {
		return
	}
	if old, ok := p.encoded[acceptEncoding]; ok {
		if !old.fast || e.fast {
			return
		}
		delete(p.encoded, acceptEncoding)
		r.bytes -= len(old.body)
	}
	if len(p.encoded) >= maxEncodings {
		return
	}
	r.grow(len(e.body))
	if r.pages[k] != p { // grow forgot every page
		r.pages[k] = p
		r.bytes += p.size()
	}
	if p.encoded == nil {
		p.encoded = make(map[string]encodedPage, 1)
	}
	p.encoded[acceptEncoding] = e
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

// changeCounter tells whether anything a page shows was committed since a
// page was kept: the service's DataVersion.
type changeCounter interface {
	// DataVersion differs from an earlier one whenever anything a page
	// shows was committed in between; ok is false when the store cannot
	// tell.
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
		return s.sendKept(c, k, p)
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

// sendKept answers p, kept under k, compressed as compress would
// compress it for this request: the encoding kept for the request's
// Accept-Encoding, else one made now, with compress itself, and kept.
// A page just rendered is compressed at speed (compressFast): most
// addresses are asked once (another page, another search), and a page
// asked again is then compressed as compress does, once.
func (s *Server) sendKept(c *echo.Context, k pageKey, p *keptPage) error {
	return s.sendKeptAs(c, k, p, false)
}

func (s *Server) sendKeptAs(c *echo.Context, k pageKey, p *keptPage, rendered bool) error {
	ctype := p.ctype
	if ctype == "" {
		ctype = echo.MIMETextHTMLCharsetUTF8
	}
	req := c.Request()
	accept := req.Header.Get(echo.HeaderAcceptEncoding)
	if accept == "" || len(accept) > maxAcceptEncoding || req.Method != http.MethodGet {
		return blob(c, p.status, ctype, p.body)
	}
	e, ok := s.pages.encoding(p, accept)
	if !ok || (e.fast && !rendered) {
		e = encode(req, p.status, ctype, p.body, rendered)
		s.pages.keepEncoding(k, p, accept, e)
	}
	return sendEncoded(c, p.status, ctype, p.body, e)
}

// sendEncoded answers body as e encodes it, or as it is when e does not.
func sendEncoded(c *echo.Context, status int, ctype string, body []byte, e encodedPage) error {
	if e.encoding == "" {
		return blob(c, status, ctype, body)
	}
	// compress, which this answer passes through, leaves an answer that
	// names its encoding as it is.
	c.Response().Header().Set(echo.HeaderContentEncoding, e.encoding)
	return blob(c, status, ctype, e.body)
}

// blob answers body whole, with its length, as a static server sends a
// file: without it net/http sent every page in chunks, a write and a
// chunk's header for each 4 KB (a seventh of a details view's CPU).
// compress, when it compresses an answer, drops the length it no longer
// matches.
func blob(c *echo.Context, status int, ctype string, body []byte) error {
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	return c.Blob(status, ctype, body)
}

// encode is body as compress sends it in answer to req, or as
// compressFast does.
func encode(req *http.Request, status int, ctype string, body []byte, fast bool) encodedPage {
	return encodeInto(new(bytes.Buffer), req, status, ctype, body, fast)
}

// encodeInto is encode, its compressed body written into out.
func encodeInto(out *bytes.Buffer, req *http.Request, status int, ctype string, body []byte, fast bool) encodedPage {
	w := &encodingWriter{header: http.Header{}, body: out}
	wrap := compressor
	if fast {
		wrap = fastCompressorFor(len(body))
	}
	wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set(echo.HeaderContentType, ctype)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})).ServeHTTP(w, req)
	encoding := w.header.Get(echo.HeaderContentEncoding)
	if encoding == "" {
		return encodedPage{} // the page as it is: no copy of it kept
	}
	return encodedPage{encoding: encoding, body: w.body.Bytes(), fast: fast}
}

// encodingWriter takes down an answer, for encode: only a compressed one,
// since encode keeps no copy of the page as it is (a 64 KB copy that
// identity's every render made and dropped).
type encodingWriter struct {
	header http.Header
	body   *bytes.Buffer
}

func (w *encodingWriter) Header() http.Header { return w.header }
func (w *encodingWriter) WriteHeader(int)     {}
func (w *encodingWriter) Write(b []byte) (int, error) {
	if w.header.Get(echo.HeaderContentEncoding) == "" {
		return len(b), nil
	}
	return w.body.Write(b)
}

// keep keeps a page render has just made, when kept asked for it, and
// answers it: compressed once for both this answer and the kept page's
// next views.
func (s *Server) keep(c *echo.Context, status int, body []byte, hadNotice bool) error {
	return s.keepAs(c, status, "", body, hadNotice)
}

// keepAs keeps an answer of type ctype ("" for HTML), when kept or
// keptAPI asked for it, and answers it.
func (s *Server) keepAs(c *echo.Context, status int, ctype string, body []byte, hadNotice bool) error {
	k, ok := c.Request().Context().Value(keepingKey{}).(*keeping)
	if !ok || hadNotice || status != http.StatusOK {
		if ctype == "" {
			ctype = echo.MIMETextHTMLCharsetUTF8
		}
		return blob(c, status, ctype, body)
	}
	p := &keptPage{version: k.version, minute: k.minute, status: status, ctype: ctype, body: append([]byte(nil), body...)}
	s.pages.put(k.key, p)
	return s.sendKeptAs(c, k.key, p, true)
}
