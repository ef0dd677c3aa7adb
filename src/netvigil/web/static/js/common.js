// Shared by the dashboard pages.  Measured data is written only as text (textContent) or
// into chart options whose tooltips are built by escapeHtml: never as markup.
"use strict";

const netvigil = {
  async json(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  },

  escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, (ch) => ({
      "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    })[ch]);
  },

  chart(element) {
    const chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({ animation: false });  // what is drawn is final at once (and in screenshots)
    window.addEventListener("resize", () => chart.resize());
    return chart;
  },

  // Shown in place of a chart whose data could not be loaded, so a failure is never silent.
  fail(element, error) {
    element.textContent = `Chart unavailable: ${error.message}`;
    element.classList.add("chart-error");
    console.error(error);
  },

  colors: { ok: "#2e7d32", anomaly: "#f9a825", confirmed: "#c62828", failure: "#9e9e9e",
            outage: "#6a1b9a", blocking: "#c62828", anomalies: "#f9a825", normal: "#2e7d32" },
};
