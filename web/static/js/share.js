// Copy buttons for share links (My certificates). Without this file the
// link stays in a read-only box, where it can be selected and copied.
(function () {
  "use strict";
  function copied(status, text) {
    if (status) { status.textContent = text; }
  }
  function fallback(input) {
    input.focus();
    input.select();
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-status"));
    if (!input) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var ok = function () { copied(status, "Link copied. Paste it where you want to share it."); };
      var manual = function () { copied(status, "Your browser did not let us copy it: the link is selected, press Ctrl+C (or ⌘C) to copy it."); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(ok, function () { (fallback(input) ? ok : manual)(); });
      } else {
        (fallback(input) ? ok : manual)();
      }
    });
  });
  // A click in a link box selects the whole link.
  Array.prototype.forEach.call(document.querySelectorAll("input.share-link[readonly]"), function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
