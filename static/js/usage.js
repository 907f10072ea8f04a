// The usage history chart: drawn with uPlot from the JSON the page carries next to its table.
(function () {
  function money(value, currency) {
    return new Intl.NumberFormat("en", { style: "currency", currency: currency }).format(value);
  }

  function draw(root) {
    const holder = root.querySelector ? root.querySelector("#usage-chart") : null;
    const source = document.getElementById("usage-chart-data");
    if (!holder || !source || holder.dataset.drawn || typeof uPlot === "undefined") return;
    const data = JSON.parse(source.textContent);
    const bars = uPlot.paths.bars({ size: [0.6, 64] });
    const options = {
      width: Math.max(holder.clientWidth || 0, 320),
      height: 240,
      scales: { x: { time: false, range: () => [-0.5, data.labels.length - 0.5] } },
      axes: [
        {
          splits: () => data.labels.map((_, i) => i),
          values: (u, ticks) => ticks.map((i) => data.labels[i] || ""),
        },
        { values: (u, ticks) => ticks.map((v) => money(v, data.currency)), size: 80 },
      ],
      series: [
        { label: "Period", value: (u, i) => data.labels[i] || "" },
        {
          label: "Usage amount",
          paths: bars,
          points: { show: false },
          stroke: "#1f6feb",
          fill: "rgba(31, 111, 235, 0.35)",
          value: (u, v) => (v == null ? "" : money(v, data.currency)),
        },
      ],
    };
    const xs = data.labels.map((_, i) => i);
    holder.dataset.drawn = "1";
    holder.chart = new uPlot(options, [xs, data.amounts], holder);
  }

  function whenReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  whenReady(() => draw(document));
  document.addEventListener("htmx:afterSettle", () => draw(document));
})();
