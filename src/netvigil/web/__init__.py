"""The dashboard: server-rendered pages (Jinja2, autoescaped) with charts drawn by ECharts.

Third-party front-end files (ECharts, topojson-client, world-atlas) are not in
the repository: ``web/`` at the repository root installs them from the npm
registry and ``npm run build`` copies them into ``static/vendor``.  Pages still
render their tables without them and say how to build the charts.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"
VENDOR_FILES = ("echarts.min.js", "topojson-client.min.js", "countries-110m.json")


def assets_built() -> bool:
    """Whether ``npm run build`` has put the chart libraries in place."""
    return all((STATIC_DIR / "vendor" / name).is_file() for name in VENDOR_FILES)
