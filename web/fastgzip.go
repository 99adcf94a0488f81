package web

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v5"
)

// renderEveryView is render for the pages rendered at every view, which no
// page cache keeps (an instance's details, the quota page): compressed at
// gzip's fastest level, or statelessly when small enough
// (fastCompressorFor). At compress's default level, compressing took as
// much CPU as rendering such a page; the fastest sends about a tenth more
// bytes (details: 5.3 KB instead of 4.8) in half the time. The answer is
// otherwise compress's own: the same encodings, minimum size and BREACH
// jitter.
func (s *Server) renderEveryView(c *echo.Context, status int, section string, component templ.Component) error {
	buf, _, err := s.renderPage(c, section, component)
	defer putPageBuffer(buf)
	if err != nil {
		return err
	}
	w, r := c.Response(), c.Request()
	// fastCompressor names Accept-Encoding in Vary itself, as compress did
	// on the way in (once is enough); and compress passes an answer that
	// names its encoding as it is.
	dropVary(w.Header(), echo.HeaderAcceptEncoding)
	fastCompressorFor(buf.Len())(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		w.Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len())) // dropped if compressed
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
	})).ServeHTTP(w, r)
	return nil
}

// dropVary removes name from h's Vary, leaving any other name there.
func dropVary(h http.Header, name string) {
	vary := slices.DeleteFunc(slices.Clone(h.Values(echo.HeaderVary)), func(v string) bool { return v == name })
	if len(vary) == 0 {
		h.Del(echo.HeaderVary)
		return
	}
	h[echo.HeaderVary] = vary
}
