"""What an import produced: the points, and what was left out and why."""

from __future__ import annotations

from dataclasses import dataclass

from netvigil.detect.records import SignalPoint


@dataclass(frozen=True, slots=True)
class Imported:
    points: list[SignalPoint]
    skipped: tuple[str, ...] = ()  # whole series or records not imported, each with its reason

    def __add__(self, other: Imported) -> Imported:
        return Imported(points=self.points + other.points, skipped=self.skipped + other.skipped)
