// Incident page: each signal of the incident's entities over time, the incident shaded.
"use strict";

(async () => {
  const element = document.getElementById("signal-chart");
  try {
    const body = await netvigil.json(`/api/v1/incidents/${encodeURIComponent(element.dataset.incident)}`);
    const incident = body.incident;
    const shade = [[{ xAxis: incident.start }, { xAxis: incident.end || body.window.to }]];
    const series = body.signals.map((s, index) => ({
      name: `${s.entity} ${s.source}`, type: "line", showSymbol: false,
      data: s.points.map((p) => [p[0], p[1]]),
      markArea: index === 0 ? { silent: true, itemStyle: { color: "rgba(106, 27, 154, 0.18)" }, data: shade } : undefined,
    }));
    const chart = netvigil.chart(element);
    chart.setOption({
      tooltip: {
        trigger: "axis",
        formatter: (items) => items.map((p) =>
          `${netvigil.escapeHtml(p.seriesName)}: ${netvigil.escapeHtml(p.value[1])}`).join("<br>"),
      },
      legend: { top: 0, type: "scroll" },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "time", min: body.window.from, max: body.window.to },
      yAxis: { type: "value" },
      series,
    });
    element.dataset.ready = String(series.length);
  } catch (error) {
    netvigil.fail(element, error);
  }
})();
