package instancehub

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Bounds of what an instance carries besides its settings, as Azure bounds
// them on a resource: at most 50 tags, of which the portal keeps 3 for its
// own (instancehub-…), a name of at most 512 characters (128 kept here, as
// a storage account's tags are) and a value of 256.
const (
	MaxDescriptionLength = 1024
	MaxTags              = 47
	MaxTagNameLength     = 128
	MaxTagValueLength    = 256
	// MaxUserAssignedIdentities is how many user-assigned identities a VM
	// may be given here.
	MaxUserAssignedIdentities = 10
)

// ManagedIdentity is the Azure managed identity an instance's VM gets, so
// that code on it reaches storage and other services without a secret: the
// VM's own (system-assigned), identities made beforehand (user-assigned),
// or both. The zero value is none.
type ManagedIdentity struct {
	SystemAssigned bool
	// UserAssigned are the resource IDs of user-assigned identities:
	// /subscriptions/…/resourceGroups/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME.
	UserAssigned []string
}

// None reports whether the VM gets no managed identity.
func (m ManagedIdentity) None() bool { return !m.SystemAssigned && len(m.UserAssigned) == 0 }

// Type is the identity's type as Azure Resource Manager names it:
// "SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned" or "None".
func (m ManagedIdentity) Type() string {
	switch {
	case m.SystemAssigned && len(m.UserAssigned) > 0:
		return "SystemAssigned, UserAssigned"
	case m.SystemAssigned:
		return "SystemAssigned"
	case len(m.UserAssigned) > 0:
		return "UserAssigned"
	}
	return "None"
}

// userAssignedIdentityID is the form of a user-assigned identity's
// resource ID; Azure compares them case-insensitively.
var userAssignedIdentityID = regexp.MustCompile(`(?i)^/subscriptions/[0-9a-f-]{36}/resourceGroups/[-\w._()]{1,90}/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[-\w]{3,128}$`)

// ValidateIdentity checks a managed identity's user-assigned resource IDs.
// EINVALID on the field "identity".
func ValidateIdentity(m ManagedIdentity) error {
	if len(m.UserAssigned) > MaxUserAssignedIdentities {
		return FieldError("identity", fmt.Sprintf("An instance takes at most %d user-assigned identities; this one names %d.", MaxUserAssignedIdentities, len(m.UserAssigned)))
	}
	seen := map[string]bool{}
	for _, id := range m.UserAssigned {
		if !userAssignedIdentityID.MatchString(id) {
			return FieldError("identity", fmt.Sprintf("%q is not the resource ID of a user-assigned identity: "+
				"/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME.", Clip(id, MaxAuditTargetLength)))
		}
		if seen[strings.ToLower(id)] {
			return FieldError("identity", fmt.Sprintf("%s is named twice.", Clip(id, MaxAuditTargetLength)))
		}
		seen[strings.ToLower(id)] = true
	}
	return nil
}

// ValidateTags checks an instance's tags against Azure's bounds. EINVALID on
// the field "tags".
func ValidateTags(tags map[string]string) error {
	if len(tags) > MaxTags {
		return FieldError("tags", fmt.Sprintf("An instance takes at most %d tags; this one has %d.", MaxTags, len(tags)))
	}
	names := make([]string, 0, len(tags))
	for k := range tags {
		names = append(names, k)
	}
	slices.Sort(names)
	seen := make(map[string]string, len(names))
	for _, k := range names {
		first, twice := seen[strings.ToLower(k)]
		seen[strings.ToLower(k)] = k
		switch {
		case twice:
			// Azure compares tag names whatever their case.
			return FieldError("tags", fmt.Sprintf("The tags %s and %s have the same name: Azure ignores the case of tag names.", first, k))
		case strings.TrimSpace(k) == "":
			return FieldError("tags", "A tag needs a name.")
		case len(k) > MaxTagNameLength:
			return FieldError("tags", fmt.Sprintf("The tag name %q is too long: at most %d bytes.", Clip(k, 40), MaxTagNameLength))
		case strings.HasPrefix(strings.ToLower(k), "instancehub"):
			return FieldError("tags", fmt.Sprintf("The tag name %s is kept for the portal's own tags (instancehub-…); choose another.", k))
		case strings.ContainsAny(k, `<>%&\?/`):
			return FieldError("tags", fmt.Sprintf("The tag name %q has a character Azure refuses in tag names: < > %% & \\ ? /.", k))
		case len(tags[k]) > MaxTagValueLength:
			return FieldError("tags", fmt.Sprintf("The value of the tag %s is too long: at most %d bytes.", k, MaxTagValueLength))
		}
	}
	return nil
}

// Tag is one of an instance's tags as a form lists them, in order.
type Tag struct {
	Name, Value string
}

// Blank reports whether the row was left empty.
func (t Tag) Blank() bool { return strings.TrimSpace(t.Name) == "" && t.Value == "" }

// TagsOf is the tags a create asks for: the form's rows when it has them
// (blank rows skipped, a name given twice refused), its Tags otherwise,
// checked by ValidateTags either way. EINVALID on the field "tags".
func TagsOf(req CreateRequest) (map[string]string, error) {
	if req.TagRows == nil {
		return req.Tags, ValidateTags(req.Tags)
	}
	var tags map[string]string
	for _, t := range req.TagRows {
		if t.Blank() {
			continue
		}
		name := strings.TrimSpace(t.Name)
		if _, twice := tags[name]; twice {
			return nil, FieldError("tags", fmt.Sprintf("The tag %s is given twice; give each name once.", Clip(name, 40)))
		}
		if tags == nil {
			tags = map[string]string{}
		}
		tags[name] = t.Value
	}
	return tags, ValidateTags(tags)
}

// DefaultVMSize is the size the create form proposes, as the reference does.
const DefaultVMSize = "Standard_DS3_v2"

// CreateRequest is the create form as submitted.
type CreateRequest struct {
	Name         string
	Region       string
	VMSize       string
	SSHEnabled   bool
	SSHPublicKey string
	// SSHKeyLater turns SSH on with no key yet: the instance's owner adds
	// theirs on the details page once it runs.
	SSHKeyLater    bool
	VirtualNetwork string
	Subnet         string
	// AssignTo is the email of the user to create the instance for, who
	// becomes its owner; empty for oneself.
	AssignTo string
	// IdleShutdownOn and IdleMinutes are the Scheduling section's idle
	// shutdown; Schedules its start/stop schedules (blank ones ignored).
	IdleShutdownOn bool
	IdleMinutes    string
	Schedules      []ScheduleRequest
	// Description, Tags and Identity come from the form, the API and the
	// az ml file; the form gives its tags as TagRows (see TagsOf).
	Description string
	Tags        map[string]string
	TagRows     []Tag
	Identity    ManagedIdentity
	// IdempotencyKey, from the API's Idempotency-Key header, makes a
	// retried create return the instance the first one made.
	IdempotencyKey string
	// Setup are its setup scripts, from the form, the API and the file.
	Setup SetupScripts
}

// MaxIdempotencyKeyLength bounds an Idempotency-Key: a UUID takes 36.
const MaxIdempotencyKeyLength = 255

// SizeOption is a VM size as the create form offers it: whether the
// region's quota can fit it now, and if not, why.
type SizeOption struct {
	VMSize
	Fits   bool
	Reason string
	// Short is what the quota lacks for a size that does not fit: the
	// family (or TotalRegionalVCPUs) whose limit it would pass, and by how
	// many vCPUs. Zero when it fits, or when no family offers it.
	Short QuotaShortfall
	// Price is its price per hour in the region, if known.
	Price Price
}

// CreateOptions is what the create form offers for a region.
type CreateOptions struct {
	Regions  []Region
	Region   string
	Sizes    []SizeOption
	Networks []VirtualNetwork
	// Assignees are the users an instance may be created for; empty unless
	// the user may create instances for others.
	Assignees []*User
	// Identities are the resource IDs of the user-assigned managed
	// identities an operator lets instances have (--azure-identities).
	Identities []string
	// Defaults are the workspace's, which the Scheduling section proposes.
	Defaults WorkspaceSettings
	// SetupScripts says instances' setup scripts run here, and
	// SetupScriptFiles that one may be a file of the owner's files (not on
	// Azure): the Setup scripts section offers what the service accepts.
	SetupScripts     bool
	SetupScriptFiles bool
}

// FitSizes marks which sizes the quota can fit now — the subscription's, by
// family and regional total, then the workspace's (ws may be nil) — and
// lists those that fit first.
func FitSizes(region string, sizes []VMSize, usage []Usage, ws *WorkspaceQuota) []SizeOption {
	byName := map[string]Usage{}
	for _, u := range usage {
		byName[strings.ToLower(u.Name)] = u
	}
	total, hasTotal := byName[TotalRegionalVCPUs]
	options := make([]SizeOption, 0, len(sizes))
	for _, size := range sizes {
		opt := SizeOption{VMSize: size, Fits: true}
		family, ok := byName[strings.ToLower(size.Family)]
		switch {
		case !ok:
			opt.Fits, opt.Reason = false, fmt.Sprintf("No quota for %s vCPUs in this region.", FamilyLabel(size.Family))
		case family.Limit == 0:
			opt.Fits, opt.Reason = false, fmt.Sprintf("No quota for %s vCPUs in this region.", FamilyLabel(size.Family))
			opt.Short = QuotaShortfall{Family: family.Name, VCPUs: size.VCPUs}
		case family.Current+size.VCPUs > family.Limit:
			opt.Fits, opt.Reason = false, QuotaMessage(LevelSubscription, region, size.Family, size.VCPUs, family.Current, family.Limit)
			opt.Short = QuotaShortfall{Family: family.Name, VCPUs: family.Current + size.VCPUs - family.Limit}
		case hasTotal && total.Current+size.VCPUs > total.Limit:
			opt.Fits, opt.Reason = false, QuotaMessage(LevelSubscription, region, TotalRegionalVCPUs, size.VCPUs, total.Current, total.Limit)
			opt.Short = QuotaShortfall{Family: TotalRegionalVCPUs, VCPUs: total.Current + size.VCPUs - total.Limit}
		default:
			if reason, short := ws.misfit(region, size); reason != "" {
				opt.Fits, opt.Reason, opt.Short = false, reason, short
			}
		}
		options = append(options, opt)
	}
	slices.SortStableFunc(options, func(a, b SizeOption) int {
		switch {
		case a.Fits == b.Fits:
			return 0
		case a.Fits:
			return -1
		}
		return 1
	})
	return options
}

// FindNetwork is the index of the network ref names among networks, by the
// name instances record it by or by its resource ID (compared as Azure
// does, whatever the case); -1 when none.
func FindNetwork(networks []VirtualNetwork, ref string) int {
	return slices.IndexFunc(networks, func(n VirtualNetwork) bool {
		return n.Name == ref || (n.ID != "" && strings.EqualFold(n.ID, ref)) || (strings.HasPrefix(ref, "/") && strings.EqualFold(n.Name, ref))
	})
}

// DefaultSubnet is where an instance goes when its creator picks no
// network: the first subnet of the region's first network (the Cloud lists
// the configured network and subnet first).
func DefaultSubnet(networks []VirtualNetwork) (network, subnet string, ok bool) {
	if len(networks) == 0 || len(networks[0].Subnets) == 0 {
		return "", "", false
	}
	return networks[0].Name, networks[0].Subnets[0].Name, true
}
