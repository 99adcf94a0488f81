// Package amlyaml reads and writes the reference product's declarative
// file: the az ml CLI v2 compute-instance YAML (type: computeinstance), or
// the same as JSON. It checks the file's shape, with the line and column of
// every problem; the service checks the values.
package amlyaml

import (
	"strconv"
	"strings"

	"github.com/instancehub/instancehub"
	"go.yaml.in/yaml/v3"
)

// File is a decoded compute-instance file.
type File struct {
	Request instancehub.CreateRequest
	// IdleSet is whether the file gives an idle time; when it does not, the
	// workspace's default applies (the caller fills it in).
	IdleSet bool
	// LocationSet is whether the file names a location; when it does not, the caller uses the default region.
	LocationSet bool
	// Positions says where each key read is, "line L, column C" by key
	// path ("size", "schedules.compute_start_stop[0].trigger"), so that a
	// refusal of its value can point at it.
	Positions map[string]string
}

// Decode reads a compute-instance file, YAML or JSON, into a create request.
// A refused file is one EINVALID *instancehub.Error listing every problem,
// its Fields keyed by key path ("schedules.compute_start_stop[0].action")
// and each starting "line L, column C: ".
func Decode(data []byte) (*File, error) {
	d := &decoder{positions: map[string]string{}}
	f := &File{Positions: d.positions}
	if root := d.parse(data); root != nil {
		d.file(root, f)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// topKeys are the keys of the file, the reference's schema
// (azure-ai-ml's ComputeInstanceSchema).
var topKeys = keySet{
	read: []string{"$schema", "type", "name", "size", "location", "description", "tags",
		"ssh_public_access_enabled", "ssh_settings", "network_settings",
		"idle_time_before_shutdown", "idle_time_before_shutdown_minutes",
		"create_on_behalf_of", "identity", "schedules", "setup_scripts"},
	shown: []string{"id", "state", "last_operation", "services", "os_image_metadata",
		"provisioning_state", "provisioning_errors", "created_on", "resourceGroup"},
	unsupported: map[string]feature{
		"custom_applications":   {why: "an instance offers JupyterLab, Jupyter, RStudio and a terminal, and no others."},
		"image_metadata":        {why: "instances are made from the portal's image."},
		"resource_id":           {why: "it attaches an existing machine, and the portal only creates its own."},
		"enable_node_public_ip": {fine: "true", why: "whether instances get a public IP is the portal's setting, for all of them."},
		"enable_sso":            {fine: "true", why: "an instance's applications always open with its owner's portal sign-in."},
		"enable_root_access":    {fine: "true", why: "azureuser always has root access (sudo) on an instance."},
		"enable_os_patching":    {fine: "false", why: "the portal does not patch the operating system of instances."},
		"release_quota_on_stop": {fine: "true", why: "stopping deallocates the VM, which always releases its cores."},
	},
}

// file reads the root mapping into f.
func (d *decoder) file(root *yaml.Node, f *File) {
	v := d.mapping("", root, topKeys)
	r := &f.Request
	d.str("$schema", v["$schema"])
	d.computeType(root, v["type"])
	if name, ok := d.str("name", v["name"]); ok {
		r.Name = name
	} else if blank(v["name"]) {
		d.at("name", pos(v["name"], root), "name is required: the name of the compute instance")
	}
	r.VMSize = instancehub.DefaultVMSize
	if size, ok := d.str("size", v["size"]); ok {
		r.VMSize = size
	}
	r.Region, f.LocationSet = d.str("location", v["location"])
	r.Description, _ = d.str("description", v["description"])
	r.Tags = d.tags("tags", v["tags"])
	r.SSHEnabled, _ = d.boolean("ssh_public_access_enabled", v["ssh_public_access_enabled"])
	r.SSHPublicKey = d.sshSettings("ssh_settings", v["ssh_settings"])
	// SSH on without a key is the reference's "set up an SSH key later":
	// the owner adds theirs once the instance runs.
	r.SSHKeyLater = r.SSHEnabled && r.SSHPublicKey == ""
	r.VirtualNetwork, r.Subnet = d.network("network_settings", v["network_settings"])
	if minutes, ok := d.idle(v["idle_time_before_shutdown"], v["idle_time_before_shutdown_minutes"]); ok {
		r.IdleShutdownOn, r.IdleMinutes, f.IdleSet = minutes > 0, strconv.FormatInt(minutes, 10), true
	}
	r.AssignTo = d.onBehalfOf("create_on_behalf_of", v["create_on_behalf_of"])
	r.Identity = d.identity("identity", v["identity"])
	r.Schedules = d.schedules("schedules", v["schedules"])
	r.Setup = d.setupScripts("setup_scripts", v["setup_scripts"])
}

// computeType checks type: computeinstance, which az ml requires: the same
// command reads files of other computes.
func (d *decoder) computeType(root, n *yaml.Node) {
	t, ok := d.str("type", n)
	switch {
	case ok && !strings.EqualFold(t, "computeinstance"):
		d.at("type", n, "type must be computeinstance, not %q: instancehub makes compute instances only", clip(t))
	case !ok && blank(n):
		d.at("type", pos(n, root), "type is required: write type: computeinstance")
	}
}

// tags reads a mapping of names to scalars; numbers and booleans become
// their text, as az ml makes them.
func (d *decoder) tags(path string, n *yaml.Node) map[string]string {
	if null(n) || !d.kind(path, n, yaml.MappingNode, "a mapping of names to values") {
		return nil
	}
	if len(n.Content)/2 > maxEntries {
		d.at(path, n, "tags has %d tags: at most %d", len(n.Content)/2, maxEntries)
		return nil
	}
	tags := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		name, ok := d.key(path, key)
		if !ok {
			continue
		}
		tagPath := join(path, name)
		if _, dup := tags[name]; dup {
			d.at(tagPath, key, "duplicate tag %q: give each tag once", clip(name))
			continue
		}
		if text, ok := d.tagValue(tagPath, value); ok {
			tags[name] = text
		}
	}
	if len(tags) == 0 {
		return nil
	}
	return tags
}

func (d *decoder) tagValue(path string, n *yaml.Node) (string, bool) {
	if null(n) {
		return "", true
	}
	if !d.kind(path, n, yaml.ScalarNode, "a string, a number or a boolean") {
		return "", false
	}
	switch n.ShortTag() {
	case "!!str", "!!int", "!!float", "!!bool":
		return n.Value, true
	}
	d.at(path, n, "the tag %s must be a string, a number or a boolean, not %s", clip(last(path)), describe(n))
	return "", false
}

var sshKeys = keySet{read: []string{"ssh_key_value", "admin_username", "ssh_port"}}

// sshSettings reads the public key. The user name and the port are read
// only; a shown file gives them, and they must be the portal's.
func (d *decoder) sshSettings(path string, n *yaml.Node) string {
	v := d.mapping(path, n, sshKeys)
	key, _ := d.str(join(path, "ssh_key_value"), v["ssh_key_value"])
	if user, ok := d.str(join(path, "admin_username"), v["admin_username"]); ok && user != instancehub.SSHUser {
		d.at(join(path, "admin_username"), v["admin_username"],
			"admin_username %q is not supported by instancehub: an instance's user is always %s.", clip(user), instancehub.SSHUser)
	}
	if port := v["ssh_port"]; !null(port) && port.Kind == yaml.ScalarNode && port.Value != strconv.Itoa(instancehub.DefaultSSHPort) {
		d.at(join(path, "ssh_port"), port, "ssh_port %s is not supported by instancehub: SSH always listens on port %d.",
			clip(port.Value), instancehub.DefaultSSHPort)
	} else if !null(port) {
		d.kind(join(path, "ssh_port"), port, yaml.ScalarNode, "a port number")
	}
	return key
}

var networkKeys = keySet{read: []string{"vnet_name", "subnet"}, shown: []string{"private_ip_address", "public_ip_address"}}

// network reads the virtual network and subnet. A subnet may be a full
// resource ID, which names both: the network is then its resource ID, with
// its resource group and subscription, which the service matches against
// the networks instances may join. Its name alone would pick a network of
// that name in the portal's own group, wherever the file's is.
func (d *decoder) network(path string, n *yaml.Node) (vnet, subnet string) {
	v := d.mapping(path, n, networkKeys)
	vnet, _ = d.str(join(path, "vnet_name"), v["vnet_name"])
	subnet, ok := d.str(join(path, "subnet"), v["subnet"])
	switch {
	case !ok:
		return vnet, ""
	case strings.HasPrefix(subnet, "/"):
		network, name, valid := subnetID(subnet)
		switch {
		case !valid:
			d.at(join(path, "subnet"), v["subnet"], "subnet %q is neither a subnet's name nor its resource ID "+
				"(/subscriptions/…/resourceGroups/…/providers/Microsoft.Network/virtualNetworks/VNET/subnets/SUBNET)", clip(subnet))
		case vnet != "" && vnet != network[strings.LastIndex(network, "/")+1:]:
			d.at(join(path, "subnet"), v["subnet"], "subnet is in the virtual network %s, but vnet_name says %s",
				clip(network[strings.LastIndex(network, "/")+1:]), clip(vnet))
		}
		return network, name
	case vnet == "":
		d.at(join(path, "subnet"), v["subnet"], "subnet needs vnet_name: give the subnet's virtual network, or its resource ID as subnet")
	}
	return vnet, subnet
}

// subnetID splits a subnet's resource ID into its network's resource ID
// and its own name.
func subnetID(id string) (network, subnet string, ok bool) {
	parts := strings.Split(id, "/")
	n := len(parts)
	if n != 11 || parts[0] != "" || !strings.EqualFold(parts[1], "subscriptions") || !strings.EqualFold(parts[3], "resourceGroups") ||
		!strings.EqualFold(parts[5], "providers") || !strings.EqualFold(parts[6], "Microsoft.Network") ||
		!strings.EqualFold(parts[7], "virtualNetworks") || !strings.EqualFold(parts[9], "subnets") {
		return "", "", false
	}
	for _, p := range parts[1:] {
		if p == "" {
			return "", "", false
		}
	}
	return strings.Join(parts[:9], "/"), parts[10], true
}

var onBehalfKeys = keySet{read: []string{"user_object_id", "user_tenant_id"}}

// onBehalfOf reads who the instance is for; the portal matches the object
// ID against its users' emails and single sign-on subjects. The tenant is
// the portal's own.
func (d *decoder) onBehalfOf(path string, n *yaml.Node) string {
	v := d.mapping(path, n, onBehalfKeys)
	if v == nil {
		return ""
	}
	d.str(join(path, "user_tenant_id"), v["user_tenant_id"])
	user, ok := d.str(join(path, "user_object_id"), v["user_object_id"])
	if !ok && blank(v["user_object_id"]) {
		d.at(join(path, "user_object_id"), pos(v["user_object_id"], n), "user_object_id is required: who the instance is created for")
	}
	return user
}
