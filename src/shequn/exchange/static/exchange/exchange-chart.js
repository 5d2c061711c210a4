// The exchange's monthly chart: connections stacked by outcome, and the value created (in the
// currency with the largest total) as a line on its own axis. Data from the page (json_script);
// no network.
(function () {
  "use strict";
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var COLOURS = { deals: "#10b981", helped: "#3b82f6", no_result: "#9ca3af", not_reported: "#e5e7eb" };
  document.querySelectorAll("canvas[data-chart='exchange-months']").forEach(function (canvas) {
    var rows = data(canvas.dataset.source), labels = data(canvas.dataset.labels);
    if (!rows || !labels || !window.Chart) return;
    var datasets = Object.keys(COLOURS).map(function (key) {
      return { type: "bar", label: labels[key], data: rows[key], backgroundColor: COLOURS[key], yAxisID: "y" };
    });
    if (rows.currency) {
      datasets.push({
        type: "line", label: labels.value + " (" + rows.currency + ")", data: rows.value,
        borderColor: "#8b5cf6", backgroundColor: "#8b5cf6", yAxisID: "y2", tension: 0.2
      });
    }
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: rows.months, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
          y2: { display: !!rows.currency, position: "right", beginAtZero: true, grid: { drawOnChartArea: false } }
        }
      }
    });
  });
})();
