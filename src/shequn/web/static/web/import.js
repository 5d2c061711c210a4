// Follows an import job: polls its progress and reloads the page once it has finished.
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box || box.dataset.finished === "1") return;
  var bar = document.getElementById("job-progress");
  var text = document.getElementById("job-progress-text");
  var status = document.getElementById("job-status");
  function poll() {
    fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        if (bar) bar.value = p.percent;
        if (text) text.textContent = p.percent + "% · " + p.records.toLocaleString();
        if (status) status.textContent = p.status_label;
        if (p.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
