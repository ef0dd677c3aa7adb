// Country page: measurements per day, stacked by result (MAT's four counts).
"use strict";

(async () => {
  const element = document.getElementById("timeline");
  const cc = element.dataset.cc;
  try {
    const body = await netvigil.json(
      `/api/v1/aggregation?probe_cc=${encodeURIComponent(cc)}&axis_x=measurement_start_day`);
    const rows = body.result;
    const series = [
      ["ok", (r) => r.ok_count],
      ["anomaly", (r) => r.anomaly_count - r.confirmed_count],
      ["confirmed", (r) => r.confirmed_count],
      ["failure", (r) => r.failure_count],
    ].map(([name, value]) => ({
      name, type: "bar", stack: "all", data: rows.map(value), itemStyle: { color: netvigil.colors[name] },
    }));
    const chart = netvigil.chart(element);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "category", data: rows.map((r) => r.measurement_start_day) },
      yAxis: { type: "value", name: "measurements" },
      series,
    });
    element.dataset.ready = String(rows.length);
  } catch (error) {
    netvigil.fail(element, error);
  }
})();
