/* The lead page: after an action swaps the page in place, bring its confirmation (shown in
   the action's own box) into view, so the user sees it where they were working. */
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function () {
    var flash = document.querySelector(".lead-actions .flash, .lead-actions .errorlist");
    if (flash) { flash.scrollIntoView({ block: "nearest" }); }
  });
})();
