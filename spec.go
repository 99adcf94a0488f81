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
	for _, k := range names {
		switch {
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
