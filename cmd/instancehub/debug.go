package main

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"runtime/metrics"
	"time"
)

// debugHandler is what operators may ask a running portal: the portal's
// figures for Prometheus (/metrics), Go's runtime metrics as text, the
// expvar variables (memstats, cmdline) as JSON, and pprof's profiles. It is
// served on its own address, never the portal's: the figures, profiles and
// the command line are for whoever runs the server, not for whoever
// reaches the portal.
func debugHandler(figures http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", figures)
	mux.HandleFunc("GET /debug/metrics", runtimeMetrics)
	mux.Handle("GET /debug/vars", expvar.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// heapSampling is the runtime's sampling rate of heap profiles as the
// process started (GODEBUG=memprofilerate sets it); main sets the rate to
// none, and serveDebug sets it back when it serves the profiles.
var heapSampling int

// runtimeMetrics writes every runtime/metrics value, one "name value" a
// line; a histogram is written as its count of samples.
func runtimeMetrics(w http.ResponseWriter, _ *http.Request) {
	descs := metrics.All()
	samples := make([]metrics.Sample, len(descs))
	for i, d := range descs {
		samples[i].Name = d.Name
	}
	metrics.Read(samples)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			fmt.Fprintf(w, "%s %d\n", s.Name, s.Value.Uint64())
		case metrics.KindFloat64:
			fmt.Fprintf(w, "%s %g\n", s.Name, s.Value.Float64())
		case metrics.KindFloat64Histogram:
			var n uint64
			for _, c := range s.Value.Float64Histogram().Counts {
				n += c
			}
			fmt.Fprintf(w, "%s count=%d\n", s.Name, n)
		}
	}
}

// serveDebug serves the operator endpoints on addr until ctx ends; an
// empty addr, the default, serves nothing. It fails at once when addr
// cannot be listened on, so a typo does not go unnoticed.
func serveDebug(ctx context.Context, addr string, figures http.Handler, log *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--debug-addr: %w", err)
	}
	if heapSampling > 0 {
		runtime.MemProfileRate = heapSampling
	}
	srv := &http.Server{Handler: debugHandler(figures), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("operator endpoints stopped", "err", err)
		}
	}()
	log.Info("serving the operator endpoints (Prometheus metrics, runtime metrics, pprof); keep this address private",
		"url", "http://"+ln.Addr().String()+"/debug/", "metrics", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}, nil
}
