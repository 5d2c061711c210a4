// Draws a diagnosis's charts from the data the page embeds (json_script); no network.
(function () {
  "use strict";
  var node = document.getElementById("diagnosis-charts");
  if (!node || !window.Chart) return;
  var charts = JSON.parse(node.textContent);
  var colours = ["#2563eb", "#16a34a", "#dc2626"];
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) new window.Chart(canvas, config);
  }
  var base = { responsive: true, maintainAspectRatio: false, animation: false };
  draw("forces-chart", {
    type: "bar",
    data: {
      labels: charts.forces.labels,
      datasets: [
        { label: charts.forces.previous_label, data: charts.forces.previous, backgroundColor: "#cbd5e1" },
        { label: charts.forces.now_label, data: charts.forces.now, backgroundColor: colours }
      ]
    },
    options: Object.assign({}, base, { scales: { y: { min: 0, max: 100 } } })
  });
  draw("ladder-chart", {
    type: "bar",
    data: { labels: charts.ladder.labels, datasets: [{ label: charts.ladder.label, data: charts.ladder.shares, backgroundColor: "#7c3aed" }] },
    options: Object.assign({}, base, { indexAxis: "y", scales: { x: { min: 0, max: 100 } } })
  });
  if (charts.history.labels.length > 1) {
    draw("history-chart", {
      type: "line",
      data: {
        labels: charts.history.labels,
        datasets: charts.history.series.map(function (s, i) {
          return { label: s.label, data: s.data, borderColor: colours[i], backgroundColor: colours[i], tension: 0.2, spanGaps: true };
        })
      },
      options: Object.assign({}, base, { scales: { y: { min: 0, max: 100 } } })
    });
  }
})();
