// instancehub's own script: small touches on top of server-rendered pages.
// Every page works without it; it formats times in the viewer's zone, asks
// before deleting, copies values, and tidies toasts.
(function () {
  "use strict";

  var timeFormat = new Intl.DateTimeFormat(undefined, {
    month: "short", day: "numeric", year: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
  });

  // Times arrive in UTC; show them in the viewer's time zone, with the
  // exact UTC time in the tooltip.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      if (el.dataset.local) return;
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.textContent = timeFormat.format(d);
      el.title = d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
      el.dataset.local = "1";
    });
  }

  function dismiss(toast) {
    toast.classList.add("leaving");
    setTimeout(function () {
      var held = toast.contains(document.activeElement);
      toast.remove();
      // A notice that held the focus hands it to the page's title.
      var title = held && document.querySelector("main h1");
      if (title) { title.setAttribute("tabindex", "-1"); title.focus(); }
    }, 200);
  }

  // After a create, a refused form or any action whose page loads anew,
  // the keyboard's focus goes to what the answer says: the first field that
  // needs a change, else the notice (the form's, or the toast a redirect
  // left), never to the page's body.
  function focusAnswer(root) {
    var el = root.querySelector("form [aria-invalid='true']") || root.querySelector("[data-focus-notice]");
    if (el) el.focus();
  }

  // Success and info toasts leave by themselves; refusals, and answers
  // told once (data-stays), stay until read.
  function scheduleToasts(root) {
    root.querySelectorAll(".toast:not([data-scheduled])").forEach(function (toast) {
      toast.dataset.scheduled = "1";
      if (!toast.classList.contains("toast-danger") && !toast.hasAttribute("data-stays")) {
        setTimeout(function () { dismiss(toast); }, 6000);
      }
    });
  }

  function enhance(root) {
    localTimes(root);
    scheduleToasts(document);
    // The list's application links open in a tab of their own, as the
    // details page's do (the rows leave the target out, to stay light).
    var apps = root.querySelectorAll ? root.querySelectorAll(".instances .apps a") : [];
    for (var i = 0; i < apps.length; i++) apps[i].target = "_blank";
  }

  // The list's actions are a frozen column (app.css): while other columns
  // lie beneath it, the list says so, and the column draws its edge.
  function markBeneath(wrap) {
    var beneath = wrap.scrollLeft + wrap.clientWidth < wrap.scrollWidth - 1;
    if (beneath !== wrap.hasAttribute("data-beneath")) wrap.toggleAttribute("data-beneath", beneath);
  }
  function watchFrozen() {
    var wrap = document.getElementById("row-actions");
    if (!wrap || wrap.dataset.watched) return;
    wrap.dataset.watched = "1";
    wrap.addEventListener("scroll", function () { markBeneath(wrap); }, { passive: true });
    if (window.ResizeObserver) { // the list's width, and its rows'
      var sizes = new ResizeObserver(function () { markBeneath(wrap); });
      sizes.observe(wrap);
      if (wrap.querySelector("table")) sizes.observe(wrap.querySelector("table"));
    }
    markBeneath(wrap);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    restoreNav();
    focusAnswer(document);
    watchFrozen();
  });
  document.addEventListener("htmx:load", watchFrozen);
  document.addEventListener("htmx:load", function (e) { enhance(e.target); });

  // Pages listen for their instances' changes at /events: htmx's sse
  // extension holds the stream (sse-connect on #changes: it connects,
  // reconnects, and closes with the page), and each "instance" event names
  // an instance's ID. What shows that instance (its data-id) fetches itself
  // again: a row its cells, the details #detail. The element stays in the
  // page while its content is swapped, so a change heard while its fetch is
  // out queues another on it (htmx queues the last), sent once the first is
  // answered: no change is lost. On the stream's first opening the elements
  // in transition (data-busy) fetch themselves, since the change that ends
  // it may have come before, and so do those the stream named before the
  // extension took it (stream.js opens it early); on a reopening after a
  // break, all do.
  function refetch(elt) {
    if (elt.matches("tr[data-name]")) {
      intoRow("GET", "/instances/" + encodeURIComponent(elt.dataset.name) + "/row", elt, elt);
    } else if (elt.dataset.url && document.getElementById("detail")) {
      intoDetail("GET", elt.dataset.url, elt);
    }
  }
  // Every answer for a row of the list (a change's fetch, an action's
  // answer) replaces the row's cells, never the row: it stays in the page,
  // with the fetch htmx queued on it and the counts kept on it below. And
  // every answer for the details replaces what #detail holds, never
  // #detail: htmx fixes a request's target when it is asked for, so a
  // fetch queued while another is out would otherwise swap its answer
  // into the #detail the first one's answer took out of the page.
  function intoRow(verb, url, source, row, values) {
    htmx.ajax(verb, url, { source: source, target: row, select: "tr > *", swap: "innerHTML", values: values });
  }
  function intoDetail(verb, url, source, values) {
    htmx.ajax(verb, url, { source: source, target: "#detail", select: "#detail > *", swap: "innerHTML", values: values });
  }
  // A fetch a change started never takes what the person was typing or
  // choosing: the fields of the row or the details that differ from what
  // the page was served with (a value typed, a box ticked, a choice made)
  // are read just before the swap and put back into the fields of the
  // same name after it, with the keyboard's focus; and so is a field the
  // portal refused (aria-invalid), with its message, which the fetch's
  // answer, knowing nothing of the refusal, would otherwise take away.
  function fieldKey(f) {
    return f.id || (f.name ? f.name + "=" + (f.type === "checkbox" || f.type === "radio" ? f.value : "") : "");
  }
  function typed(root) {
    var kept = {};
    root.querySelectorAll("input, textarea, select").forEach(function (f) {
      var key = fieldKey(f);
      if (!key || f.type === "hidden") return;
      if (f.type === "checkbox" || f.type === "radio") {
        if (f.checked !== f.defaultChecked) kept[key] = { checked: f.checked };
      } else if (f.tagName === "SELECT") {
        if (Array.prototype.some.call(f.options, function (o) { return o.selected !== o.defaultSelected; })) kept[key] = { value: f.value };
      } else if (f.value !== f.defaultValue || f.getAttribute("aria-invalid") === "true") {
        kept[key] = { value: f.value };
      }
      var message = f.getAttribute("aria-invalid") === "true" && f.id && document.getElementById(f.id + "-error");
      if (message && kept[key]) kept[key].message = message;
    });
    var active = document.activeElement;
    return { fields: kept, focus: active && root.contains(active) ? fieldKey(active) : "" };
  }
  function retype(root, was) {
    root.querySelectorAll("input, textarea, select").forEach(function (f) {
      var key = fieldKey(f), k = was.fields[key];
      if (k) {
        if ("checked" in k) f.checked = k.checked; else f.value = k.value;
        if (k.message && !document.getElementById(f.id + "-error")) {
          f.setAttribute("aria-invalid", "true");
          k.message.removeAttribute("role"); // said once, when it came
          (f.closest(".field") || f.parentNode).appendChild(k.message);
        }
      }
      if (was.focus && key === was.focus && document.activeElement !== f) f.focus();
    });
  }
  // The fetch's source (the row, or the details' holder) keeps what was
  // typed from the moment before its swap to the moment after it.
  function fetchedBy(d) {
    var src = d.requestConfig && d.requestConfig.verb === "get" ? d.requestConfig.elt : null;
    if (!src || !src.matches || !src.matches("[data-id]")) return null;
    return { src: src, root: src.matches("tr[data-name]") ? src : document.getElementById("detail") };
  }
  document.addEventListener("htmx:beforeSwap", function (e) {
    var f = fetchedBy(e.detail);
    if (f && f.root) f.src._typed = typed(f.root);
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    var f = fetchedBy(e.detail);
    if (!f || !f.src._typed) return;
    var was = f.src._typed;
    f.src._typed = null;
    var root = f.src.matches("tr[data-name]") ? f.src : document.getElementById("detail");
    if (root) retype(root, was);
  });
  // An action on an instance (a form or button of its row or details that
  // posts) and a fetch a change started may be out at once. The fetch's
  // answer may have been read before the action, and swapped in, it also
  // takes away the element that sent the action, whose answer htmx then
  // drops. So while an action is out its holder takes no fetch's answer: it
  // fetches again once the action is answered (xhr's loadend, which comes
  // whatever became of the element); and an answer to a fetch sent before
  // an action that has been answered since is dropped and fetched again.
  function holderOf(elt) {
    return elt && elt.closest ? elt.closest("[data-id]") : null;
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var cfg = e.detail.requestConfig, xhr = e.detail.xhr, holder = holderOf(e.detail.elt);
    if (holder && xhr && cfg && cfg.verb !== "get") {
      holder._out = (holder._out || 0) + 1;
      xhr.addEventListener("loadend", function () {
        holder._out--;
        holder._acted = (holder._acted || 0) + 1;
        if (holder._out === 0 && holder._again) {
          holder._again = false;
          refetch(holder);
        }
      });
    }
    var f = fetchedBy(e.detail);
    if (f && xhr) xhr._acted = f.src._acted || 0;
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    var f = fetchedBy(e.detail);
    if (!f || !e.detail.xhr || e.detail.xhr._acted === undefined) return;
    if (f.src._out > 0) {
      e.detail.shouldSwap = false;
      f.src._typed = null;
      f.src._again = true;
    } else if (e.detail.xhr._acted !== (f.src._acted || 0)) {
      e.detail.shouldSwap = false;
      f.src._typed = null;
      refetch(f.src);
    }
  });
  function showing(holder, selector) {
    var found = Array.prototype.slice.call(holder.querySelectorAll(selector));
    if (holder.matches(selector)) found.push(holder);
    return found;
  }
  // A change heard while the list itself is fetched (a search, a sort, a
  // page, a Refresh) may have come after the portal read the list, whose
  // answer then takes the row that fetched the change out of the page:
  // what the change names is fetched again once the list's answer is in
  // (loadend comes after htmx's swap).
  function changed(holder, selector) {
    showing(holder, selector).forEach(refetch);
    if (holder._listing > 0) holder._relist.push(selector);
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var target = e.detail.target, xhr = e.detail.xhr;
    var holder = target && target.id === "instance-list" && xhr ? target.closest("[sse-connect]") : null;
    if (!holder) return;
    if (!holder._listing) holder._relist = [];
    holder._listing = (holder._listing || 0) + 1;
    xhr.addEventListener("loadend", function () {
      if (--holder._listing > 0) return;
      var fetch = [];
      holder._relist.forEach(function (selector) { fetch = fetch.concat(showing(holder, selector)); });
      holder._relist = [];
      refetchEach(fetch);
    });
  });
  function refetchEach(elts) {
    elts.filter(function (elt, i) { return elts.indexOf(elt) === i; }).forEach(refetch);
  }
  // The stream stream.js opened while the page was parsed is the sse
  // extension's, once: it is open already (its opening is told to the
  // extension again, which sets its handlers only now), or opens by itself.
  // A stream that ended for good is not reused.
  if (window.htmx) {
    var open = htmx.createEventSource;
    htmx.createEventSource = function (url) {
      var early = window.instancehubStream;
      if (!early || early.taken || early.url !== url || early.source.readyState === EventSource.CLOSED) return open(url);
      early.taken = true;
      if (early.source.readyState === EventSource.OPEN) {
        setTimeout(function () { early.source.dispatchEvent(new Event("open")); }, 0);
      }
      return early.source;
    };
  }
  var streams = new WeakSet();
  document.addEventListener("htmx:sseOpen", function (e) {
    var holder = e.target, stream = e.detail.source, early = window.instancehubStream;
    var heard = [], broke = false;
    if (!streams.has(stream)) {
      streams.add(stream);
      if (early && early.source === stream && !early.drained) {
        early.drained = true;
        heard = early.heard;
        // it broke (and opened again) before app.js took it, or the
        // portal could not tell all that changed since the page was served
        broke = early.opens > 1 || early.broke || early.resync;
      }
      stream.addEventListener("instance", function (m) {
        if (/^[0-9]+$/.test(m.data)) changed(holder, '[data-id="' + m.data + '"]');
      });
      stream.addEventListener("resync", function () { changed(holder, "[data-id]"); });
    }
    var again = broke || holder.hasAttribute("data-opened");
    holder.setAttribute("data-opened", "");
    var fetch = showing(holder, again ? "[data-id]" : "[data-id][data-busy]");
    heard.forEach(function (id) {
      if (/^[0-9]+$/.test(id)) fetch = fetch.concat(showing(holder, '[data-id="' + id + '"]'));
    });
    refetchEach(fetch);
    if (again && holder._listing > 0) holder._relist.push("[data-id]");
  });

  // An action swaps the row or the details it came from, and the button
  // that had the keyboard's focus with it: give the focus to the new row's
  // name, or the details' title, rather than let it fall to the page.
  document.addEventListener("htmx:afterSettle", function (e) {
    var config = e.detail.requestConfig;
    if (config && config.verb === "post" && e.detail.elt && e.detail.elt.querySelector) focusAnswer(e.detail.elt);
    if (document.activeElement && document.activeElement !== document.body) return;
    var target = e.detail.elt;
    var place = target && target.matches && (target.matches("tr[data-name]") ? target.querySelector("th a") :
      target.id === "detail" ? target.querySelector("h1") : null);
    if (!place) return;
    if (place.tagName === "H1") place.setAttribute("tabindex", "-1");
    place.focus();
  });

  document.addEventListener("click", function (e) {
    var close = e.target.closest("[data-dismiss]");
    if (close) {
      dismiss(close.closest(".toast"));
      return;
    }
    var copy = e.target.closest("[data-copy]");
    if (copy) {
      var source = document.getElementById(copy.dataset.copy);
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          copy.classList.add("copied");
          copy.title = "Copied";
          setTimeout(function () { copy.classList.remove("copied"); copy.title = "Copy"; }, 1500);
        });
      }
      return;
    }
    if (e.target.closest("[data-nav-toggle]")) {
      toggleNav();
      return;
    }
    // Close the account menu when clicking elsewhere.
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (!menu.contains(e.target)) menu.removeAttribute("open");
    });
  });

  // A button the state does not allow (aria-disabled, so that the keyboard
  // reaches it and its description says why) does nothing: neither its
  // form nor its htmx request. This runs before either, in the capture phase.
  document.addEventListener("click", function (e) {
    var off = e.target.closest && e.target.closest("button[aria-disabled='true']");
    if (!off) return;
    e.preventDefault();
    e.stopImmediatePropagation();
  }, true);
  document.addEventListener("htmx:confirm", function (e) {
    if (e.detail.elt && e.detail.elt.getAttribute && e.detail.elt.getAttribute("aria-disabled") === "true") {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // Its reason shows where its name would, on hover and focus: the words of
  // the element that describes it, copied when they are wanted.
  function showWhy(e) {
    var off = e.target.closest && e.target.closest("button[aria-disabled='true'][aria-describedby]");
    if (!off) return;
    var why = document.getElementById(off.getAttribute("aria-describedby"));
    if (why) off.dataset.why = why.textContent;
  }
  document.addEventListener("focusin", showWhy);
  document.addEventListener("mouseover", showWhy);

  // Links in the role of a button answer the space bar as buttons do.
  document.addEventListener("keydown", function (e) {
    if (e.key === " " && e.target.matches && e.target.matches("a[role='button']")) {
      e.preventDefault();
      e.target.click();
    }
  });

  // Ask before a request whose element says so, in a dialog of our own.
  document.addEventListener("htmx:confirm", function (e) {
    var elt = e.detail.elt;
    var question = elt && elt.dataset ? elt.dataset.confirm : "";
    if (!question) return;
    e.preventDefault();
    ask(question, elt.getAttribute("aria-label") || elt.textContent.trim(), function () { e.detail.issueRequest(true); });
  });

  // ask shows the confirmation dialog; yes runs when the person confirms.
  function ask(question, verb, yes) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || !dialog.showModal) {
      if (window.confirm(question)) yes();
      return;
    }
    document.getElementById("confirm-title").textContent = question.split("?")[0] + "?";
    document.getElementById("confirm-message").textContent = question.indexOf("?") >= 0 ? question.slice(question.indexOf("?") + 1).trim() : "";
    dialog.querySelector("[data-confirm-ok]").textContent = verb || "Confirm";
    dialog.returnValue = "";
    dialog.addEventListener("close", function onClose() {
      dialog.removeEventListener("close", onClose);
      if (dialog.returnValue === "confirm") yes();
    });
    dialog.showModal();
  }

  // The list's row actions: one form around the table, each button naming
  // its action. With htmx the action is posted and its answer, the row as it
  // is now, replaces the row's cells (intoRow); Delete asks first. Without
  // script the form posts (or, for Delete, opens the page that asks).
  document.addEventListener("submit", function (e) {
    if (e.target.id !== "row-actions" || !window.htmx || !e.submitter || e.submitter.hasAttribute("data-bulk")) return;
    e.preventDefault();
    var button = e.submitter;
    var row = button.closest("tr");
    var send = function () {
      intoRow("POST", button.getAttribute("formaction"), button, row);
    };
    if (button.hasAttribute("data-confirm")) {
      ask("Delete " + row.dataset.name + "? The virtual machine, its disk and its network interface are removed. Files on the workspace share are kept.",
        button.textContent.trim(), send);
    } else {
      send();
    }
  });

  // A Stop, Restart or Delete that would end what is in use on the instance
  // (a notebook connected, a terminal open) is answered with this event
  // rather than done: ask, and send it again, confirmed, to swap the row or
  // the details as the first request would have.
  document.addEventListener("instancehub:ask", function (e) {
    var d = e.detail, elt = e.target;
    ask(d.question, d.verb, function () {
      var values = { from: d.from, confirmed: "1" };
      if (d.from === "detail") {
        intoDetail("POST", d.url, elt, values);
      } else {
        intoRow("POST", d.url, elt, elt.closest("tr"), values);
      }
    });
  });

  // Plain forms whose button asks first (removing a role) use the same dialog.
  // A form that gets its question's page (method get, for browsers without
  // script) posts to the same address once the dialog is answered.
  document.addEventListener("submit", function (e) {
    var submitter = e.submitter;
    if (e.defaultPrevented || !submitter || !submitter.dataset.confirm || submitter.hasAttribute("hx-post") || e.target.dataset.confirmed) return;
    e.preventDefault();
    var form = e.target;
    ask(submitter.dataset.confirm, submitter.textContent.trim(), function () {
      form.dataset.confirmed = "1";
      if (form.method === "get") {
        var token = document.createElement("input");
        token.type = "hidden"; token.name = "_csrf";
        token.value = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];
        form.appendChild(token);
        form.method = "post";
      }
      form.requestSubmit(submitter);
    });
  });

  // Selects marked so submit their form when they change (the quota page's
  // region); without script, the form's button does it.
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-autosubmit]")) e.target.form.requestSubmit();
  });

  // In the create form, switching between CPU and GPU sizes picks the first
  // size of the new type that fits, so the hidden choice is never submitted.
  document.addEventListener("change", function (e) {
    if (e.target.name !== "type") return;
    var kind = e.target.value;
    var current = document.querySelector("input[name='vm_size']:checked");
    if (current && current.closest("tr").dataset.kind === kind) return;
    var first = document.querySelector("tr[data-kind='" + kind + "'] input[name='vm_size']:not([disabled])");
    if (current) current.checked = false;
    if (first) first.checked = true;
    showEstimate(first && first.closest("tr"));
  });

  // The list's selection: a checkbox on each row the user may act on, one
  // in the heading for the page. The toolbar says how many are selected; its
  // Delete asks first. A row that refreshes itself keeps its tick.
  function selectionChanged(form) {
    var boxes = form.querySelectorAll("input[name='n']");
    var n = 0;
    for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) n++;
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
    var count = document.getElementById("selection-count");
    if (count) count.textContent = n ? n + " selected" : "";
    var actions = document.querySelector("[data-bulk-actions]");
    if (actions) actions.hidden = n === 0;
    return n;
  }

  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (!form || form.id !== "row-actions") return;
    if (e.target.hasAttribute("data-select-all")) {
      var boxes = form.querySelectorAll("input[name='n']");
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = e.target.checked;
    }
    selectionChanged(form);
  });

  var ticked = {};
  document.addEventListener("htmx:beforeSwap", function (e) {
    var row = e.detail.target;
    if (!row || !row.matches || !row.matches("tr[data-name]")) return;
    var box = row.querySelector("input[name='n']");
    ticked[row.dataset.name] = !!(box && box.checked);
  });
  document.addEventListener("htmx:load", function (e) {
    var row = e.target.closest && e.target.closest("tr[data-name]");
    if (!row || !ticked[row.dataset.name]) return;
    var box = row.querySelector("input[name='n']");
    if (box) box.checked = true;
    delete ticked[row.dataset.name];
  });

  document.addEventListener("submit", function (e) {
    var button = e.submitter;
    if (!button || !button.hasAttribute("data-confirm-bulk") || e.target.dataset.confirmed) return;
    var form = e.target;
    var n = selectionChanged(form);
    if (!n) return; // the portal says to select some first
    e.preventDefault();
    ask("Delete the " + (n === 1 ? "selected instance" : n + " selected instances") +
      "? Their virtual machines, disks and network interfaces are removed. Files on the workspace share are kept.", "Delete", function () {
      var yes = document.createElement("input");
      yes.type = "hidden"; yes.name = "confirmed"; yes.value = "1";
      form.appendChild(yes);
      form.dataset.confirmed = "1";
      form.requestSubmit(button);
    });
  });

  // In the create form, the estimated cost follows the size chosen; each
  // size's row carries its prices, as the server wrote them.
  document.addEventListener("change", function (e) {
    if (e.target.name === "vm_size") showEstimate(e.target.closest("tr"));
  });

  function showEstimate(row) {
    var estimate = document.getElementById("size-estimate");
    if (!estimate) return;
    // With no size chosen, the estimate says so in words.
    estimate.querySelector("[data-estimate='chosen']").hidden = !row;
    estimate.querySelector("[data-estimate='none']").hidden = !!row;
    if (!row) return;
    ["size", "hour", "month"].forEach(function (part) {
      var el = estimate.querySelector("[data-estimate='" + part + "']");
      if (el) el.textContent = row.dataset[part];
    });
  }

  function toggleNav() {
    var shell = document.getElementById("shell");
    if (!shell) return;
    var collapsed = shell.classList.toggle("nav-collapsed");
    try { localStorage.setItem("instancehub.nav", collapsed ? "collapsed" : "open"); } catch (err) { /* private mode */ }
    var button = document.querySelector("[data-nav-toggle]");
    if (button) {
      button.setAttribute("aria-expanded", String(!collapsed));
      button.title = collapsed ? "Expand navigation" : "Collapse navigation";
    }
  }

  function restoreNav() {
    var stored = null;
    try { stored = localStorage.getItem("instancehub.nav"); } catch (err) { /* private mode */ }
    if (stored === "collapsed") toggleNav();
  }
})();
