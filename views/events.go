package views

import "strconv"

// EventsURL is where a page listens for changes (Server-Sent Events).
const EventsURL = "/events"

// ChangedEvent names the event that says the instance of that ID changed:
// the elements showing it are to fetch themselves again when it arrives.
func ChangedEvent(id int64) string { return "instance-" + strconv.FormatInt(id, 10) }
