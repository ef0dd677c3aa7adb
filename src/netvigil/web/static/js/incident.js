// Incident page, IODA-style: every signal of the incident's entities and netvigil's own
// measurements (count and share blocked per hour) on one time axis; the incident shaded,
// its onset and end marked.
"use strict";

(async () => {
  const element = document.getElementById("signal-chart");
  try {
    const body = await netvigil.json(`/api/v1/incidents/${encodeURIComponent(element.dataset.incident)}`);
    const incident = body.incident;
    const range = `since=${encodeURIComponent(body.window.from)}&until=${encodeURIComponent(body.window.to)}`;
    const own = await netvigil.json(
      `/api/v1/countries/${encodeURIComponent(element.dataset.cc)}/hourly?${range}`);
    const end = incident.end || body.window.to;
    const shade = [[{ xAxis: incident.start }, { xAxis: end }]];
    const marks = [{ xAxis: incident.start, name: "onset" }, ...(incident.end ? [{ xAxis: incident.end, name: "end" }] : [])];
    const series = body.signals.map((s, index) => ({
      name: `${s.entity} ${s.source}`, type: "line", showSymbol: false, yAxisIndex: 0,
      data: s.points.map((p) => [p[0], p[1]]),
      markArea: index === 0 ? { silent: true, itemStyle: { color: "rgba(106, 27, 154, 0.18)" }, data: shade } : undefined,
      markLine: index === 0 ? {
        silent: true, symbol: "none", lineStyle: { color: "#6a1b9a", type: "dashed" },
        label: { formatter: (p) => p.name }, data: marks,
      } : undefined,
    }));
    const measured = own.results;
    if (measured.length) {
      series.push({
        name: "netvigil measurements per hour", type: "bar", yAxisIndex: 1, barMaxWidth: 6,
        itemStyle: { color: "rgba(21, 101, 192, 0.45)" }, data: measured.map((r) => [r.time, r.measurements]),
      });
      series.push({
        name: "of which blocked", type: "bar", yAxisIndex: 1, barGap: "-100%", barMaxWidth: 6,
        itemStyle: { color: netvigil.colors.confirmed }, data: measured.map((r) => [r.time, r.blocked]),
      });
    }
    const chart = netvigil.chart(element);
    chart.setOption({
      tooltip: {
        trigger: "axis",
        formatter: (items) => items.map((p) =>
          `${netvigil.escapeHtml(p.seriesName)}: ${netvigil.escapeHtml(p.value[1])}`).join("<br>"),
      },
      legend: { top: 0, type: "scroll" },
      grid: { left: 60, right: 60, top: 40, bottom: 40 },
      xAxis: { type: "time", min: body.window.from, max: body.window.to },
      yAxis: [{ type: "value", name: "signal" }, { type: "value", name: "measurements", splitLine: { show: false } }],
      series,
    });
    element.dataset.measured = String(measured.length);
    element.dataset.ready = String(body.signals.length);
  } catch (error) {
    netvigil.fail(element, error);
  }
})();
