// Meeting mode keys: j / k next and previous lead; 1-5 pick a decision (focus its first field,
// or submit it when it has none); Enter in a field submits that decision. The shared note is
// copied into whichever decision is submitted.
(function () {
  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA");
  }
  document.addEventListener("submit", function (event) {
    var note = document.getElementById("decision-note");
    if (!note || !note.value) return;
    var hidden = document.createElement("input");
    hidden.type = "hidden"; hidden.name = "note"; hidden.value = note.value;
    event.target.appendChild(hidden);
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var link = document.querySelector('[data-key="' + event.key + '"]');
    if (link) { event.preventDefault(); link.click(); return; }
    var form = document.querySelector('form[data-decision="' + event.key + '"]');
    if (!form) return;
    event.preventDefault();
    var field = form.querySelector("input:not([type=hidden]), select");
    if (field) { field.focus(); } else if (form.querySelector("button")) { form.requestSubmit(); }
  });
})();
