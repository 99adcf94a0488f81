package instancehub

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	// Every zone is known even where the system has no zoneinfo (a
	// distroless image): schedules name any zone their owners live in.
	_ "time/tzdata"
)

//go:generate node internal/tools/windowszones/generate.mjs windowszones.go

// MaxTimeZoneLength bounds a time zone's name.
const MaxTimeZoneLength = 64

// LoadTimeZone returns the zone named name: an IANA name ("Europe/Berlin")
// or a Windows name as the reference product writes them ("Pacific Standard
// Time"), compared case-insensitively. Schedules keep the name their owner
// gave, for pages to show. EINVALID for any other name.
func LoadTimeZone(name string) (*time.Location, error) {
	// Reading a zone unpacks it from the embedded tzdata: a tick over
	// thousands of schedules reads each zone once.
	if loc, ok := zoneCache.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := loadTimeZone(name)
	if err == nil && zoneCacheSize.Add(1) <= maxCachedZones {
		zoneCache.Store(name, loc)
	}
	return loc, err
}

var (
	zoneCache     sync.Map // name as given → *time.Location
	zoneCacheSize atomic.Int64
)

// maxCachedZones bounds the cache: there are about 600 zones, and each
// may be spelled in a few cases.
const maxCachedZones = 4096

func loadTimeZone(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, FieldError("time_zone", "Choose a time zone, such as Europe/Berlin or Pacific Standard Time.")
	}
	if len(name) > MaxTimeZoneLength {
		return nil, FieldError("time_zone", fmt.Sprintf("A time zone's name has at most %d characters.", MaxTimeZoneLength))
	}
	if iana, ok := windowsZone(name); ok {
		loc, err := time.LoadLocation(iana)
		if err == nil {
			return loc, nil
		}
	}
	// LoadLocation also reads files: only names made of a zone's characters
	// reach it, so that "../x" is never a path.
	if validZoneName(name) && !strings.EqualFold(name, "local") {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, nil
		}
		if loc, ok := zoneIgnoringCase(name); ok {
			return loc, nil
		}
	}
	return nil, FieldError("time_zone", fmt.Sprintf("%q is not a time zone: use an IANA name such as Europe/Berlin or a Windows name such as W. Europe Standard Time.", Clip(name, MaxTimeZoneLength)))
}

// windowsZone returns the IANA zone of a Windows zone name.
func windowsZone(name string) (string, bool) {
	if iana, ok := windowsZones[name]; ok {
		return iana, true
	}
	for win, iana := range windowsZones {
		if strings.EqualFold(win, name) {
			return iana, true
		}
	}
	return "", false
}

// zoneIgnoringCase finds an IANA zone spelled in another case
// ("europe/berlin"), through the Windows table's zones, which cover every
// populated region.
func zoneIgnoringCase(name string) (*time.Location, bool) {
	for _, iana := range windowsZones {
		if strings.EqualFold(iana, name) {
			loc, err := time.LoadLocation(iana)
			return loc, err == nil
		}
	}
	return nil, false
}

func validZoneName(name string) bool {
	if strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return false
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_-+", r)
		if !ok {
			return false
		}
	}
	return true
}
