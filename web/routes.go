package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// routes lists every route of the portal in one place.
func (s *Server) routes() {
	e := s.echo
	e.Use(s.recoverPanics, s.logRequests, s.securityHeaders, s.loadSession, s.csrf())

	e.GET("/healthz", s.health)
	e.GET("/static/*", s.serveStatic)
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login)

	g := e.Group("", s.requireUser)
	g.POST("/logout", s.logout)
	g.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/instances") })
	g.GET("/instances", s.listInstances)
	g.POST("/instances/refresh", s.refreshInstances)
	g.GET("/instances/new", s.newInstance)
	g.GET("/instances/new/check-name", s.checkName)
	g.GET("/instances/new/placement", s.placement)
	g.GET("/instances/new/subnets", s.subnets)
	g.POST("/instances", s.createInstance)
	g.GET("/instances/:name", s.showInstance)
	g.GET("/instances/:name/row", s.instanceRow)
	g.GET("/instances/:name/delete", s.confirmDelete)
	g.POST("/instances/:name/:action", s.act)
	g.GET("/instances/:name/apps/:app/*", s.openApplication)
}
