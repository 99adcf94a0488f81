package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/instancehub/instancehub/azure/emulator"
)

// emulatorCommand serves the offline emulator in a process of its own, over
// HTTPS, so that several portals share one emulated cloud (as replicas
// share one Azure), each pointed at it with --emulator-url and
// --emulator-ca. Its state is kept in its own data directory.
func emulatorCommand(ctx context.Context, args []string, stderr io.Writer) error {
	var c Config
	var addr string
	err := parse("emulator", args, stderr, func(f *flags) {
		c.bindCommon(f)
		f.fs.StringVar(&addr, "addr", "127.0.0.1:9443", "address to serve the emulator on, over HTTPS")
		f.float(&c.EmulatorLatency, "emulator-latency", 1, "scale of the emulator's operation times (1 = realistic, 0 = instant)")
		f.string(&c.EmulatorQuota, "emulator-quota", "", `the emulated subscription's vCPU limits, e.g. "eastus/cores=40"`)
		f.string(&c.DebugAddr, "debug-addr", "", "address of the emulator's Go runtime metrics and pprof under /debug/, to profile it beside a portal; empty (the default) serves none")
	})
	if err != nil {
		return err
	}
	log := newLogger(stderr, c.LogLevel, c.LogFormat)
	stopDebug, err := serveDebug(ctx, c.DebugAddr, http.NotFoundHandler(), log)
	if err != nil {
		return err
	}
	defer stopDebug()
	lock, err := lockData(c.Data)
	if err != nil {
		return err
	}
	defer lock.Release()
	quota, err := c.emulatorQuota()
	if err != nil {
		return usageError{err}
	}
	emu, err := emulator.Open(emulator.Options{Path: filepath.Join(c.Data, "emulator.db"), Latency: c.EmulatorLatency, Quota: quota})
	if err != nil {
		return fmt.Errorf("open the emulator: %w", err)
	}
	defer emu.Close()
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageError{fmt.Errorf("--addr: %w", err)}
	}
	certFile, keyFile, err := emulator.EnsureCertificate(c.Data, host)
	if err != nil {
		return err
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serveEmulator(ctx, emu, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}), certFile, log)
}

func serveEmulator(ctx context.Context, emu *emulator.Emulator, ln net.Listener, certFile string, log *slog.Logger) error {
	srv := &http.Server{Handler: emu.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	url := "https://" + ln.Addr().String()
	log.Info("serving the emulator", "url", url, "certificate", certFile,
		"portals", fmt.Sprintf("instancehub serve --emulator-url %s --emulator-ca %s", url, certFile))
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
