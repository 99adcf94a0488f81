package views

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/instancehub/instancehub"
)

// listURL is the list's address for a query, sort and page.
func listURL(q instancehub.ListQuery, sort instancehub.InstanceSort, pageNo int) string {
	v := url.Values{}
	if q.OnlyMine {
		v.Set("mine", "1")
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

// actionTitle is the tooltip of an action: what it does, or why it is off.
func actionTitle(inst *instancehub.Instance, kind instancehub.OperationKind) string {
	if reason := kind.Reason(inst.State); reason != "" {
		return reason
	}
	return fmt.Sprintf("%s %s", kind, inst.Name)
}
