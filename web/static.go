package web

import (
	"io/fs"
	"net/http"
	"strings"

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
