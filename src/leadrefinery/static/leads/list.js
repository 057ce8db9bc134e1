/* The lead list: the header checkbox ticks or clears every lead on the page; the filter
   form's sort follows the sort a header link chose (htmx changes the address). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-select-all]");
    if (!all) { return; }
    document.querySelectorAll('#lead-table input[name="lead"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });
  document.addEventListener("htmx:pushedIntoHistory", function () {
    var sort = new URLSearchParams(window.location.search).get("sort");
    var field = document.querySelector('form.filters select[name="sort"]');
    if (sort && field) { field.value = sort; }
    var back = document.querySelector('#bulk-form input[name="back"]');
    if (back) { back.value = window.location.search || "?"; }
  });
})();
