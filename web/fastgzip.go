package web

import (
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
// jitter. It is compressed into a buffer and sent whole with its length,
// as a kept page is (sendKeptAs): streamed through compress, each of the
// deflater's writes of about 240 bytes went down to the connection's own,
// and the answer went in chunks.
func (s *Server) renderEveryView(c *echo.Context, status int, section string, component templ.Component) error {
	buf, _, err := s.renderPage(c, section, component)
	defer putPageBuffer(buf)
	if err != nil {
		return err
	}
	const ctype = echo.MIMETextHTMLCharsetUTF8
	req := c.Request()
	if req.Header.Get(echo.HeaderAcceptEncoding) == "" {
		return blob(c, status, ctype, buf.Bytes())
	}
	out := getPageBuffer()
	defer putPageBuffer(out)
	return sendEncoded(c, status, ctype, buf.Bytes(), encodeInto(out, req, status, ctype, buf.Bytes(), true))
}
