// Copies the dashboard's third-party assets from node_modules into the Python package,
// so `netvigil serve` works offline and nothing is loaded from a CDN.
// Run after `npm ci`: `npm run build`.  The copies are build output (gitignored).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "src", "netvigil", "web", "static", "vendor");
const assets = {
  "echarts.min.js": "echarts/dist/echarts.min.js",
  "topojson-client.min.js": "topojson-client/dist/topojson-client.min.js",
  "countries-110m.json": "world-atlas/countries-110m.json",
  "ECHARTS-LICENSE.txt": "echarts/LICENSE",
  "WORLD-ATLAS-LICENSE.txt": "world-atlas/LICENSE",
  "TOPOJSON-CLIENT-LICENSE.txt": "topojson-client/LICENSE",
};

mkdirSync(target, { recursive: true });
for (const [name, source] of Object.entries(assets)) {
  copyFileSync(join(here, "node_modules", source), join(target, name));
  console.log(`copied ${source} -> src/netvigil/web/static/vendor/${name}`);
}
