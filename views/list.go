package views

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/instancehub/instancehub"
)

// listURL is the list's address for a query, sort and page.
func listURL(q instancehub.ListQuery, sort instancehub.InstanceSort, pageNo int) string {
	v := url.Values{}
	if q.OnlyMine {
		v.Set("mine", "1")
	}
	if q.OldImage {
		v.Set("oldimage", "1")
	}
	if q.Owner != "" {
		v.Set("owner", q.Owner)
	}
	if q.Search != "" {
		v.Set("q", q.Search)
	}
	if sort != "" && sort != instancehub.SortCreatedDesc {
		v.Set("sort", string(sort))
	}
	if pageNo > 1 {
		v.Set("page", strconv.Itoa(pageNo))
	}
	if len(v) == 0 {
		return "/instances"
	}
	return "/instances?" + v.Encode()
}

// nextSort flips a column between its two orders, starting with first.
func nextSort(current, first, second instancehub.InstanceSort) instancehub.InstanceSort {
	if current == first {
		return second
	}
	return first
}

func sortMark(current, first, second instancehub.InstanceSort) string {
	switch {
	case current != first && current != second:
		return ""
	case current == instancehub.SortNameAsc || current == instancehub.SortCreatedAsc:
		return "↑"
	}
	return "↓"
}

func ariaSort(current, first, second instancehub.InstanceSort) string {
	switch sortMark(current, first, second) {
	case "↑":
		return "ascending"
	case "↓":
		return "descending"
	}
	return "none"
}

func pagerText(p *instancehub.InstancePage) string {
	if p.Total == 0 {
		return "No instances"
	}
	first := (p.Query.Page-1)*instancehub.PageSize + 1
	last := min(first+len(p.Instances)-1, p.Total)
	return fmt.Sprintf("Showing %d–%d of %s", first, last, plural(p.Total, "instance", "instances"))
}

func actionIcon(kind instancehub.OperationKind) string {
	switch kind {
	case instancehub.OpStart:
		return "start"
	case instancehub.OpStop:
		return "stop"
	case instancehub.OpRestart:
		return "restart"
	}
	return "delete"
}

func actionClass(kind instancehub.OperationKind, from string) string {
	class := "button button-subtle"
	if from == "row" {
		class = "icon-button"
	}
	if kind == instancehub.OpDelete {
		class += " action-danger"
	}
	return class
}

// reasonID is the id of the words in actionReasons that say why kind is
// off in state s: why-start-running.
func reasonID(kind instancehub.OperationKind, s instancehub.State) string {
	return "why-" + strings.ToLower(string(kind)) + "-" + strings.ToLower(string(s))
}

// anyManaged reports whether the user may act on any of the instances, so
// that the list offers to select them.
func anyManaged(instances []*instancehub.Instance) bool {
	for _, inst := range instances {
		if inst.Access.Manage {
			return true
		}
	}
	return false
}

// BulkMessage says what a bulk action did and what it left alone, and why.
func BulkMessage(r *instancehub.BulkResult) (tone, message string) {
	var parts []string
	if len(r.Done) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s: %s.", r.Kind.Progressive(), plural(len(r.Done), "instance", "instances"), strings.Join(r.Done, ", ")))
	}
	if len(r.Refused) > 0 {
		refused := make([]string, len(r.Refused))
		for i, x := range r.Refused {
			refused[i] = fmt.Sprintf("%s (%s)", x.Name, strings.TrimSuffix(x.Reason, "."))
		}
		parts = append(parts, fmt.Sprintf("Not %s: %s.", pastTense(r.Kind), strings.Join(refused, "; ")))
	}
	switch {
	case len(r.Refused) == 0:
		tone = "success"
	case len(r.Done) == 0:
		tone = "danger"
	default:
		tone = "warning"
	}
	return tone, instancehub.Clip(strings.Join(parts, " "), 1500)
}

func pastTense(k instancehub.OperationKind) string {
	switch k {
	case instancehub.OpStop:
		return "stopped"
	case instancehub.OpDelete:
		return "deleted"
	}
	return k.Verb() + "ed"
}

// ownerListed reports whether the owner filter's account is among those
// offered.
func ownerListed(p *instancehub.InstancePage) bool {
	for _, u := range p.Owners {
		if ownerChosen(p, u) {
			return true
		}
	}
	return false
}

func ownerChosen(p *instancehub.InstancePage, u *instancehub.User) bool {
	return p.Query.Owner != "" && strings.EqualFold(u.Email, p.Query.Owner)
}

// ownerListURL is the list filtered to u's instances.
func ownerListURL(u *instancehub.User) string {
	return listURL(instancehub.ListQuery{Owner: u.Email}, "", 1)
}

// instancesOf names the link to u's instances: "2 instances of Dana".
func instancesOf(u *instancehub.User) string {
	return fmt.Sprintf("%s of %s", instancehub.Plural(u.Instances, "instance"), plain(u.Name))
}
