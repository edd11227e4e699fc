// Seintje console, flow page: draws the flow graph with the vendored
// Mermaid (no CDN, no inline script) and keeps the simulator's answer box
// ready after each reply. Without JavaScript the graph's text is shown as
// it is and the simulator works with full page loads.
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("flow-graph");
    if (!el || !window.mermaid) {
      return;
    }
    window.mermaid.initialize({
      startOnLoad: false,
      securityLevel: "strict",
      theme: "neutral",
      fontFamily: "inherit",
      flowchart: { htmlLabels: false, useMaxWidth: true }
    });
    window.mermaid.run({ nodes: [el] }).then(function () {
      var svg = el.querySelector("svg");
      if (svg) {
        // The figure's caption and the text version describe it.
        svg.setAttribute("role", "img");
        svg.setAttribute("aria-label", document.getElementById("graph-caption").textContent);
        el.dataset.drawn = "true";
      }
    }, function (err) {
      el.dataset.drawn = "error";
      el.dataset.error = String(err && err.message || err);
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  // After a reply the transcript is swapped: put the focus back in the
  // answer box and scroll the newest line into view.
  document.addEventListener("htmx:afterSettle", function (e) {
    var cfg = e.detail.requestConfig;
    if (!cfg || !/\/sim\//.test(cfg.path || "")) {
      return;
    }
    var box = document.getElementById("answer");
    if (box) {
      box.focus();
    }
    var log = document.getElementById("sim-log");
    if (log && log.lastElementChild) {
      log.lastElementChild.scrollIntoView({ block: "nearest" });
    }
  });
})();
