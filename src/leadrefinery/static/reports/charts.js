/* Draws a report's chart with Chart.js (vendored) from the spec the page embeds as JSON
   (<script type="application/json" id="report-chart">, from domain.Chart): no inline script,
   so the page stays CSP-friendly. Datasets of kind "line" are lines over the bars; axis "y1"
   is a second axis on the right; "stacked" stacks the bars; "horizontal" lays them on their
   side. A chart without data shows "No data for these filters" instead of an empty frame. */
(function () {
  "use strict";

  // Tableau 10: distinct hues that stay apart for the common colour-vision deficiencies.
  var PALETTE = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"
  ];

  function numberText(value) {
    if (value === null || value === undefined) return "–";
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: 1 });
  }

  function hasData(spec) {
    if (!spec || !spec.labels || !spec.labels.length) return false;
    return spec.datasets.some(function (d) {
      return d.data.some(function (v) { return v !== null && v !== 0; });
    });
  }

  function datasetsOf(spec) {
    return spec.datasets.map(function (d, i) {
      var color = PALETTE[i % PALETTE.length];
      var line = d.kind === "line";
      var out = {
        label: d.label,
        data: d.data,
        type: line ? "line" : "bar",
        yAxisID: d.axis === "y1" ? "y1" : "y",
        borderColor: color,
        backgroundColor: line ? color : color + "d9",
        order: line ? 0 : 1  // lines on top of the bars
      };
      if (line) {
        out.borderWidth = 2;
        out.pointRadius = 3;
        out.pointHoverRadius = 5;
        out.fill = false;
        out.spanGaps = true;
        out.tension = 0;  // straight: the points are groups, not a continuous series
      } else {
        out.borderWidth = 0;
        out.borderRadius = 2;
        out.maxBarThickness = 48;
      }
      if (d.stack) out.stack = d.stack;
      return out;
    });
  }

  // Lines are drawn last (on top) but listed in the report's own order.
  function byIndex(a, b) { return a.datasetIndex - b.datasetIndex; }

  function axis(title, extra) {
    var out = {
      beginAtZero: true,
      title: { display: Boolean(title), text: title || "" },
      ticks: { callback: function (v) { return numberText(v); } }
    };
    return Object.assign(out, extra || {});
  }

  function config(spec) {
    var horizontal = Boolean(spec.horizontal);
    var valueAxis = horizontal ? "x" : "y";
    var indexAxis = horizontal ? "y" : "x";
    var scales = {};
    scales[indexAxis] = {
      stacked: Boolean(spec.stacked),
      ticks: { autoSkip: true, maxRotation: 50 },
      grid: { display: false }
    };
    scales[valueAxis] = axis(spec.y_label, { stacked: Boolean(spec.stacked) });
    if (spec.datasets.some(function (d) { return d.axis === "y1"; })) {
      scales.y1 = axis(spec.y1_label, {
        position: "right",
        grid: { drawOnChartArea: false }
      });
    }
    return {
      type: spec.type === "line" ? "line" : "bar",
      data: { labels: spec.labels, datasets: datasetsOf(spec) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: indexAxis,
        animation: false,  // figures, not a show: drawn at once (and at once again on resize)
        interaction: { mode: "index", intersect: false },
        scales: scales,
        plugins: {
          legend: {
            display: spec.datasets.length > 1,
            position: "bottom",
            labels: { boxWidth: 12, boxHeight: 12, padding: 14, sort: byIndex }
          },
          tooltip: {
            itemSort: byIndex,
            callbacks: {
              label: function (ctx) {
                return " " + ctx.dataset.label + ": " + numberText(ctx.raw);
              }
            }
          }
        }
      }
    };
  }

  function draw() {
    var source = document.getElementById("report-chart");
    if (!source) return;
    var box = document.querySelector(".chart-box");
    var canvas = document.getElementById("report-canvas");
    var empty = box ? box.querySelector(".chart-empty") : null;
    var spec = null;
    try {
      spec = JSON.parse(source.textContent);
    } catch (e) {
      spec = null;
    }
    if (!canvas || !hasData(spec) || typeof window.Chart === "undefined") {
      if (canvas) canvas.remove();
      if (empty) empty.hidden = false;
      if (box) box.classList.add("is-empty");
      return;
    }
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.color = "#4b5563";
    new window.Chart(canvas, config(spec));
    canvas.dataset.drawn = "true";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
