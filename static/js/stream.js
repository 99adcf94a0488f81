// instancehub's stream of changes, opened early. A page that listens for
// its instances' changes (#changes, sse-connect) loads this script right
// inside that element, so that the stream opens as soon as the parser
// reaches it: htmx and its sse extension start only once the whole page is
// parsed and the deferred scripts have run, which is most of the time from
// a click to the page's first change. app.js then hands this stream to
// the sse extension (htmx.createEventSource) instead of opening another,
// and applies the changes heard before it took it over.
(function () {
  "use strict";
  var holder = document.currentScript && document.currentScript.parentElement;
  var url = holder && holder.getAttribute("sse-connect");
  if (!url || !window.EventSource) return;
  var early = {
    url: url,
    source: new EventSource(url, { withCredentials: true }),
    opens: 0,        // openings of the stream before app.js took it
    heard: [],       // the instances' IDs the changes named meanwhile
    taken: false,    // the sse extension holds the stream (app.js)
    drained: false,  // app.js took the IDs heard, and listens itself
  };
  early.source.addEventListener("open", function () { if (!early.taken) early.opens++; });
  early.source.addEventListener("instance", function (m) { if (!early.drained) early.heard.push(m.data); });
  window.instancehubStream = early;
})();
