package views

import "strconv"

// EventsURL is where a page listens for changes (Server-Sent Events).
const EventsURL = "/events"

// ChangedEvent names the event that says the instance of that ID changed:
// the elements showing it fetch themselves again when it arrives.
func ChangedEvent(id int64) string { return "instance-" + strconv.FormatInt(id, 10) }

// changesID is the id of the element that holds a page's stream.
const changesID = "changes"

// changedTrigger is the hx-trigger of an element that shows the instance
// id: its changes, and, while it is in transition, each (re)opening of the
// page's stream, since changes made before it opened (between the page's
// rendering and its stream's start, or while it was away) were not heard.
func changedTrigger(id int64, transitional bool) string {
	trigger := "sse:" + ChangedEvent(id)
	if transitional {
		trigger += ", htmx:sseOpen from:#" + changesID
	}
	return trigger
}
