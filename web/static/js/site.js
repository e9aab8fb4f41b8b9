// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Move focus to an error summary when a form comes back with problems.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  // Work in progress (an element with an id and data-refresh="<seconds>",
  // e.g. a data download being prepared) is updated in place from the same
  // page every few seconds; once the page no longer shows it, the page is
  // loaded again as it now is. Without this, the page offers a link.
  var live = document.querySelector("[data-refresh][id]");
  if (live && window.fetch && window.DOMParser) {
    var every = (parseInt(live.getAttribute("data-refresh"), 10) || 3) * 1000;
    var tick = function () {
      fetch(location.pathname, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, "text/html").getElementById(live.id);
          if (next && next.hasAttribute("data-refresh")) {
            live.innerHTML = next.innerHTML;
            setTimeout(tick, every);
          } else {
            location.replace(location.pathname);
          }
        })
        .catch(function () { setTimeout(tick, every * 2); });
    };
    setTimeout(tick, every);
  }
  // Confirm destructive actions.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
})();
