package amlyaml

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
	"go.yaml.in/yaml/v3"
)

// SchemaURL is the reference's JSON schema of the file, which editors use
// to complete and check it.
const SchemaURL = "https://azuremlschemas.azureedge.net/latest/computeInstance.schema.json"

// Encode writes an instance back as a compute-instance file that Decode reads
// into the same request (a lossless round trip of every supported key).
// onBehalfOf is the owner's identifier for create_on_behalf_of.user_object_id,
// "" when the instance belongs to its creator.
func Encode(inst *instancehub.Instance, schedules []*instancehub.Schedule, onBehalfOf string) ([]byte, error) {
	if inst == nil {
		return nil, instancehub.Errorf(instancehub.EINTERNAL, "encode a compute-instance file: no instance")
	}
	m := &mapping{}
	m.str("$schema", SchemaURL)
	m.str("name", inst.Name)
	m.str("type", "computeinstance")
	m.str("size", inst.VMSize)
	m.str("location", inst.Region)
	m.str("description", inst.Description)
	m.add("tags", tagsNode(inst.Tags))
	if inst.SSHEnabled {
		m.add("ssh_public_access_enabled", scalar("!!bool", "true"))
	}
	m.add("ssh_settings", (&mapping{}).str("ssh_key_value", inst.SSHPublicKey).node())
	m.add("network_settings", networkNode(inst.VirtualNetwork, inst.Subnet))
	// 0 says "no idle shutdown", which leaving the key out would not: the
	// workspace's default would apply.
	m.add("idle_time_before_shutdown_minutes", scalar("!!int", strconv.FormatInt(int64(inst.IdleShutdown/time.Minute), 10)))
	m.add("create_on_behalf_of", (&mapping{}).str("user_object_id", onBehalfOf).node())
	m.add("identity", identityNode(inst.Identity))
	starts, err := schedulesNode(schedules)
	if err != nil {
		return nil, fmt.Errorf("encode the schedules of %s: %w", inst.Name, err)
	}
	m.add("schedules", starts)
	m.add("setup_scripts", setupNode(inst.Setup))
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m.node()); err != nil {
		return nil, fmt.Errorf("encode the compute-instance file of %s: %w", inst.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode the compute-instance file of %s: %w", inst.Name, err)
	}
	return buf.Bytes(), nil
}

// mapping builds a mapping node in the order keys are added, leaving out
// empty values: the file says only what differs from nothing.
type mapping struct{ content []*yaml.Node }

func (m *mapping) add(key string, value *yaml.Node) *mapping {
	if value != nil {
		m.content = append(m.content, scalar("!!str", key), value)
	}
	return m
}

func (m *mapping) str(key, value string) *mapping {
	if value != "" {
		m.add(key, scalar("!!str", value))
	}
	return m
}

// node is the mapping, nil when it is empty.
func (m *mapping) node() *yaml.Node {
	if len(m.content) == 0 {
		return nil
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: m.content}
}

// scalar is a value of the given tag; the encoder quotes a string that
// would otherwise read as another tag ("true", "30").
func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

// flowList writes a short list on one line: [8, 18].
func flowList(items []*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, Content: items}
}

func tagsNode(tags map[string]string) *yaml.Node {
	names := make([]string, 0, len(tags))
	for k := range tags {
		names = append(names, k)
	}
	slices.Sort(names)
	m := &mapping{}
	for _, k := range names {
		m.add(k, scalar("!!str", tags[k]))
	}
	return m.node()
}

func identityNode(id instancehub.ManagedIdentity) *yaml.Node {
	if id.None() {
		return nil
	}
	var types []string
	if id.SystemAssigned {
		types = append(types, "system_assigned")
	}
	var list []*yaml.Node
	for _, r := range id.UserAssigned {
		list = append(list, (&mapping{}).add("resource_id", scalar("!!str", r)).node())
	}
	if len(list) > 0 {
		types = append(types, "user_assigned")
	}
	m := (&mapping{}).str("type", strings.Join(types, ","))
	if len(list) > 0 {
		m.add("user_assigned_identities", &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: list})
	}
	return m.node()
}

func schedulesNode(schedules []*instancehub.Schedule) (*yaml.Node, error) {
	var list []*yaml.Node
	for _, s := range schedules {
		n, err := scheduleNode(s)
		if err != nil {
			return nil, err
		}
		list = append(list, n)
	}
	if len(list) == 0 {
		return nil, nil
	}
	starts := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: list}
	return (&mapping{}).add("compute_start_stop", starts).node(), nil
}

func scheduleNode(s *instancehub.Schedule) (*yaml.Node, error) {
	if s.Action != instancehub.OpStart && s.Action != instancehub.OpStop {
		return nil, instancehub.Errorf(instancehub.EINTERNAL, "schedule %d: action %q is neither start nor stop", s.ID, s.Action)
	}
	trigger := &mapping{}
	switch s.Kind {
	case instancehub.ScheduleCron:
		trigger.str("type", "cron").str("expression", s.Cron)
	case instancehub.ScheduleRecurrence:
		if len(s.Hours) == 0 || len(s.Minutes) == 0 || len(s.WeekDays) == 0 ||
			slices.ContainsFunc(s.WeekDays, func(d time.Weekday) bool { return d < time.Sunday || d > time.Saturday }) {
			return nil, instancehub.Errorf(instancehub.EINTERNAL, "schedule %d: a recurrence without hours, minutes or days of the week", s.ID)
		}
		trigger.str("type", "recurrence").str("frequency", "week").add("interval", scalar("!!int", "1"))
		trigger.str("time_zone", s.TimeZone).add("schedule", recurrenceNode(s))
	default:
		return nil, instancehub.Errorf(instancehub.EINTERNAL, "schedule %d: kind %q is neither cron nor recurrence", s.ID, s.Kind)
	}
	if s.Kind == instancehub.ScheduleCron {
		trigger.str("time_zone", s.TimeZone)
	}
	m := (&mapping{}).str("action", strings.ToLower(string(s.Action))).str("state", "enabled")
	return m.add("trigger", trigger.node()).node(), nil
}

// recurrenceNode writes the hours and minutes lists, whose cross product
// are the times: the portal makes every recurrence so.
func recurrenceNode(s *instancehub.Schedule) *yaml.Node {
	ints := func(v []int) *yaml.Node {
		var items []*yaml.Node
		for _, i := range v {
			items = append(items, scalar("!!int", strconv.Itoa(i)))
		}
		return flowList(items)
	}
	var days []*yaml.Node
	for _, d := range s.WeekDays {
		days = append(days, scalar("!!str", strings.ToLower(d.String())))
	}
	return (&mapping{}).add("hours", ints(s.Hours)).add("minutes", ints(s.Minutes)).add("week_days", flowList(days)).node()
}

// networkNode writes the network and subnet: by name, or, for a network
// recorded by its resource ID (in another resource group), as the subnet's
// resource ID, which names both.
func networkNode(network, subnet string) *yaml.Node {
	if strings.HasPrefix(network, "/") && subnet != "" {
		return (&mapping{}).str("subnet", network+"/subnets/"+subnet).node()
	}
	return (&mapping{}).str("vnet_name", network).str("subnet", subnet).node()
}
