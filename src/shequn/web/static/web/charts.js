// Draws the charts of a page from data the page embeds (json_script); no network.
(function () {
  "use strict";
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  function weekly(canvas) {
    var rows = data("weekly-data");
    if (!rows || !window.Chart) return;
    var d = canvas.dataset;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return r.week; }),
        datasets: [
          { type: "bar", label: d.labelMessages, data: rows.map(function (r) { return r.messages; }), backgroundColor: "#3b82f6", yAxisID: "y" },
          { type: "bar", label: d.labelReactions, data: rows.map(function (r) { return r.reactions; }), backgroundColor: "#f59e0b", yAxisID: "y" },
          { type: "line", label: d.labelActive, data: rows.map(function (r) { return r.active_members; }), borderColor: "#10b981", backgroundColor: "#10b981", yAxisID: "y2", tension: 0.2, pointRadius: 0 }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { x: { stacked: true, ticks: { maxTicksLimit: 8 } }, y: { stacked: true, beginAtZero: true }, y2: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } }
      }
    });
  }
  function daily(canvas) {
    var rows = data(canvas.dataset.source);
    if (!rows || !window.Chart) return;
    var d = canvas.dataset;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return r.period; }),
        datasets: [
          { label: d.labelMessages, data: rows.map(function (r) { return r.messages; }), backgroundColor: "#3b82f6" },
          { label: d.labelReactions, data: rows.map(function (r) { return r.reactions; }), backgroundColor: "#f59e0b" }
        ]
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { x: { stacked: true, ticks: { maxTicksLimit: 8 } }, y: { stacked: true, beginAtZero: true } } }
    });
  }
  var FLOW_COLOURS = { new: "#60a5fa", up: "#10b981", came_back: "#a3e635", down: "#f59e0b", lapsed: "#ef4444" };
  function tierFlows(canvas) {
    var rows = data(canvas.dataset.source), labels = data("flows-labels");
    if (!rows || !labels || !window.Chart) return;
    var kinds = Object.keys(FLOW_COLOURS);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.months,
        datasets: kinds.map(function (kind) {
          // Moves out of a tier (down, lapsed) are drawn below the axis.
          var sign = kind === "down" || kind === "lapsed" ? -1 : 1;
          return { label: labels[kind], data: rows.series[kind].map(function (n) { return sign * n; }), backgroundColor: FLOW_COLOURS[kind] };
        })
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false }, scales: { x: { stacked: true }, y: { stacked: true } } }
    });
  }
  function levelHistory(canvas) {
    var rows = data(canvas.dataset.source);
    if (!rows || !window.Chart) return;
    new window.Chart(canvas, {
      type: "line",
      data: { labels: rows.map(function (r) { return r.day; }), datasets: [{ label: canvas.dataset.label, data: rows.map(function (r) { return r.balance; }), borderColor: "#8b5cf6", backgroundColor: "#8b5cf6", pointRadius: 0, stepped: true }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true } } }
    });
  }
  var kinds = { weekly: weekly, activity: daily, "tier-flows": tierFlows, "points-balance": levelHistory };
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var draw = kinds[canvas.dataset.chart];
    if (draw) draw(canvas);
  });
})();
