package apps

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// noMetrics tells nobody.
type noMetrics struct{}

func (noMetrics) Proxying(bool, int) {}
func (noMetrics) SessionsOpen(int)   {}
func (noMetrics) Proxied(bool, int)  {}

// counted tells m of the bytes of one proxied request as they pass: its
// body to the application, the answer to the browser, and once upgraded to
// a WebSocket, the frames both ways.
func counted(w http.ResponseWriter, r *http.Request, m Metrics) (http.ResponseWriter, *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &countedBody{ReadCloser: r.Body, m: m}
	}
	return &countedWriter{ResponseWriter: w, m: m}, r
}

type countedBody struct {
	io.ReadCloser
	m Metrics
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.m.Proxied(true, n)
	}
	return n, err
}

// countedWriter counts what is written to the browser. ReverseProxy finds
// Flush through Unwrap, and Hijack here.
type countedWriter struct {
	http.ResponseWriter
	m Metrics
}

func (w *countedWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	if n > 0 {
		w.m.Proxied(false, n)
	}
	return n, err
}

func (w *countedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *countedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &countedConn{Conn: conn, m: w.m}, rw, nil
}

// countedConn is a browser's connection once upgraded.
type countedConn struct {
	net.Conn
	m Metrics
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.m.Proxied(true, n)
	}
	return n, err
}

func (c *countedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.m.Proxied(false, n)
	}
	return n, err
}
