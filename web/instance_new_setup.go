package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// parseSetupScripts reads the create form's Setup scripts into form: a
// phase's script exists when any of its fields was filled, and the service
// checks it by the rule the API and the az ml file meet. A timeout that is
// not a number is kept as typed and sent as one out of bounds, which that
// rule refuses by its field.
func parseSetupScripts(c *echo.Context, form *views.CreateForm) {
	form.SetupTimeouts = map[instancehub.SetupPhase]string{}
	for _, phase := range []instancehub.SetupPhase{instancehub.SetupCreation, instancehub.SetupStartup} {
		prefix := string(phase) + "_script_"
		command, path := c.FormValue(prefix+"command"), c.FormValue(prefix+"path")
		arguments, timeout := c.FormValue(prefix+"arguments"), strings.TrimSpace(c.FormValue(prefix+"timeout"))
		form.SetupTimeouts[phase] = timeout
		if strings.TrimSpace(command) == "" && strings.TrimSpace(path) == "" && strings.TrimSpace(arguments) == "" && timeout == "" {
			continue
		}
		script := &instancehub.SetupScript{Command: command, Path: path, Arguments: strings.TrimSpace(arguments)}
		if strings.TrimSpace(command) == "" {
			script.Command = ""
		}
		if timeout != "" {
			minutes, err := strconv.Atoi(timeout)
			if err != nil || minutes < 1 || minutes > int(instancehub.MaxSetupTimeout/time.Minute) {
				minutes = -1
			}
			script.Timeout = time.Duration(minutes) * time.Minute
		}
		if phase == instancehub.SetupCreation {
			form.Request.Setup.Creation = script
		} else {
			form.Request.Setup.Startup = script
		}
	}
}
