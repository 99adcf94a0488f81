package views

// EventsURL is where a page listens for changes (Server-Sent Events).
const EventsURL = "/events"

// InstanceEvent names the event that says an instance changed; its data is
// the instance's ID. What shows that instance on the page (the element
// carrying its data-id) fetches itself again (app.js): a row its cells, the
// details themselves.
const InstanceEvent = "instance"

// ResyncEvent says, at a stream's opening, that the changes made since
// the page was served cannot all be told (the portal keeps only the latest,
// or restarted): what shows an instance fetches itself again, all of it.
const ResyncEvent = "resync"

// changesID is the id of the element that holds a page's stream.
const changesID = "changes"
