// World map: countries from world-atlas (ISO 3166 numeric ids) coloured by the state
// the server computed; the country table on the page is the data source.
"use strict";

const ANTARCTICA = "010";

// Rings that cross the antimeridian (Russia, Fiji) would be drawn as bands across the whole
// map; moving their far-west points east by 360 degrees keeps each ring in one piece.
function unwrapAntimeridian(geometry) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  for (const ring of polygons.flat()) {
    if (ring.some(([lon]) => lon > 150) && ring.some(([lon]) => lon < -150)) {
      ring.forEach((point) => { if (point[0] < 0) point[0] += 360; });
    }
  }
}

const VOTES = ["yes", "no", "abstain", "non-voting", "unknown"];
const VOTE_COLORS = { yes: "#d84315", no: "#1565c0", abstain: "#8d6e63", "non-voting": "#b0bec5", unknown: "#eceff1" };
const VOTE_WORDS = { yes: "voted yes", no: "voted no", abstain: "abstained", "non-voting": "no recorded vote",
                     unknown: "vote unknown" };

(async () => {
  const element = document.getElementById("world-map");
  const states = ["normal", "anomalies", "blocking", "outage"];
  const buttons = [...document.querySelectorAll("#map-modes button[data-mode]")];
  try {
    const topology = await netvigil.json("/static/vendor/countries-110m.json");
    const world = topojson.feature(topology, topology.objects.countries);
    world.features.forEach((f) => {
      f.properties = { name: String(f.id ?? f.properties.name) };
      if (f.id !== ANTARCTICA) unwrapAntimeridian(f.geometry);
    });
    echarts.registerMap("world", world);
    const rows = [...document.querySelectorAll("#country-table tbody tr")];
    const censorship = new Map(rows.filter((r) => r.dataset.numeric).map((r) => [r.dataset.numeric, r.dataset]));
    const data = rows.filter((r) => r.dataset.numeric).map((r) => ({
      name: r.dataset.numeric, value: states.indexOf(r.dataset.state),
      cc: r.dataset.cc, label: r.dataset.name, state: r.dataset.state,
    }));
    const chart = netvigil.chart(element);
    let votes = null;
    const stateOption = () => ({
      tooltip: {
        trigger: "item",
        formatter: (p) => p.data
          ? `${netvigil.escapeHtml(p.data.label)}: ${netvigil.escapeHtml(p.data.state)}`
          : "no data",
      },
      visualMap: {
        type: "piecewise", left: 10, bottom: 10, dimension: 0,
        pieces: states.map((s, i) => ({ value: i, label: s, color: netvigil.colors[s] })),
      },
      series: [{ data }],
    });
    // The 2019 vote on A/RES/74/247, with each country's censorship state beside it in the tooltip.
    const voteOption = () => ({
      tooltip: {
        trigger: "item",
        formatter: (p) => {
          if (!p.data) return "no data";
          const state = censorship.get(p.data.name);
          const seen = state ? `censorship: ${state.state}` : "no measurement in the window";
          return `${netvigil.escapeHtml(p.data.label)}: ${netvigil.escapeHtml(VOTE_WORDS[p.data.vote])}` +
            `<br>${netvigil.escapeHtml(seen)}`;
        },
      },
      visualMap: {
        type: "piecewise", left: 10, bottom: 10, dimension: 0,
        pieces: VOTES.map((v, i) => ({ value: i, label: VOTE_WORDS[v], color: VOTE_COLORS[v] })),
      },
      series: [{ data: votes }],
    });
    chart.setOption({
      ...stateOption(),
      series: [{
        type: "map", map: "world", roam: true, data,
        itemStyle: { areaColor: "#eceff1", borderColor: "#90a4ae", borderWidth: 0.5 },
        emphasis: { label: { show: false }, itemStyle: { areaColor: "#1565c0" } },
        select: { disabled: true },
      }],
    });
    const show = async (mode) => {
      if (mode === "vote" && votes === null) {
        const body = await netvigil.json("/api/v1/legal");
        votes = body.results.filter((v) => v.numeric).map((v) => ({
          name: v.numeric, value: VOTES.indexOf(v.vote), cc: v.probe_cc, label: v.name, vote: v.vote,
        }));
      }
      chart.setOption(mode === "vote" ? voteOption() : stateOption());
      buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.mode === mode)));
      element.dataset.mode = mode;
      element.dataset.shown = String(mode === "vote" ? votes.length : data.length);
    };
    buttons.forEach((b) => b.addEventListener("click", () => show(b.dataset.mode).catch((e) => netvigil.fail(element, e))));
    chart.on("click", (p) => {
      if (p.data && /^[A-Z]{2}$/.test(p.data.cc)) window.location.href = `/country/${p.data.cc}`;
    });
    element.dataset.mode = "state";
    element.dataset.ready = String(data.length);
  } catch (error) {
    netvigil.fail(element, error);
  }
})();
