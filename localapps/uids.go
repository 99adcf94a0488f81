package localapps

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/instancehub/instancehub"
)

// UIDRange is a range of user ids, First to Last included.
type UIDRange struct{ First, Last uint32 }

// DefaultUIDs is the range sandboxes run as under a root portal: in the
// range systemd leaves unused (0x70000000 to 0x7FFFFFFF), far from
// people's accounts, system users and containers' ranges.
var DefaultUIDs = UIDRange{First: 1_900_000_000, Last: 1_999_999_999}

// ParseUIDRange reads "FIRST-LAST".
func ParseUIDRange(s string) (UIDRange, error) {
	first, last, ok := strings.Cut(strings.TrimSpace(s), "-")
	a, errA := strconv.ParseUint(strings.TrimSpace(first), 10, 32)
	b, errB := strconv.ParseUint(strings.TrimSpace(last), 10, 32)
	if !ok || errA != nil || errB != nil || a < 1000 || b < a || b >= 1<<32-1 {
		return UIDRange{}, fmt.Errorf("%q is not a range of unprivileged user ids FIRST-LAST (1000 or more)", s)
	}
	return UIDRange{First: uint32(a), Last: uint32(b)}, nil
}

func (r UIDRange) String() string { return fmt.Sprintf("%d-%d", r.First, r.Last) }

// userOf is who the sandboxes of owner's instances run as. Under a root
// portal, one uid per owner, outside and inside alike: the owner's files
// are that uid's, 0700, so another owner's sandbox cannot read them even
// if it could reach them, and the owner's instances share them. Otherwise
// the portal's own user, mapped to insideID in each sandbox's user
// namespace: nothing outside the sandbox is that user's but the portal's
// own files, which the sandbox does not see.
func (s *Servers) userOf(owner int64) (sandboxUserID, error) {
	if os.Geteuid() != 0 || s.cfg.Unsafe {
		return sandboxUserID{outside: uint32(os.Getuid()), inside: insideID}, nil
	}
	span := int64(s.cfg.UIDs.Last) - int64(s.cfg.UIDs.First)
	if owner < 0 || owner > span {
		return sandboxUserID{}, instancehub.Errorf(instancehub.EUNAVAILABLE,
			"The sandboxes' user ids (%s) have none left for user %d; give the portal a wider --sandbox-uids.", s.cfg.UIDs, owner)
	}
	uid := s.cfg.UIDs.First + uint32(owner)
	return sandboxUserID{root: true, outside: uid, inside: uid}, nil
}
