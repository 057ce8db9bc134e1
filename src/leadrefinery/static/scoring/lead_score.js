/* Draws the score history on the lead page (Chart.js, vendored). */
(function () {
  "use strict";
  function draw() {
    var data = document.getElementById("score-history-data");
    var canvas = document.querySelector("canvas.score-history");
    if (!data || !canvas || !window.Chart || canvas.dataset.drawn) return;
    canvas.dataset.drawn = "1";
    var points = JSON.parse(data.textContent);
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: points.map(function (p) { return p.t.slice(0, 16).replace("T", " "); }),
        datasets: [
          {label: "Engagement", data: points.map(function (p) { return p.engagement; }), stepped: true},
          {label: "Fit", data: points.map(function (p) { return p.fit; }), stepped: true}
        ]
      },
      options: {animation: false, responsive: true, plugins: {legend: {position: "bottom"}}}
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
  document.addEventListener("htmx:afterSettle", draw);
  document.addEventListener("toggle", draw, true);
})();
