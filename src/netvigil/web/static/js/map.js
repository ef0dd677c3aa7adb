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

(async () => {
  const element = document.getElementById("world-map");
  const states = ["normal", "anomalies", "blocking", "outage"];
  try {
    const topology = await netvigil.json("/static/vendor/countries-110m.json");
    const world = topojson.feature(topology, topology.objects.countries);
    world.features.forEach((f) => {
      f.properties = { name: String(f.id ?? f.properties.name) };
      if (f.id !== ANTARCTICA) unwrapAntimeridian(f.geometry);
    });
    echarts.registerMap("world", world);
    const rows = [...document.querySelectorAll("#country-table tbody tr")];
    const data = rows.filter((r) => r.dataset.numeric).map((r) => ({
      name: r.dataset.numeric, value: states.indexOf(r.dataset.state),
      cc: r.dataset.cc, label: r.dataset.name, state: r.dataset.state,
    }));
    const chart = netvigil.chart(element);
    chart.setOption({
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
      series: [{
        type: "map", map: "world", roam: true, data,
        itemStyle: { areaColor: "#eceff1", borderColor: "#90a4ae", borderWidth: 0.5 },
        emphasis: { label: { show: false }, itemStyle: { areaColor: "#1565c0" } },
        select: { disabled: true },
      }],
    });
    chart.on("click", (p) => {
      if (p.data && /^[A-Z]{2}$/.test(p.data.cc)) window.location.href = `/country/${p.data.cc}`;
    });
    element.dataset.ready = String(data.length);
  } catch (error) {
    netvigil.fail(element, error);
  }
})();
