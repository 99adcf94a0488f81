package amlyaml

import (
	"strconv"
	"time"

	"github.com/instancehub/instancehub"
	"go.yaml.in/yaml/v3"
)

var (
	setupKeys  = keySet{read: []string{"creation_script", "startup_script"}}
	scriptKeys = keySet{read: []string{"path", "command", "timeout_minutes"}}
)

// setupScripts reads setup_scripts. As the reference's SDK maps a script
// to Azure's: with a path, the file (in the owner's files) runs with
// command as its arguments; without one, command is the script itself.
func (d *decoder) setupScripts(path string, n *yaml.Node) instancehub.SetupScripts {
	var s instancehub.SetupScripts
	v := d.mapping(path, n, setupKeys)
	if v == nil {
		return s
	}
	s.Creation = d.script(join(path, "creation_script"), v["creation_script"])
	s.Startup = d.script(join(path, "startup_script"), v["startup_script"])
	return s
}

func (d *decoder) script(path string, n *yaml.Node) *instancehub.SetupScript {
	v := d.mapping(path, n, scriptKeys)
	if v == nil {
		return nil
	}
	var s instancehub.SetupScript
	file, _ := d.str(join(path, "path"), v["path"])
	command, _ := d.str(join(path, "command"), v["command"])
	if file != "" {
		s.Path, s.Arguments = file, command
	} else {
		s.Command = command
	}
	if minutes, ok := d.integer(join(path, "timeout_minutes"), v["timeout_minutes"]); ok {
		if minutes < 1 || minutes > int64(instancehub.MaxSetupTimeout/time.Minute) {
			d.at(join(path, "timeout_minutes"), v["timeout_minutes"], "timeout_minutes must be 1 to %d", int(instancehub.MaxSetupTimeout/time.Minute))
		} else {
			s.Timeout = time.Duration(minutes) * time.Minute
		}
	}
	if s.Path == "" && s.Command == "" {
		d.at(path, n, "%s needs a path (a file in your files folder) or a command (the script itself)", last(path))
		return nil
	}
	return &s
}

// setupNode writes setup scripts as setupScripts reads them.
func setupNode(s instancehub.SetupScripts) *yaml.Node {
	m := &mapping{}
	m.add("creation_script", scriptNode(s.Creation))
	m.add("startup_script", scriptNode(s.Startup))
	return m.node()
}

func scriptNode(s *instancehub.SetupScript) *yaml.Node {
	if s == nil {
		return nil
	}
	m := &mapping{}
	if s.Path != "" {
		m.str("path", s.Path).str("command", s.Arguments)
	} else {
		m.str("command", s.Command)
	}
	if s.Timeout > 0 {
		m.add("timeout_minutes", scalar("!!int", strconv.FormatInt(int64(s.Timeout/time.Minute), 10)))
	}
	return m.node()
}
