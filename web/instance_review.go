package web

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/a-h/templ"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// showFormAgain reports whether the create form was posted only to come
// back with everything kept: "Add schedule" or "Add tag" without script
// (with one more row), or the review's "Back".
func showFormAgain(c *echo.Context) bool {
	return c.FormValue("add_schedule") != "" || c.FormValue("add_tag") != "" || c.FormValue("back") != ""
}

// reviewInstance shows the create as it will be made, or the form again
// with a message by each field that needs one.
func (s *Server) reviewInstance(c *echo.Context) error {
	ctx := c.Request().Context()
	form := parseCreateForm(c)
	review, err := s.service.ReviewCreate(ctx, form.Request)
	if instancehub.ErrorCode(err) == instancehub.EINVALID {
		return s.createFormAgain(c, form, err)
	} else if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "compute", views.ReviewPage(review, carried(c)))
}

// notCarried are the fields of the form that say what to do with it, not
// what to create.
var notCarried = []string{"_csrf", "add_schedule", "add_tag", "back"}

// carried is every value the create form posted, in a stable order, for
// the review to post again.
func carried(c *echo.Context) []views.Carried {
	values, _ := c.FormValues()
	var out []views.Carried
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if slices.Contains(notCarried, name) {
			continue
		}
		for _, v := range values[name] {
			out = append(out, views.Carried{Name: name, Value: v})
		}
	}
	return out
}

// newScheduleRow is the create form's "Add schedule" with htmx: one blank
// schedule after the count posted, and the count and button anew.
func (s *Server) newScheduleRow(c *echo.Context) error {
	n, err := s.rowToAdd(c, "schedule_count", instancehub.MaxSchedules, "An instance has at most %d schedules.")
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "compute", templ.Join(
		views.ScheduleRow(n, instancehub.ScheduleRequest{}, nil, true), views.ScheduleAdder(n+1, true)))
}

// newTagRow is the create form's "Add tag" with htmx.
func (s *Server) newTagRow(c *echo.Context) error {
	n, err := s.rowToAdd(c, "tag_count", instancehub.MaxTags, "An instance takes at most %d tags.")
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "compute", templ.Join(
		views.TagRow(n, instancehub.Tag{}, false, true), views.TagAdder(n+1, true)))
}

// rowToAdd is the index of the row to add after the count the form holds,
// for someone who may create instances.
func (s *Server) rowToAdd(c *echo.Context, countField string, most int, tooMany string) (int, error) {
	if err := s.service.MayCreate(c.Request().Context()); err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(c.QueryParam(countField))
	switch {
	case err != nil || n < 0:
		return 0, instancehub.FieldError(countField, "The form's count of rows is not a number.")
	case n >= most:
		return 0, instancehub.FieldError(countField, fmt.Sprintf(tooMany, most))
	}
	return n, nil
}
