/* Lead Refinery: the import page's progress bar. Asks the job's status every second and
   updates the bar and its text; when the job is over, loads the page again for the result.
   Without JavaScript the page refreshes itself (a <noscript> meta refresh) instead. */
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || box.getAttribute("data-done") === "1") { return; }
  var bar = document.getElementById("import-bar");
  var text = document.getElementById("import-status-text");
  var url = box.getAttribute("data-status-url");
  function show(status) {
    if (status.total_rows) { bar.max = status.total_rows; }
    if (status.phase) { bar.value = status.rows_done; } else { bar.removeAttribute("value"); }
    bar.setAttribute("data-phase", status.phase || "");
    text.textContent = status.text;
    if (status.done) { window.location.assign(status.url); return; }
    window.setTimeout(poll, 1000);
  }
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(show)
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
