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
// id. It fetches itself again on its instance's changes; on the stream's
// reopening after a break (app.js's instancehub:reopened), since what
// changed meanwhile was not heard; and, while it is in transition, on the
// stream's first opening too, since the change that ends the transition may
// come between the page's rendering and the stream's start.
//
// The element that listens stays in the page while what it shows is
// swapped (a row's cells, the details inside their wrapper): a change heard
// while its fetch is under way queues another fetch on it, which is sent
// when the first is answered and sees the change. (When the element
// replaced itself, the queued fetch went with it, never sent, and a row
// stayed at Creating.) It passes none of its fetch's attributes on to what
// it holds (changedDisinherit): the actions inside post on their own.
func changedTrigger(id int64, transitional bool) string {
	trigger := "sse:" + ChangedEvent(id) + ", instancehub:reopened from:#" + changesID
	if transitional {
		trigger += ", htmx:sseOpen from:#" + changesID
	}
	return trigger
}

// changedDisinherit is the hx-disinherit of an element that listens ("*"
// would also cut the body's hx-headers off).
const changedDisinherit = "hx-get hx-swap hx-select hx-target"

// rowCells selects, in a row's answer, the cells a row that listens swaps
// into itself.
const rowCells = "tr > *"
