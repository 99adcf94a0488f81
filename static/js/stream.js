// instancehub's stream of changes, opened early. A page that listens for
// its instances' changes (#changes, sse-connect) loads this script right
// inside that element, so that the stream opens as soon as the parser
// reaches it: htmx and its sse extension start only once the whole page is
// parsed and the deferred scripts have run, which is most of the time from
// a click to the page's first change. app.js then hands this stream to
// the sse extension (htmx.createEventSource) instead of opening another,
// and applies the changes heard before it took it over. The stream says how
// long ago the page asked for itself, so that the portal tells first what
// changed since: no change falls between the page and its stream.
(function () {
  "use strict";
  var holder = document.currentScript && document.currentScript.parentElement;
  var url = holder && holder.getAttribute("sse-connect");
  if (!url || !window.EventSource) return;
  // How long ago the page asked for itself: the portal first tells the
  // changes made since (and says when it cannot tell them all).
  var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
  var age = Math.ceil(performance.now() - (nav ? nav.requestStart : 0));
  var early = {
    url: url,
    source: new EventSource(url + (url.indexOf("?") < 0 ? "?" : "&") + "age=" + age, { withCredentials: true }),
    opens: 0,        // openings of the stream before app.js took it
    heard: [],       // the instances' IDs the changes named meanwhile
    resync: false,   // the portal could not tell them all
    broke: false,    // the stream broke meanwhile
    taken: false,    // the sse extension holds the stream (app.js)
    drained: false,  // app.js took the IDs heard, and listens itself
  };
  early.source.addEventListener("open", function () { if (!early.taken) early.opens++; });
  // A break once open, before app.js took the stream: what changed during
  // it is not told, as after any break.
  early.source.addEventListener("error", function () { if (!early.drained && early.opens > 0) early.broke = true; });
  early.source.addEventListener("instance", function (m) { if (!early.drained) early.heard.push(m.data); });
  early.source.addEventListener("resync", function () { if (!early.drained) early.resync = true; });
  window.instancehubStream = early;
})();
