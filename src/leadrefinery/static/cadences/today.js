/* Today page keyboard: j/k move between tasks; on the focused task, a key presses the button
   or focuses the field marked with data-key (1-4 call outcomes, e email, m meeting, r reply,
   n note, a accept, d done). Typing in a field is never intercepted. */
(function () {
  "use strict";
  function tasks() { return Array.prototype.slice.call(document.querySelectorAll("[data-task]")); }
  function current() {
    var el = document.activeElement;
    return el && el.closest ? el.closest("[data-task]") : null;
  }
  function move(step) {
    var list = tasks();
    if (!list.length) { return; }
    var at = list.indexOf(current());
    var next = list[Math.max(0, Math.min(list.length - 1, at + step))] || list[0];
    next.focus();
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) {
      if (event.key === "Escape") { target.blur(); var t = target.closest("[data-task]"); if (t) { t.focus(); } }
      return;
    }
    if (event.key === "j") { move(1); event.preventDefault(); return; }
    if (event.key === "k") { move(-1); event.preventDefault(); return; }
    var task = current();
    if (!task) { return; }
    var control = task.querySelector('[data-key="' + event.key + '"]');
    if (!control) { return; }
    event.preventDefault();
    if (control.tagName === "INPUT") { control.focus(); } else { control.click(); }
  });
  // After htmx swaps a task, keep the keyboard on it.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var el = event.detail && event.detail.target;
    if (el && el.id && el.id.indexOf("task-") === 0) {
      var fresh = document.getElementById(el.id);
      if (fresh) { fresh.focus(); }
    }
  });
  var first = tasks()[0];
  if (first && document.activeElement === document.body) { first.focus(); }
})();
