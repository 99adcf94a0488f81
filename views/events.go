package views

// EventsURL is where a page listens for changes (Server-Sent Events).
const EventsURL = "/events"

// InstanceEvent names the event that says an instance changed; its data is
// the instance's ID. What shows that instance on the page (the element
// carrying its data-id) fetches itself again (app.js): a row its cells, the
// details themselves.
const InstanceEvent = "instance"

// changesID is the id of the element that holds a page's stream.
const changesID = "changes"
