"""The scenario library shipped in ``netvigil/testbed/scenarios/``.

Each file models documented practice (Iran, Russia, China, Uganda, the
Kashmir, Iran and Myanmar shutdowns) or a control that must never be called
censorship, and cites its sources in its opening comment.  A scenario is
named by its file stem (``iran-2019``); a path to any other file works too.
"""

from __future__ import annotations

from pathlib import Path

from netvigil.testbed.scenarios.scenario import Scenario
from netvigil.testbed.scenarios.load import load_scenario

LIBRARY = Path(__file__).resolve().parent  # the TOML files sit beside this package's modules
ALL = "all"  # the whole library, where a scenario name is expected


def library_paths() -> list[Path]:
    return sorted(LIBRARY.glob("*.toml"))


def library_names() -> list[str]:
    return [p.stem for p in library_paths()]


def find_scenario(name_or_path: str) -> list[Path]:
    """A file, a library scenario by name, or ``all``; raises FileNotFoundError naming the choices."""
    if name_or_path == ALL:
        return library_paths()
    path = Path(name_or_path)
    if path.is_file():
        return [path]
    in_library = LIBRARY / f"{name_or_path}.toml"
    if in_library.is_file():
        return [in_library]
    raise FileNotFoundError(f"no scenario file or library scenario {name_or_path!r} "
                            f"(library: {', '.join(library_names())}, or {ALL})")


def load_library() -> list[Scenario]:
    return [load_scenario(p) for p in library_paths()]
