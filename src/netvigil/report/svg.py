"""Small inline-SVG charts for reports: stacked daily bars and signal lines with shaded spans.

Hand-written because the PDF renderer runs no JavaScript; every label passes
through :func:`xml.sax.saxutils.escape`, since domain and entity names come from
measured data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 34
PALETTE = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457")


@dataclass(frozen=True, slots=True)
class Stack:
    name: str
    color: str
    values: Sequence[int]


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    points: Sequence[tuple[datetime, float]]


def stacked_bars(labels: Sequence[str], stacks: Sequence[Stack], *, title: str) -> str:
    """One bar per label, segments stacked bottom-up in the order given."""
    totals = [sum(s.values[i] for s in stacks) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels), 1)
    parts = [_frame(title, top)]
    for i, label in enumerate(labels):
        y = TOP + plot_h
        for stack in stacks:
            h = stack.values[i] / top * plot_h
            y -= h
            parts.append(f'<rect x="{LEFT + i * step + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
                         f'height="{h:.1f}" fill={quoteattr(stack.color)}/>')
        if len(labels) <= 16 or i % max(len(labels) // 8, 1) == 0:
            parts.append(_text(LEFT + (i + 0.5) * step, HEIGHT - BOTTOM + 14, label[5:], anchor="middle"))
    parts += _legend([(s.name, s.color) for s in stacks])
    return _svg(parts, title)


def lines(series: Sequence[Line], *, title: str, start: datetime, end: datetime,
          shaded: Sequence[tuple[datetime, datetime]] = ()) -> str:
    """Each series over [start, end], y from zero to the largest value, spans in ``shaded`` tinted."""
    top = max((v for s in series for _, v in s.points), default=0) or 1
    span = (end - start).total_seconds() or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: datetime) -> float:
        return LEFT + max(0.0, min(1.0, (t - start).total_seconds() / span)) * plot_w

    parts = [_frame(title, top)]
    for lo, hi in shaded:
        parts.append(f'<rect x="{x(lo):.1f}" y="{TOP}" width="{max(x(hi) - x(lo), 1):.1f}" height="{plot_h}" '
                     'fill="#6a1b9a" fill-opacity="0.16"/>')
    for index, s in enumerate(series):
        coords = " ".join(f"{x(t):.1f},{TOP + plot_h - v / top * plot_h:.1f}" for t, v in s.points)
        parts.append(f'<polyline fill="none" stroke-width="1.4" stroke={quoteattr(PALETTE[index % len(PALETTE)])} '
                     f'points="{coords}"/>')
    parts.append(_text(LEFT, HEIGHT - BOTTOM + 14, f"{start:%Y-%m-%d}", anchor="start"))
    parts.append(_text(WIDTH - RIGHT, HEIGHT - BOTTOM + 14, f"{end:%Y-%m-%d}", anchor="end"))
    parts += _legend([(s.name, PALETTE[i % len(PALETTE)]) for i, s in enumerate(series[:6])])
    return _svg(parts, title)


def _frame(title: str, top: float) -> str:
    plot_h = HEIGHT - TOP - BOTTOM
    return (f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#90a4ae"/>'
            f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#90a4ae"/>'
            + _text(LEFT - 4, TOP + 4, _number(top), anchor="end") + _text(LEFT - 4, TOP + plot_h, "0", anchor="end"))


def _legend(entries: list[tuple[str, str]]) -> list[str]:
    parts, x = [], LEFT
    for name, color in entries:
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill={quoteattr(color)}/>')
        parts.append(_text(x + 14, 15, name[:40], anchor="start"))
        x += 24 + 6.5 * min(len(name), 40)
    return parts


def _text(x: float, y: float, text: str, *, anchor: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" text-anchor="{anchor}" fill="#37474f">{escape(text)}</text>'


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:g}"


def _svg(parts: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
            f'aria-label={quoteattr(title)}><title>{escape(title)}</title>{"".join(parts)}</svg>')
