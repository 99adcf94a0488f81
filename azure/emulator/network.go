package emulator

import (
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
)

// networkPut is a PUT of a network resource: build checks the body against
// the model and fills in what the network resource provider adds, recording
// on r what the rules need. The resource shows Updating until the operation
// is due; a PUT on an existing resource is an update, as idempotent as ARM's.
type networkPut struct {
	api      string
	typ      string
	name     string
	location *string
	sent     any
	time     time.Duration
	build    func(c *cloud, r, old *resource) (any, error)
}

func (e *Emulator) putNetwork(p networkPut) error {
	return e.withCloud(func(c *cloud, now time.Time) error {
		loc := normalizeLocation(p.location)
		if _, ok := findRegion(loc); !ok {
			return locationNotAvailable(loc, providerOf(p.typ)+"/"+p.typ)
		}
		r := &resource{Type: p.typ, Name: p.name, Location: loc, GUID: newUUID()}
		old := c.get(p.typ, p.name)
		if old != nil {
			if old.Active != "" {
				return anotherOperation(c.id(p.typ, old.Name))
			}
			if old.Location != loc {
				return invalidLocation(p.typ, old.Name, c.ResourceGroup, old.Location, loc)
			}
			r.Name, r.Ops, r.GUID, r.Address, r.Changed = old.Name, old.Ops, old.GUID, old.Address, old.Changed
		}
		body, err := p.build(c, r, old)
		if err != nil {
			return err
		}
		c.put(r, mustJSON(body), mustJSON(p.sent))
		op := &operation{Name: "createOrUpdate", Due: now.Add(e.scale(p.time)), Fail: e.takeFault(p.api, p.name, true)}
		c.begin(r, kindPut, op, stateUpdating, "", now)
		return nil
	})
}

// deleteNetwork deletes a network resource nothing uses any more.
func (e *Emulator) deleteNetwork(api, typ, name string) error {
	return e.withCloud(func(c *cloud, now time.Time) error {
		r := c.get(typ, name)
		switch {
		case r == nil:
			return notFound(typ, name, c.ResourceGroup)
		case r.Active == kindDelete:
			return nil // joins the deletion in progress
		case r.Active != "":
			return anotherOperation(c.id(typ, r.Name))
		}
		if err := c.inUse(r); err != nil {
			return err
		}
		op := &operation{Name: "delete", Due: now.Add(e.scale(netDelTime)), Fail: e.takeFault(api, name, true)}
		c.begin(r, kindDelete, op, stateDeleting, "", now)
		return nil
	})
}

// inUse refuses to delete what another resource still uses, as the network
// resource provider does.
func (c *cloud) inUse(r *resource) error {
	id := c.id(r.Type, r.Name)
	switch r.Type {
	case typeNIC:
		if vm := c.nicOwner(r); vm != nil {
			return armErr(http.StatusBadRequest, "NicInUse",
				"Network Interface %s is used by existing resource %s. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.",
				id, c.id(typeVM, vm.Name))
		}
	case typePIP:
		if nic, cfg := c.publicIPUser(r); nic != nil {
			return armErr(http.StatusBadRequest, "PublicIPAddressCannotBeDeleted",
				"Public IP address %s can not be deleted since it is still allocated to resource %s/ipConfigurations/%s. In order to delete the public IP, disassociate/detach the Public IP address from the resource. To learn how to do this, see aka.ms/deletepublicip.",
				id, c.id(typeNIC, nic.Name), cfg)
		}
	case typeNSG:
		if users := c.nsgUsers(r); len(users) > 0 {
			return armErr(http.StatusBadRequest, "InUseNetworkSecurityGroupCannotBeDeleted",
				"Network security group %s cannot be deleted because it is in use by the following resources: %s. In order to delete the Network security group, remove the association with the resource(s). To learn how to do this, see aka.ms/deletensg.",
				id, strings.Join(users, ", "))
		}
	case typeVNet:
		for _, s := range r.Subnets {
			if err := c.subnetInUse(r, s.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// ref resolves a reference from resource r (whose ID is by) to a resource of
// type typ: it must exist in r's region.
func (c *cloud) ref(id *string, typ string, r *resource, by string) (*resource, error) {
	if id == nil {
		return nil, invalidParameter("A reference from %s has no id.", by)
	}
	name, _, ok := c.parseID(*id, typ)
	t := c.get(typ, name)
	if !ok || t == nil || t.Active == kindDelete || t.Location != r.Location {
		return nil, invalidReference(*id, by)
	}
	return t, nil
}

// netState is a resource's provisioning state in the network SDK's type.
func netState(r *resource) *armnetwork.ProvisioningState {
	return to.Ptr(armnetwork.ProvisioningState(r.State))
}

// etag is a fresh weak ETag, as the network resource provider sets on each PUT.
func etag() *string { return to.Ptr(`W/"` + newUUID() + `"`) }
