package amlyaml

import (
	"strings"

	"github.com/instancehub/instancehub"
	"go.yaml.in/yaml/v3"
)

var (
	identityKeys     = keySet{read: []string{"type", "user_assigned_identities"}, shown: []string{"principal_id", "tenant_id"}}
	userIdentityKeys = keySet{read: []string{"resource_id"}, shown: []string{"principal_id", "client_id"}}
)

// identity reads the managed identity. Its type is written as az ml does
// (system_assigned) or as Azure does (SystemAssigned), in any case.
func (d *decoder) identity(path string, n *yaml.Node) instancehub.ManagedIdentity {
	var m instancehub.ManagedIdentity
	v := d.mapping(path, n, identityKeys)
	if v == nil {
		return m
	}
	typePath, listPath := join(path, "type"), join(path, "user_assigned_identities")
	t, ok := d.str(typePath, v["type"])
	system, user, known := identityType(t)
	switch {
	case !ok && blank(v["type"]):
		d.at(typePath, pos(v["type"], n), "type is required: system_assigned, user_assigned, system_assigned,user_assigned or none")
		return m
	case !ok:
		return m
	case !known:
		d.at(typePath, v["type"], "type must be system_assigned, user_assigned, system_assigned,user_assigned or none, not %q", clip(t))
		return m
	}
	m.SystemAssigned = system
	ids := d.userIdentities(listPath, v["user_assigned_identities"])
	switch {
	case user && len(ids) == 0 && empty(v["user_assigned_identities"]):
		d.at(listPath, n, "user_assigned_identities is required with type %s: the resource IDs of the identities", t)
	case !user && !empty(v["user_assigned_identities"]):
		d.at(listPath, v["user_assigned_identities"], "user_assigned_identities goes with type user_assigned; this type is %s", clip(t))
	case user:
		m.UserAssigned = ids
	}
	return m
}

// identityType reads an identity's type: whether it is system-assigned,
// user-assigned, and whether it is one of the types at all.
func identityType(t string) (system, user, known bool) {
	var parts []string
	for p := range strings.SplitSeq(strings.ToLower(t), ",") {
		parts = append(parts, strings.ReplaceAll(strings.TrimSpace(p), "_", ""))
	}
	switch strings.Join(parts, ",") {
	case "none":
		return false, false, true
	case "systemassigned":
		return true, false, true
	case "userassigned":
		return false, true, true
	case "systemassigned,userassigned", "userassigned,systemassigned":
		return true, true, true
	}
	return false, false, false
}

// userIdentities reads the list of {resource_id: …}.
func (d *decoder) userIdentities(path string, n *yaml.Node) []string {
	var ids []string
	for i, item := range d.list(path, n, maxEntries, "identities") {
		itemPath := index(path, i)
		v := d.mapping(itemPath, item, userIdentityKeys)
		id, ok := d.str(join(itemPath, "resource_id"), v["resource_id"])
		switch {
		case ok:
			ids = append(ids, id)
		case v != nil && blank(v["resource_id"]) || null(item):
			d.at(join(itemPath, "resource_id"), item, "resource_id is required: the user-assigned identity's resource ID")
		}
	}
	return ids
}
