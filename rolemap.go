package instancehub

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ParseRoleMap reads how single sign-on groups map to roles, as the operator
// writes it: "ih-admins=Owner,ih-users=Data Scientist". Blank items are
// skipped; a group is what comes before the last "=", since role names never
// hold one and group names sometimes do. EINVALID, naming the item, when an
// item has no "=", no group, or no role of that name, or when one group is
// given two different roles: a group grants one role, and which would win is
// better asked than guessed.
func ParseRoleMap(s string) (map[string]Role, error) {
	m := map[string]Role{}
	for _, item := range strings.Split(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		group, role, err := parseRoleMapItem(item)
		if err != nil {
			return nil, err
		}
		if had, ok := m[group]; ok && had != role {
			return nil, Errorf(EINVALID, "The group %q is mapped to both %s and %s; map it to one role.", group, had, role)
		}
		m[group] = role
	}
	return m, nil
}

func parseRoleMapItem(item string) (string, Role, error) {
	at := strings.LastIndex(item, "=")
	if at < 0 {
		return "", "", Errorf(EINVALID, "%q is not group=Role.", item)
	}
	group := strings.TrimSpace(item[:at])
	if group == "" {
		return "", "", Errorf(EINVALID, "%q names no group before its =.", item)
	}
	role, err := ParseRole(strings.TrimSpace(item[at+1:]))
	if err != nil {
		return "", "", Errorf(EINVALID, "%q: %s", item, ErrorMessage(err))
	}
	return group, role, nil
}

// FormatRoleMap writes m as ParseRoleMap reads it, groups sorted, so the
// log at start shows the operator how the flag was understood; ParseRoleMap
// gives m back.
func FormatRoleMap(m map[string]Role) string {
	items := make([]string, 0, len(m))
	for _, group := range slices.Sorted(maps.Keys(m)) {
		items = append(items, fmt.Sprintf("%s=%s", group, m[group]))
	}
	return strings.Join(items, ",")
}
