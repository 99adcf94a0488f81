package web

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v5"
)

// openAPI describes the JSON API (OpenAPI 3). Tests validate it, and every
// answer of every endpoint against it.
//
//go:embed openapi.json
var openAPI []byte

// openAPIDocument serves the API's description; it holds no secret, so it
// needs no token.
func (s *Server) openAPIDocument(c *echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return blob(c, http.StatusOK, echo.MIMEApplicationJSON, openAPI)
}
