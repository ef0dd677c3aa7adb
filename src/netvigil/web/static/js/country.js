// Country page: one chart, three views of the same days: measurement counts by result,
// the share blocked, and the mix of blocking techniques.  Buttons switch the view.
"use strict";

const PALETTE = ["#c62828", "#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037",
                 "#827717", "#37474f"];

function countsOption(days) {
  const series = [
    ["ok", (r) => r.ok],
    ["anomaly", (r) => r.blocked - r.confirmed],
    ["confirmed", (r) => r.confirmed],
    ["failure", (r) => r.down + r.other],
  ].map(([name, value]) => ({
    name, type: "bar", stack: "all", data: days.map(value), itemStyle: { color: netvigil.colors[name] },
  }));
  return { yAxis: { type: "value", name: "measurements", max: null }, series };
}

function shareOption(days) {
  return {
    yAxis: { type: "value", name: "% blocked", max: 100 },
    series: [{
      name: "share blocked", type: "line", showSymbol: false, itemStyle: { color: netvigil.colors.confirmed },
      areaStyle: { opacity: 0.15 },
      data: days.map((r) => (r.measurements ? Math.round((1000 * r.blocked) / r.measurements) / 10 : 0)),
    }],
  };
}

function techniquesOption(days, techniques) {
  const names = [...new Set(techniques.map((t) => t.technique))].sort();
  const index = new Map(days.map((r, i) => [r.day, i]));
  const series = names.map((name, i) => {
    const data = days.map(() => 0);
    techniques.filter((t) => t.technique === name).forEach((t) => { data[index.get(t.day)] = t.blocked; });
    return { name, type: "bar", stack: "blocked", data, itemStyle: { color: PALETTE[i % PALETTE.length] } };
  });
  return { yAxis: { type: "value", name: "blocked measurements", max: null }, series };
}

(async () => {
  const element = document.getElementById("timeline");
  const buttons = [...document.querySelectorAll("#timeline-modes button[data-mode]")];
  try {
    const body = await netvigil.json(`/api/v1/countries/${encodeURIComponent(element.dataset.cc)}/series`);
    const days = body.days;
    if (!days.length) {
      element.textContent = "No measurement from this country is held: nothing to chart.";
      element.classList.add("chart-empty");
      element.dataset.ready = "0";
      return;
    }
    const chart = netvigil.chart(element);
    const views = {
      counts: () => countsOption(days),
      share: () => shareOption(days),
      techniques: () => techniquesOption(days, body.techniques),
    };
    const show = (mode) => {
      chart.setOption({
        tooltip: { trigger: "axis" },
        legend: { top: 0, type: "scroll" },
        grid: { left: 60, right: 20, top: 40, bottom: 40 },
        xAxis: { type: "category", data: days.map((r) => r.day) },
        ...views[mode](),
      }, { replaceMerge: ["series"] });
      buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.mode === mode)));
      element.dataset.mode = mode;
    };
    buttons.forEach((b) => b.addEventListener("click", () => show(b.dataset.mode)));
    show("counts");
    element.dataset.ready = String(days.length);
  } catch (error) {
    netvigil.fail(element, error);
  }
})();
