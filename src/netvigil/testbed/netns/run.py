"""The run file: what every namespace-mode service of one run needs, written once by the testbed.

It is a pickle of :class:`RunSpec` in the run's own folder (mode 0700, removed at
teardown), written just before the services start: the scenario is already
validated, and nothing else writes there.  Its own module so that the testbed, the
services and the censor all read it without importing each other.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

from netvigil.testbed.addressing import AddressPlan
from netvigil.testbed.netns.layout import Layout
from netvigil.testbed.pki import TestbedPKI
from netvigil.testbed.scenarios.scenario import Scenario

RUN_FILE = "run.pickle"


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What every service of a run needs: the scenario, the layout, the run's folder (PKI)."""

    scenario: Scenario
    layout: Layout
    folder: str

    def save(self) -> Path:
        path = Path(self.folder) / RUN_FILE
        path.write_bytes(pickle.dumps(self))
        return path

    @staticmethod
    def load(path: Path) -> RunSpec:
        spec = pickle.loads(path.read_bytes())
        if not isinstance(spec, RunSpec):
            raise TypeError(f"{path} does not hold a RunSpec")
        return spec

    @property
    def plan(self) -> AddressPlan:
        return AddressPlan(self.scenario)

    def pki(self, role: str) -> TestbedPKI:
        """The run's authorities; certificates this role issues go to a folder of its own."""
        scratch = Path(self.folder) / role
        scratch.mkdir(mode=0o700, exist_ok=True)
        return TestbedPKI.load(Path(self.folder), scratch)
