// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Move focus to an error summary when a form comes back with problems.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  // Confirm destructive actions.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
})();
