// Domain and network pages: measurements per day, stacked by result.  The data comes
// from the page's own API address (data-src); names are only ever chart data.
"use strict";

(async () => {
  const element = document.querySelector(".chart[data-src]");
  if (!element) return;
  try {
    const body = await netvigil.json(element.dataset.src);
    const rows = body[element.dataset.key];
    const series = [
      ["ok", (r) => r.ok],
      ["anomaly", (r) => r.blocked - r.confirmed],
      ["confirmed", (r) => r.confirmed],
      ["failure", (r) => r.down + r.other],
    ].map(([name, value]) => ({
      name: name === "anomaly" ? "blocked" : name === "confirmed" ? "blocked (confirmed)" : name === "failure" ? "down or unknown" : name,
      type: "bar", stack: "all", data: rows.map(value), itemStyle: { color: netvigil.colors[name] },
    }));
    const chart = netvigil.chart(element);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "category", data: rows.map((r) => r.day) },
      yAxis: { type: "value", name: "measurements" },
      series,
    });
    element.dataset.ready = String(rows.length);
  } catch (error) {
    netvigil.fail(element, error);
  }
})();
