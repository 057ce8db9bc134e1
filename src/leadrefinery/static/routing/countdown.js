/* Lead Refinery: keeps "First contact due in 23 min" / "overdue by 5 min" current without a
   reload. The server renders the same words (routing/selectors.py duration_words), so the page
   is right without JavaScript too. */
(function () {
  "use strict";
  function words(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    if (minutes < 1) { return "under a minute"; }
    if (minutes < 60) { return minutes + " min"; }
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 24) { return minutes ? hours + " h " + minutes + " min" : hours + " h"; }
    var days = Math.floor(hours / 24);
    hours = hours % 24;
    return hours ? days + " d " + hours + " h" : days + " d";
  }
  // The server's clock decides; the browser only counts the seconds since the page was made.
  function tick() {
    var nodes = document.querySelectorAll("[data-sla-due]");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var rendered = Date.parse(node.getAttribute("data-sla-now"));
      var loaded = Number(node.getAttribute("data-sla-loaded") || 0);
      if (!loaded) { loaded = Date.now(); node.setAttribute("data-sla-loaded", String(loaded)); }
      var nowMs = rendered + (Date.now() - loaded);
      var left = (Date.parse(node.getAttribute("data-sla-due")) - nowMs) / 1000;
      node.textContent = left >= 0 ? "First contact due in " + words(left)
                                   : "First contact overdue by " + words(left);
      node.classList.toggle("overdue", left < 0);
    }
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  window.setInterval(tick, 15000);
})();
