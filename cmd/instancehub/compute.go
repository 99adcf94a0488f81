package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/instancehub/instancehub/client"
	"go.yaml.in/yaml/v3"
	"golang.org/x/term"
)

const computeUsage = `Usage: instancehub compute COMMAND [NAME] [flags]

Drives a portal's compute instances through its JSON API, with a personal
access token (the Tokens page, or instancehub tokens create).

  list                         list the instances (--search S, --mine; --output yaml:
                               their az ml files, as a YAML list)
  show NAME                    show one (--output table, json or yaml: the az ml file)
  create --file FILE.yml       create one from an az ml compute-instance file (YAML or JSON)
  create --name NAME [--size S] [--location L] [--description D]
                               (or create NAME, the name without --name)
  apply --file FILE.yml        create the file's instance unless one of its name exists
                               as the file describes (one that differs is refused)
  start|stop|restart NAME      start, stop or restart one
  delete NAME                  delete one
  ops NAME                     list its operations, newest first (a deleted one's too)

Flags of every command: --url (INSTANCEHUB_URL), --token (INSTANCEHUB_TOKEN),
--output table|json (the API's JSON, as the OpenAPI document names it),
--wait (wait for the operation to end, with a progress line on a terminal),
--timeout (how long --wait waits). A flag may be written with one dash too.

Exit status: 0 done, 1 refused or failed, 2 bad usage.
`

// computeCLI is one run of instancehub compute.
type computeCLI struct {
	url, token, output string
	wait               bool
	timeout            time.Duration
	stdout, stderr     io.Writer
	api                *client.Client
	// terminal is set when stderr is a terminal: --wait then redraws one
	// progress line.
	terminal bool
}

// computeCommand runs instancehub compute.
func computeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, computeUsage)
		if len(args) == 0 {
			return usageError{errors.New("a command is needed")}
		}
		return nil
	}
	verb, args := args[0], args[1:]
	switch verb {
	case "list", "show", "create", "apply", "start", "stop", "restart", "delete", "ops":
	default:
		return usageError{fmt.Errorf("unknown command compute %s; run instancehub compute help", verb)}
	}
	var name string
	cli := &computeCLI{stdout: stdout, stderr: stderr}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		cli.terminal = true
	}
	var file, search, size, location, description, flagName string
	var mine bool
	var parsed *flag.FlagSet
	err := parse("compute "+verb, args, stderr, func(f *flags) {
		parsed = f.fs
		f.string(&cli.url, "url", "http://127.0.0.1:8080", "address of the portal")
		f.secret(&cli.token, "token", "personal access token")
		f.fs.StringVar(&cli.output, "output", "table", "table or json (list and show: yaml too)")
		f.fs.BoolVar(&cli.wait, "wait", false, "wait for the operation to end")
		f.fs.DurationVar(&cli.timeout, "timeout", 30*time.Minute, "how long --wait waits")
		switch verb {
		case "list":
			f.fs.StringVar(&search, "search", "", "a part of the name")
			f.fs.BoolVar(&mine, "mine", false, "only your own")
		case "create":
			f.fs.StringVar(&file, "file", "", "an az ml compute-instance file, YAML or JSON")
			f.fs.StringVar(&flagName, "name", "", "the instance's name (or give it without --name)")
			f.fs.StringVar(&size, "size", "", "VM size (default Standard_DS3_v2)")
			f.fs.StringVar(&location, "location", "", "region (default the portal's first)")
			f.fs.StringVar(&description, "description", "", "what it is for")
		case "apply":
			f.fs.StringVar(&file, "file", "", "an az ml compute-instance file, YAML or JSON")
		}
	})
	if err != nil {
		return usageError{err}
	}
	// The name may come before flags or after them, and more flags after it:
	// parsing stops at it.
	rest := parsed.Args()
	if len(rest) > 0 {
		name = rest[0]
		if err := parsed.Parse(rest[1:]); err != nil {
			return usageError{err}
		}
		rest = parsed.Args()
	}
	if len(rest) > 0 {
		return usageError{fmt.Errorf("compute %s takes one instance name; %q is one too many", verb, rest[0])}
	}
	switch {
	case cli.output != "table" && cli.output != "json" && !(cli.output == "yaml" && (verb == "show" || verb == "list")):
		return usageError{fmt.Errorf("--output is table or json (or yaml for list and show), not %q", cli.output)}
	case flagName != "" && name != "" && flagName != name:
		return usageError{fmt.Errorf("create names the instance %q with --name and %q without: give one", flagName, name)}
	case verb == "apply" && file == "":
		return usageError{errors.New("compute apply needs --file FILE, an az ml compute-instance file")}
	case verb == "apply" && name != "":
		return usageError{errors.New("compute apply takes its name from the file, not from the command line")}
	case cli.token == "":
		return usageError{errors.New("no token: give --token or set INSTANCEHUB_TOKEN (create one on the portal's Tokens page)")}
	}
	if flagName != "" {
		name = flagName
	}
	needsName := verb != "list" && verb != "apply" && !(verb == "create" && file != "")
	if needsName && name == "" {
		return usageError{fmt.Errorf("compute %s needs the instance's name", verb)}
	}
	cli.api = client.New(cli.url, cli.token)
	err = func() error {
		switch verb {
		case "list":
			return cli.list(ctx, search, mine)
		case "show":
			return cli.show(ctx, name)
		case "create":
			return cli.create(ctx, name, file, size, location, description)
		case "apply":
			return cli.apply(ctx, file)
		case "start", "stop", "restart":
			a, err := cli.api.Act(ctx, name, verb)
			return cli.accepted(ctx, a, err)
		case "delete":
			a, err := cli.api.Delete(ctx, name)
			return cli.accepted(ctx, a, err)
		}
		return cli.ops(ctx, name)
	}()
	if address := (*client.AddressError)(nil); errors.As(err, &address) {
		return usageError{fmt.Errorf("--url: %w", address.Err)}
	}
	return err
}

func (cli *computeCLI) list(ctx context.Context, search string, mine bool) error {
	all, err := cli.api.Computes(ctx, search, mine)
	if err != nil {
		return err
	}
	switch cli.output {
	case "json":
		return writeJSON(cli.stdout, all)
	case "yaml":
		return cli.listYAML(ctx, all)
	}
	w := tabwriter.NewWriter(cli.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSTATE\tSIZE\tLOCATION\tCREATED BY\tCREATED ON")
	for _, raw := range all {
		var c client.Compute
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		p := c.Properties.Properties
		by := p.CreatedBy.UserName
		if p.AssignedUser != nil {
			by += " for " + p.AssignedUser.UserName
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, p.State, p.VMSize, c.Location, by, c.Properties.CreatedOn.Local().Format("2006-01-02 15:04"))
	}
	return w.Flush()
}

// listYAML writes the instances as az ml compute list -o yaml does: a YAML
// list whose items are the files the portal writes for each (show --output
// yaml), schedules included.
func (cli *computeCLI) listYAML(ctx context.Context, all []json.RawMessage) error {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, raw := range all {
		var c client.Compute
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		data, err := cli.api.ComputeYAML(ctx, c.Name)
		if code := (*client.Error)(nil); errors.As(err, &code) && code.Status == 404 {
			continue // deleted since the list was read
		} else if err != nil {
			return err
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
			return fmt.Errorf("the portal's file of %s is not YAML: %v", c.Name, err)
		}
		list.Content = append(list.Content, doc.Content[0])
	}
	if len(list.Content) == 0 {
		_, err := io.WriteString(cli.stdout, "[]\n")
		return err
	}
	enc := yaml.NewEncoder(cli.stdout)
	enc.SetIndent(2)
	if err := enc.Encode(list); err != nil {
		return err
	}
	return enc.Close()
}

func (cli *computeCLI) show(ctx context.Context, name string) error {
	if cli.output == "yaml" {
		data, err := cli.api.ComputeYAML(ctx, name)
		if err != nil {
			return err
		}
		_, err = cli.stdout.Write(data)
		return err
	}
	raw, err := cli.api.Compute(ctx, name)
	if err != nil {
		return err
	}
	if cli.output == "json" {
		return writeJSON(cli.stdout, raw)
	}
	var c client.Compute
	if err := json.Unmarshal(raw, &c); err != nil {
		return err
	}
	p := c.Properties.Properties
	w := tabwriter.NewWriter(cli.stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%s\t%s\n", k, v)
		}
	}
	row("Name", c.Name)
	row("State", p.State)
	row("Size", p.VMSize)
	row("Location", c.Location)
	row("Description", c.Properties.Description)
	row("Created by", p.CreatedBy.UserName)
	if p.AssignedUser != nil {
		row("Assigned to", p.AssignedUser.UserName)
	}
	row("Created on", c.Properties.CreatedOn.Local().Format("2006-01-02 15:04"))
	row("Private IP", p.ConnectivityEndpoints.PrivateIPAddress)
	row("Public IP", p.ConnectivityEndpoints.PublicIPAddress)
	row("SSH", p.SSHSettings.SSHPublicAccess)
	if m := strings.TrimSuffix(strings.TrimPrefix(p.IdleTimeBeforeShutdown, "PT"), "M"); m != "" {
		row("Idle shutdown", "after "+m+" minutes idle")
	}
	if op := p.LastOperation; op != nil {
		row("Last operation", fmt.Sprintf("%s %s (%s, %s)", op.OperationName, op.OperationStatus, op.OperationTrigger, op.OperationTime.Local().Format("2006-01-02 15:04")))
	}
	for _, e := range p.Errors {
		row("Error", e.Message)
	}
	for _, app := range p.Applications {
		row(app.DisplayName, app.EndpointURI)
	}
	return w.Flush()
}

func (cli *computeCLI) create(ctx context.Context, name, file, size, location, description string) error {
	var body []byte
	contentType := "application/json"
	if file != "" {
		if name != "" || size != "" || location != "" || description != "" {
			return usageError{errors.New("create takes either --file or a name with --size, --location and --description")}
		}
		var err error
		if body, contentType, err = readComputeFile(file); err != nil {
			return err
		}
	} else {
		spec := map[string]string{"name": name, "type": "computeinstance", "size": size, "location": location, "description": description}
		for k, v := range spec {
			if v == "" {
				delete(spec, k)
			}
		}
		body, _ = json.Marshal(spec)
	}
	// A create retried after a lost answer makes no second instance.
	a, err := cli.api.Create(ctx, body, contentType)
	return cli.accepted(ctx, a, err)
}

// apply sends file to the API's apply: an instance of the file's name that
// exists as the file describes is shown, and nothing is done; otherwise the
// create begins, as create --file's.
func (cli *computeCLI) apply(ctx context.Context, file string) error {
	body, contentType, err := readComputeFile(file)
	if err != nil {
		return err
	}
	a, existing, err := cli.api.Apply(ctx, body, contentType)
	if err != nil || existing == nil {
		return cli.accepted(ctx, a, err)
	}
	if cli.output == "json" {
		return writeJSON(cli.stdout, existing)
	}
	var c client.Compute
	if err := json.Unmarshal(existing, &c); err != nil {
		return err
	}
	fmt.Fprintf(cli.stdout, "%s exists as the file describes (%s); nothing to do.\n", c.Name, c.Properties.Properties.State)
	return nil
}

// readComputeFile reads an az ml compute-instance file: JSON when its name
// ends in .json, else YAML.
func readComputeFile(file string) ([]byte, string, error) {
	body, err := os.ReadFile(file)
	if err != nil {
		return nil, "", usageError{err}
	}
	if strings.HasSuffix(strings.ToLower(file), ".json") {
		return body, "application/json", nil
	}
	return body, "application/yaml", nil
}

// accepted says that the operation a request began was accepted, or waits
// for its end with --wait; err is the request's.
func (cli *computeCLI) accepted(ctx context.Context, a *client.Accepted, err error) error {
	if err != nil {
		return err
	}
	op := a.Operation
	if !cli.wait {
		if cli.output == "json" {
			return writeJSON(cli.stdout, op)
		}
		fmt.Fprintf(cli.stdout, "%s of %s accepted (operation %s). Follow it with: instancehub compute ops %s\n", op.Name, op.Compute, op.ID, op.Compute)
		return nil
	}
	return cli.follow(ctx, a.Location, op)
}

// follow polls an operation until it ends, redrawing a progress line on a
// terminal; a failed operation is exit status 1.
func (cli *computeCLI) follow(ctx context.Context, location string, op client.Operation) error {
	ctx, cancel := context.WithTimeout(ctx, cli.timeout)
	defer cancel()
	start := time.Now()
	for op.Status == "InProgress" {
		if cli.terminal {
			step := ""
			if op.Step != "" {
				step = ": " + op.Step
			}
			fmt.Fprintf(cli.stderr, "\r\x1b[K%s %s%s … %s", op.Name, op.Compute, step, time.Since(start).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			if cli.terminal {
				fmt.Fprintln(cli.stderr)
			}
			return fmt.Errorf("%s of %s is still in progress after %s; follow it with: instancehub compute ops %s", op.Name, op.Compute, cli.timeout, op.Compute)
		case <-time.After(pollEvery(time.Since(start))):
		}
		next, err := cli.api.Operation(ctx, location)
		if err != nil {
			return err
		}
		op = *next
	}
	if cli.terminal {
		fmt.Fprint(cli.stderr, "\r\x1b[K")
	}
	if cli.output == "json" {
		if err := writeJSON(cli.stdout, op); err != nil {
			return err
		}
	} else if op.Status == "Succeeded" {
		fmt.Fprintf(cli.stdout, "%s of %s succeeded in %s.\n", op.Name, op.Compute, time.Since(start).Round(time.Second))
	}
	if op.Status != "Succeeded" {
		reason := "no reason given"
		if op.Error != nil {
			reason = op.Error.Message
		}
		return fmt.Errorf("%s of %s failed: %s", op.Name, op.Compute, reason)
	}
	return nil
}

// pollEvery is how long to wait before asking again: soon at first, then
// every few seconds, as Azure's own pollers do.
func pollEvery(elapsed time.Duration) time.Duration {
	switch {
	case elapsed < 2*time.Second:
		return 100 * time.Millisecond
	case elapsed < 20*time.Second:
		return time.Second
	}
	return 5 * time.Second
}

func (cli *computeCLI) ops(ctx context.Context, name string) error {
	ops, err := cli.api.Operations(ctx, name)
	if err != nil {
		return err
	}
	if cli.output == "json" {
		return writeJSON(cli.stdout, ops)
	}
	w := tabwriter.NewWriter(cli.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tOPERATION\tSTATUS\tTRIGGER\tBY\tSTARTED\tENDED\tERROR")
	for _, op := range ops {
		ended, reason := "", ""
		if op.EndTime != nil {
			ended = op.EndTime.Local().Format("2006-01-02 15:04:05")
		}
		if op.Error != nil {
			reason = op.Error.Message
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", op.ID, op.Name, op.Status, op.Trigger, op.UserName,
			op.StartTime.Local().Format("2006-01-02 15:04:05"), ended, reason)
	}
	return w.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
