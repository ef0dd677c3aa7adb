"""The commands layer: every ``netvigil`` command, and nothing else.

Each module parses one family's arguments, calls the packages below it (store,
analysis, detect, probe, testbed, api, report) and prints the result.  No package
below imports from here: commands depend on the code, never the other way round.

``main`` (in :mod:`netvigil.cli.main`) builds the parser from every family's module.
"""

from netvigil.cli.main import main

__all__ = ["main"]
