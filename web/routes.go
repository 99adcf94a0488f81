package web

import (
	"net/http"

	"github.com/instancehub/instancehub"
	"github.com/labstack/echo/v5"
)

// routes lists every route of the portal in one place. Signing in is all a
// route group checks; what a user may do is decided by the service.
func (s *Server) routes() {
	e := s.echo
	e.Use(s.recoverPanics, s.logRequests, s.securityHeaders, s.withSource, s.limitBody, s.loadSession, s.csrf)

	e.GET("/healthz", s.health)
	e.GET("/readyz", s.ready)
	e.GET("/static/*", s.serveStatic)
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login)
	e.GET("/set-password", s.setPasswordPage)
	e.POST("/set-password", s.setPassword)
	e.GET("/auth/oidc/login", s.oidcLogin)
	e.GET("/auth/oidc/callback", s.oidcCallback)

	g := e.Group("", s.requireUser)
	g.POST("/logout", s.logout)
	g.GET("/", s.home)
	g.GET("/instances", s.listInstances, s.kept)
	g.POST("/instances/refresh", s.refreshInstances)
	g.GET("/events", s.instanceEvents)
	g.GET("/instances/new", s.newInstance)
	g.GET("/instances/new/check-name", s.checkName)
	g.GET("/instances/new/placement", s.placement)
	g.GET("/instances/new/subnets", s.subnets)
	g.GET("/instances/new/schedule", s.newScheduleRow)
	g.GET("/instances/new/tag", s.newTagRow)
	g.POST("/instances/review", s.reviewInstance)
	g.POST("/instances", s.createInstance)
	g.POST("/instances/actions", s.bulkAct)
	g.GET("/instances/:name", s.showInstance)
	g.GET("/instances/:name/row", s.instanceRow, s.kept)
	g.GET("/instances/:name/delete", s.confirmDelete)
	g.GET("/instances/:name/boot-log", s.bootLog)
	g.POST("/instances/:name/:action", s.act)
	g.POST("/instances/:name/idle-shutdown", s.setIdleShutdown)
	g.POST("/instances/:name/ssh-key", s.addSSHKey)
	g.POST("/instances/:name/keep-running", s.keepRunning)
	g.POST("/instances/:name/schedules", s.addSchedule)
	g.GET("/instances/:name/schedules/:id", s.editSchedule)
	g.POST("/instances/:name/schedules/:id", s.updateSchedule)
	g.POST("/instances/:name/schedules/:id/delete", s.deleteSchedule)
	g.GET("/instances/:name/apps/:app", s.applicationSlash)
	g.GET("/instances/:name/apps/:app/*", s.openApplication)
	g.GET("/quota", s.quotaPage)
	g.POST("/quota", s.setQuota)
	g.GET("/quota/requests/new", s.quotaRequestPage)
	g.POST("/quota/requests", s.requestQuota)
	g.POST("/quota/requests/:id/:verb", s.decideQuotaRequest)
	g.GET("/access", s.accessPage)
	g.POST("/access", s.assignRole)
	g.POST("/access/unlock", s.unlockAccount)
	g.GET("/access/people", s.people)
	g.GET("/access/people/:id/disable", s.confirmDisable)
	g.POST("/access/people/:id/:verb", s.setUserDisabled)
	g.GET("/access/users/new", s.addUserPage)
	g.POST("/access/users", s.addUser)
	g.GET("/access/:id/delete", s.confirmRemoveRole)
	g.POST("/access/:id/delete", s.removeRole)
	g.GET("/audit", s.auditPage)
	g.GET("/audit/export.csv", s.auditExport)
	g.GET("/settings", s.settingsPage)
	g.POST("/settings", s.saveSettings)
	g.GET("/settings/audit-archive", s.confirmAuditArchive)
	g.POST("/settings/audit-archive", s.archiveAudit)
	g.GET("/settings/audit-archives/:id", s.downloadAuditArchive)
	g.GET("/tokens", s.tokensPage)
	g.POST("/tokens", s.createToken)
	g.GET("/tokens/:id/revoke", s.confirmRevoke)
	g.POST("/tokens/:id/revoke", s.revokeToken)
	g.GET("/access/tokens", s.allTokens)

	// The JSON API: a personal access token, never the cookie (api.go).
	e.GET(apiPrefix+"/openapi.json", s.openAPIDocument)
	api := e.Group(apiPrefix, s.requireToken)
	api.GET("/computes", s.apiListComputes, s.keptAPI)
	api.POST("/computes", s.apiCreateCompute)
	api.POST(`/computes\:apply`, s.apiApplyCompute)
	api.GET("/computes/:name", s.apiGetCompute, s.keptAPI)
	api.DELETE("/computes/:name", s.apiDeleteCompute)
	api.POST("/computes/:name/:action", s.apiAct)
	api.GET("/computes/:name/operations", s.apiOperations)
	api.GET("/computes/:name/operations/:id", s.apiOperation)
	api.GET("/roleAssignments", s.apiRoleAssignments)
	api.POST("/roleAssignments", s.apiAssignRole)
	api.DELETE("/roleAssignments/:id", s.apiRemoveRole)
	api.GET("/quotas", s.apiQuota)
	api.PUT("/quotas/:region/:family", s.apiSetQuota)
	api.GET("/quotaRequests", s.apiQuotaRequests)
	api.POST("/quotaRequests", s.apiRequestQuota)
	api.POST("/quotaRequests/:id/:verb", s.apiDecideQuotaRequest)
	api.GET("/auditEvents", s.apiAuditEvents)
}

// home sends people to the first page they may see.
func (s *Server) home(c *echo.Context) error {
	user := instancehub.UserFromContext(c.Request().Context())
	if !user.Can(instancehub.PermReadInstances) && user.Can(instancehub.PermReadAudit) {
		return c.Redirect(http.StatusSeeOther, "/audit")
	}
	return c.Redirect(http.StatusSeeOther, "/instances")
}

// applicationSlash adds the slash applications expect at the end of their
// address.
func (s *Server) applicationSlash(c *echo.Context) error {
	return c.Redirect(http.StatusMovedPermanently, c.Request().URL.Path+"/")
}
