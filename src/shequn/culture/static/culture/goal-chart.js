// Draws a goal's chart from the data the page embeds (json_script); no network.
// The value per day so far, the target, and from today to the deadline two dashed lines: where
// the current pace leads, and the pace the target needs.
(function () {
  "use strict";
  var node = document.getElementById("goal-chart-data");
  var canvas = document.getElementById("goal-chart");
  if (!node || !canvas || !window.Chart) return;
  var chart = JSON.parse(node.textContent);
  var d = canvas.dataset;
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: chart.labels,
      datasets: [
        { label: d.labelActual, data: chart.actual, borderColor: "#2563eb", backgroundColor: "#2563eb", pointRadius: 0, tension: 0.1 },
        { label: d.labelPace, data: chart.pace, borderColor: "#f59e0b", backgroundColor: "#f59e0b", borderDash: [6, 4], pointRadius: 2, spanGaps: true },
        { label: d.labelNeeded, data: chart.needed, borderColor: "#16a34a", backgroundColor: "#16a34a", borderDash: [2, 3], pointRadius: 2, spanGaps: true },
        { label: d.labelTarget, data: chart.target, borderColor: "#94a3b8", backgroundColor: "#94a3b8", pointRadius: 0, borderWidth: 1 }
      ]
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: "index", intersect: false },
      scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true } }
    }
  });
})();
