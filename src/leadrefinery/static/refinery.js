/* Lead Refinery: an embedded public form tells its parent page how tall it is,
   so that the iframe made by /f/<slug>/embed.js fits without a scroll bar. */
(function () {
  "use strict";
  if (!document.documentElement.hasAttribute("data-embedded") || window.parent === window) {
    return;
  }
  var last = 0;
  function send() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) { return; }
    last = height;
    // Only a height is sent, so any parent origin may read it.
    window.parent.postMessage({ type: "refinery:form-height", height: height }, "*");
  }
  send();
  window.addEventListener("load", send);
  if ("ResizeObserver" in window) { new ResizeObserver(send).observe(document.body); }
})();
