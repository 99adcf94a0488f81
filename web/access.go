package web

import (
	"fmt"
	"net/http"
	"net/url"

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
	id, ok := idParam(c)
	if !ok {
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

// addUser adds an account with a role and shows the Owner the link that
// sets its password, once: it is kept nowhere the Owner could see it again.
func (s *Server) addUser(c *echo.Context) error {
	ctx := c.Request().Context()
	form := views.AddUserForm{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role")}
	user, token, err := s.service.AddUser(ctx, instancehub.NewUser{Email: form.Email, Name: form.Name, Role: form.Role}, s.cfg.LocalAccounts)
	status := http.StatusOK
	switch {
	case instancehub.ErrorCode(err) == instancehub.EINVALID:
		form.Errors, status = instancehub.ErrorFields(err), http.StatusUnprocessableEntity
	case err != nil:
		return err
	default:
		added := views.AddUserForm{Added: user}
		if token != "" {
			// https when the portal is served over TLS, by itself or a
			// proxy, whatever a client's X-Forwarded-Proto says: the
			// token must not travel in the clear.
			added.Link = s.absolute(c, "/set-password?token="+url.QueryEscape(token))
		}
		form = added
	}
	return s.render(c, status, "access", views.AddUserPage(form))
}

// addUserPage is the form that adds someone, for Owners.
func (s *Server) addUserPage(c *echo.Context) error {
	if err := s.service.CheckAddUser(c.Request().Context()); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "access", views.AddUserPage(views.AddUserForm{}))
}

// setPasswordPage asks a new account for its password, with the link an
// Owner passed on.
func (s *Server) setPasswordPage(c *echo.Context) error {
	token := c.QueryParam("token")
	works := s.service.PasswordLinkWorks(c.Request().Context(), token)
	status := http.StatusOK
	if !works {
		status = http.StatusGone
	}
	return s.render(c, status, "", views.SetPasswordPage(token, works, nil))
}

func (s *Server) setPassword(c *echo.Context) error {
	token := c.FormValue("token")
	_, err := s.service.SetPasswordWithLink(c.Request().Context(), token, c.FormValue("password"), c.FormValue("confirm"))
	if instancehub.ErrorCode(err) == instancehub.EINVALID {
		fields := instancehub.ErrorFields(err)
		status := http.StatusUnprocessableEntity
		if fields["link"] != "" {
			status = http.StatusGone
		}
		return s.render(c, status, "", views.SetPasswordPage(token, fields["link"] == "", fields))
	} else if err != nil {
		return err
	}
	s.setNotice(c, "success", "Your password is set. Sign in with it.")
	return c.Redirect(http.StatusSeeOther, "/login")
}

// people lists the accounts with their roles.
func (s *Server) people(c *echo.Context) error {
	users, err := s.service.People(c.Request().Context())
	if err != nil {
		return err
	}
	canWrite := instancehub.UserFromContext(c.Request().Context()).Can(instancehub.PermWriteRoles)
	return s.render(c, http.StatusOK, "access", views.PeoplePage(users, canWrite))
}

// setUserDisabled disables or enables an account.
func (s *Server) setUserDisabled(c *echo.Context) error {
	id, ok := idParam(c)
	if !ok {
		return echo.ErrNotFound
	}
	disable := c.Param("verb") == "disable"
	if !disable && c.Param("verb") != "enable" {
		return echo.ErrNotFound
	}
	user, err := s.service.SetUserDisabled(c.Request().Context(), id, disable)
	if err != nil {
		return err
	}
	if disable {
		s.setNotice(c, "success", fmt.Sprintf("%s is disabled: signed out, their tokens revoked, and cannot sign in until enabled. Their instances stay.", user.Name))
	} else {
		s.setNotice(c, "success", fmt.Sprintf("%s is enabled and can sign in again; tokens revoked when disabled stay revoked.", user.Name))
	}
	return c.Redirect(http.StatusSeeOther, "/access/people")
}
