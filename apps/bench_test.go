package apps

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// transports are the two ways the gateway reaches an upstream: TCP (a VM's
// private address on Azure, an unsandboxed offline Jupyter) and a Unix
// socket (an offline Jupyter in its sandbox).
var transports = []struct {
	name string
	unix bool
}{{"tcp", false}, {"unix", true}}

// direct is a client that reaches the upstream without the gateway, by
// TCP or by its socket.
func (f *fixture) direct() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: f.up.dial}}
}

// directURL is the address of path on Ada's upstream without the gateway.
func (f *fixture) directURL(path string) string {
	if f.up.sockets != "" {
		return "http://adas-box.sandbox.invalid" + path
	}
	return f.up.servers["adas-box"].URL + path
}

// BenchmarkSmallGET times a small GET straight to the upstream and through
// the gateway, alternately in the same run, over TCP and over a Unix
// socket; added-p50-µs is the gateway's cost (goal ≤ 1000).
func BenchmarkSmallGET(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) { benchmarkSmallGET(b, tr.unix) })
	}
}

func benchmarkSmallGET(b *testing.B, unix bool) {
	f := newFixtureOver(b, time.Hour, unix)
	c, res := f.open(b, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	direct, via := f.directURL("/api/status"), "http://"+f.host("adas-box", "jupyter")+"/api/status"
	plain := f.direct()
	get := func(c *http.Client, u string) time.Duration {
		start := time.Now()
		res, err := c.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return time.Since(start)
	}
	var d, g []time.Duration
	for b.Loop() {
		d = append(d, get(plain, direct))
		g = append(g, get(c, via))
	}
	pd, pg := median(d), median(g)
	b.ReportMetric(float64(pd.Microseconds()), "direct-p50-µs")
	b.ReportMetric(float64(pg.Microseconds()), "gateway-p50-µs")
	b.ReportMetric(float64((pg - pd).Microseconds()), "added-p50-µs")
}

// BenchmarkOpenApplication times the owner's click on an application's
// link, from the portal's answer to the application's first page: through
// the application's origin (which binds the sign-in to the browser), the
// portal (here the gateway's OpenURL alone, without the portal's own
// pages), the ticket and the landing page, in a new browser each time.
func BenchmarkOpenApplication(b *testing.B) {
	f := newFixture(b, time.Hour)
	for b.Loop() {
		_, res := f.open(b, f.adaToken, "adas-box", "jupyter")
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("open: %d", res.StatusCode)
		}
	}
}

// echoSockets opens two WebSockets to Ada's echo upstream, by TCP or by
// its Unix socket: one straight, one through the gateway. They close when
// the benchmark ends.
func echoSockets(b *testing.B, unix bool) (direct, via *websocket.Conn) {
	f := newFixtureOver(b, time.Hour, unix)
	c, res := f.open(b, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	ctx := context.Background()
	direct, _, err := websocket.Dial(ctx, "ws"+f.directURL("/ws")[len("http"):], &websocket.DialOptions{HTTPClient: f.direct()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { direct.CloseNow() })
	mine := f.host("adas-box", "jupyter")
	via, _, err = f.dialWS(ctx, c, mine, "http://"+mine)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { via.CloseNow() })
	return direct, via
}

// BenchmarkWebSocketRoundTrips exchanges messages with an echo upstream
// straight and through the gateway, alternately in the same run;
// gateway-% is the gateway's rate against the direct one (goal ≥ 80).
func BenchmarkWebSocketRoundTrips(b *testing.B) {
	ctx := context.Background()
	direct, via := echoSockets(b, false)
	msg := []byte(`{"header":{"msg_type":"execute_request"},"content":{"code":"print(6*7)"}}`)
	roundTrip := func(ws *websocket.Conn) time.Duration {
		start := time.Now()
		if err := ws.Write(ctx, websocket.MessageText, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := ws.Read(ctx); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var td, tg time.Duration
	for b.Loop() {
		td += roundTrip(direct)
		tg += roundTrip(via)
	}
	n := float64(b.N)
	b.ReportMetric(n/td.Seconds(), "direct-rt/s")
	b.ReportMetric(n/tg.Seconds(), "gateway-rt/s")
	b.ReportMetric(100*td.Seconds()/tg.Seconds(), "gateway-%")
}

// BenchmarkWebSocketStreams keeps 32 messages in flight on a WebSocket,
// straight and through the gateway, alternately in the same run, as a
// kernel's replies and a terminal's output do, over TCP and over a Unix
// socket: gateway-% is the gateway's rate of round trips against the
// direct one. (One message at a time, as in BenchmarkWebSocketRoundTrips,
// the loopback round trip is four system calls straight and eight through
// any proxy, so no proxy reaches 80 % there.)
func BenchmarkWebSocketStreams(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) { benchmarkWebSocketStreams(b, tr.unix) })
	}
}

func benchmarkWebSocketStreams(b *testing.B, unix bool) {
	ctx := context.Background()
	direct, via := echoSockets(b, unix)
	msg := []byte(`{"header":{"msg_type":"stream"},"content":{"name":"stdout","text":"42\n"}}`)
	const window = 32
	stream := func(ws *websocket.Conn) time.Duration {
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			for range window {
				if _, _, err := ws.Read(ctx); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for range window {
			if err := ws.Write(ctx, websocket.MessageText, msg); err != nil {
				b.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var td, tg time.Duration
	for b.Loop() {
		td += stream(direct)
		tg += stream(via)
	}
	n := float64(b.N * window)
	b.ReportMetric(n/td.Seconds(), "direct-rt/s")
	b.ReportMetric(n/tg.Seconds(), "gateway-rt/s")
	b.ReportMetric(100*td.Seconds()/tg.Seconds(), "gateway-%")
}

// BenchmarkIdleWebSocketMemory keeps one more idle WebSocket open at each
// iteration, straight to the upstream or through the gateway, and reports
// the heap and goroutines each costs the process (both ends included: the
// gateway's share is the difference of the two). Run it with a fixed
// -benchtime such as 500x.
func BenchmarkIdleWebSocketMemory(b *testing.B) {
	f := newFixture(b, time.Hour)
	c, res := f.open(b, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	ctx := context.Background()
	up := f.up.servers["adas-box"]
	mine := f.host("adas-box", "jupyter")
	dials := map[string]func() (*websocket.Conn, *http.Response, error){
		"direct": func() (*websocket.Conn, *http.Response, error) {
			return websocket.Dial(ctx, "ws"+up.URL[len("http"):]+"/ws", nil)
		},
		"gateway": func() (*websocket.Conn, *http.Response, error) { return f.dialWS(ctx, c, mine, "http://"+mine) },
	}
	for _, name := range []string{"direct", "gateway"} {
		b.Run(name, func(b *testing.B) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			g0 := runtime.NumGoroutine()
			var conns []*websocket.Conn
			for b.Loop() {
				ws, _, err := dials[name]()
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, ws)
			}
			time.Sleep(100 * time.Millisecond) // let both ends settle
			runtime.GC()
			runtime.ReadMemStats(&after)
			n := float64(len(conns))
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n/1024, "heap-KiB/ws")
			b.ReportMetric(float64(runtime.NumGoroutine()-g0)/n, "goroutines/ws")
			for _, ws := range conns {
				ws.CloseNow()
			}
		})
	}
}
