/* The reports page's posts-per-week chart: one stacked bar per ISO week, one colour per
   column, drawn by the vendored Chart.js (vendor/chart.umd.min.js) from the JSON block
   #chart-data. Progressive enhancement: the canvas is shown and the server-drawn SVG hidden
   only once the chart exists, so without script (or if anything here fails) the SVG stays.
   A static file, not inline script, because the CSP allows scripts from 'self' only. */
(function () {
  "use strict";

  // Distinct at a glance and readable on white; the first is the admin's accent colour.
  const COLOURS = ["#2f7d5b", "#2563eb", "#d97706", "#9333ea", "#dc2626", "#0d9488", "#64748b", "#db2777"];

  function draw() {
    const source = document.getElementById("chart-data");
    const canvas = document.getElementById("weekly-chart");
    if (!source || !canvas || typeof window.Chart !== "function") {
      return;
    }
    const data = JSON.parse(source.textContent);
    if (!data || !data.labels || data.labels.length === 0) {
      return; // nothing published in the period: the (empty) fallback says as much
    }
    const box = canvas.parentElement;
    const fallback = document.querySelector(".chart-fallback");
    const Chart = window.Chart;
    Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
    const options = {
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked: true, grid: { display: false } },
        y: {
          stacked: true,
          beginAtZero: true,
          ticks: { precision: 0 },
          title: { display: true, text: data.y_title },
        },
      },
      plugins: { legend: { position: "bottom" } },
    };
    if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      options.animation = false;
    }
    box.hidden = false; // Chart.js sizes the canvas from its box, so show it first
    try {
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.series.map(function (item, i) {
            return {
              label: item.column,
              data: item.counts,
              backgroundColor: COLOURS[i % COLOURS.length],
            };
          }),
        },
        options: options,
      });
    } catch (error) {
      box.hidden = true;
      throw error;
    }
    if (fallback) {
      fallback.hidden = true;
    }
  }

  draw();
})();
