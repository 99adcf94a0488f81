package web

import (
	"context"
	"io/fs"
	"net/http"
	"strings"

	"github.com/instancehub/instancehub"

	"github.com/labstack/echo/v5"
)

// serveStatic serves the embedded files. Their URLs carry a version, so
// they may be cached for good.
func (s *Server) serveStatic(c *echo.Context) error {
	if c.QueryParam("v") != "" {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	name := strings.TrimPrefix(c.Param("*"), "/")
	if name == "" || strings.HasSuffix(name, ".go") {
		return echo.ErrNotFound
	}
	if _, err := fs.Stat(s.cfg.Static, name); err != nil {
		return echo.ErrNotFound
	}
	http.ServeFileFS(c.Response(), c.Request(), s.cfg.Static, name)
	return nil
}

func (s *Server) health(c *echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readiness tells whether the portal can serve: the service's Ready.
type readiness interface {
	// Ready returns the schema version; EUNAVAILABLE when the portal is
	// not ready, saying why.
	Ready(ctx context.Context) (int64, error)
}

// ready tells a load balancer whether to send this portal requests: its
// database answers and its schema is the one this build expects. /healthz
// only says that the process lives.
func (s *Server) ready(c *echo.Context) error {
	version, err := s.readiness.Ready(c.Request().Context())
	if err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "not ready", "reason": instancehub.ErrorMessage(err)})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "schema": version})
}
