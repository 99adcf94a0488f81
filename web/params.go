package web

import (
	"strconv"

	"github.com/labstack/echo/v5"
)

// idParam is the path's :id, a record's number: a decimal that fits an
// int64, or ok false, which a handler answers as not found. A number no
// record has (0, -1) goes on to the service, which authorizes first: a
// refusal never depends on whether the record exists.
func idParam(c *echo.Context) (id int64, ok bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	return id, err == nil
}
