package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

func (s *Server) accessPage(c *echo.Context) error {
	role, _ := instancehub.ParseRole(c.QueryParam("role"))
	page, err := s.service.RoleAssignments(c.Request().Context(), role)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "access", views.AccessPage(page, views.AssignForm{}, views.UnlockForm{}))
}

func (s *Server) assignRole(c *echo.Context) error {
	ctx := c.Request().Context()
	form := views.AssignForm{Email: c.FormValue("email"), Role: c.FormValue("role")}
	role, err := instancehub.ParseRole(form.Role)
	if err == nil {
		_, err = s.service.AssignRole(ctx, form.Email, role)
	}
	if instancehub.ErrorCode(err) == instancehub.EINVALID {
		page, perr := s.service.RoleAssignments(ctx, "")
		if perr != nil {
			return perr
		}
		form.Errors = instancehub.ErrorFields(err)
		return s.render(c, http.StatusUnprocessableEntity, "access", views.AccessPage(page, form, views.UnlockForm{}))
	} else if err != nil {
		return err
	}
	s.setNotice(c, "success", fmt.Sprintf("%s now has the %s role.", form.Email, role))
	return c.Redirect(http.StatusSeeOther, "/access")
}

func (s *Server) removeRole(c *echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	a, err := s.service.RemoveRoleAssignment(c.Request().Context(), id)
	if err != nil {
		return err
	}
	s.setNotice(c, "success", fmt.Sprintf("Removed the %s role from %s.", a.Role, a.UserName))
	return c.Redirect(http.StatusSeeOther, "/access")
}

// unlockAccount forgets an account's failed sign-ins.
func (s *Server) unlockAccount(c *echo.Context) error {
	ctx := c.Request().Context()
	form := views.UnlockForm{Email: c.FormValue("email")}
	n, err := s.service.UnlockAccount(ctx, form.Email)
	if instancehub.ErrorCode(err) == instancehub.EINVALID {
		page, perr := s.service.RoleAssignments(ctx, "")
		if perr != nil {
			return perr
		}
		form.Errors = instancehub.ErrorFields(err)
		return s.render(c, http.StatusUnprocessableEntity, "access", views.AccessPage(page, views.AssignForm{}, form))
	} else if err != nil {
		return err
	}
	message := fmt.Sprintf("%s had no failed sign-ins to forget.", form.Email)
	if n > 0 {
		message = fmt.Sprintf("Forgot %d failed sign-ins of %s; they can sign in at once.", n, form.Email)
	}
	s.setNotice(c, "success", message)
	return c.Redirect(http.StatusSeeOther, "/access")
}
