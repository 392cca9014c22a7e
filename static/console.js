// The console's own small enhancements; every page works without them.
// 1. Every <time datetime="…Z"> shows in the browser's local time. The server
//    writes UTC, which stays in the title (shown on hover).
// 2. A live region (aria-live) that a polled fragment rewrites with the same
//    text is left alone, so it is read out only when it changes.
// 3. A table (or card) that scrolls sideways in its own box takes keyboard focus, so
//    the arrow keys can scroll it (only while it does overflow).
// 4. A request from an element marked data-swap-invalid shows a 422 answer
//    (a refused filter, explained inside the fragment) instead of dropping it.
(function () {
  "use strict";
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  var zone = function (d) {
    try {
      var parts = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(d);
      for (var i = 0; i < parts.length; i++) {
        if (parts[i].type === "timeZoneName") { return parts[i].value; }
      }
    } catch (e) { /* no Intl: fall back to the offset */ }
    var off = -d.getTimezoneOffset();
    return "UTC" + (off < 0 ? "-" : "+") + pad(Math.floor(Math.abs(off) / 60)) + ":" + pad(Math.abs(off) % 60);
  };
  var within = function (root, sel) {
    if (!root || !root.querySelectorAll) { return []; }
    var found = Array.prototype.slice.call(root.querySelectorAll(sel));
    if (root.matches && root.matches(sel)) { found.unshift(root); }
    return found;
  };
  var localize = function (root) {
    var times = within(root, "time[datetime$='Z']:not([data-local])");
    for (var i = 0; i < times.length; i++) {
      var t = times[i];
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d.getTime())) { continue; }
      var date = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
      t.textContent = t.hasAttribute("data-date-only") ? date
        : date + " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + " " + zone(d);
      t.setAttribute("data-local", "");
    }
  };
  // A polled fragment rewrites a live region out of band with the same text
  // most of the time; rewriting it would make a screen reader say it again.
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var d = e.detail || {};
    var target = d.target;
    var fragment = d.fragment;
    if (!target || !fragment || !target.closest || !target.closest("[aria-live]")) { return; }
    if ((fragment.textContent || "").trim() === (target.textContent || "").trim()) {
      d.shouldSwap = false;
    }
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    var d = e.detail || {};
    var from = d.requestConfig && d.requestConfig.elt;
    if (d.xhr && d.xhr.status === 422 && from && from.closest && from.closest("[data-swap-invalid]")) {
      d.shouldSwap = true;
      d.isError = false;
    }
  });
  var scrollers = function () {
    var boxes = document.querySelectorAll(".table-scroll, table.table, .card");
    for (var i = 0; i < boxes.length; i++) {
      var b = boxes[i];
      var ours = b.hasAttribute("data-scroll-focus");
      if (b.hasAttribute("tabindex") && !ours) { continue; }
      if (b.scrollWidth > b.clientWidth + 1) {
        b.setAttribute("tabindex", "0");
        b.setAttribute("data-scroll-focus", "");
      } else if (ours) {
        b.removeAttribute("tabindex");
        b.removeAttribute("data-scroll-focus");
      }
    }
  };
  localize(document);
  scrollers();
  window.addEventListener("resize", scrollers);
  document.addEventListener("htmx:load", function (e) {
    localize(e.target);
    scrollers();
  });
})();
