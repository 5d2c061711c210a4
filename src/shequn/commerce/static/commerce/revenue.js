// Draws the business page's revenue charts (one per currency) from data the page embeds
// (json_script): revenue and costs as bars, revenue minus costs as a line. No network.
(function () {
  "use strict";
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  document.querySelectorAll("canvas[data-chart='commerce-revenue']").forEach(function (canvas) {
    var rows = data(canvas.dataset.source);
    if (!rows || !window.Chart) return;
    var d = canvas.dataset;
    function series(name) { return rows.map(function (r) { return Number(r[name]); }); }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return r.month; }),
        datasets: [
          { type: "bar", label: d.labelRevenue, data: series("revenue"), backgroundColor: "#10b981", order: 2 },
          { type: "bar", label: d.labelCosts, data: series("costs"), backgroundColor: "#f59e0b", order: 3 },
          { type: "line", label: d.labelBalance, data: series("balance"), borderColor: "#1d4ed8", backgroundColor: "#1d4ed8", tension: 0, order: 1 }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, title: { display: true, text: d.currency } } }
      }
    });
  });
})();
