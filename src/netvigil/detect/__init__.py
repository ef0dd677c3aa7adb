"""Detection of shutdowns, outages and blocking events in time series (issue 5).

Data model: :class:`~.records.SignalPoint` (entity, source, UTC time, value) are
laid on regular grids (:mod:`.grid`, one entities x bins matrix per source);
pluggable detectors (:mod:`.base`) turn a matrix into :class:`~.records.Detection`
stretches, and :mod:`.incidents` merges those across signals and neighbouring bins
into :class:`~.records.Incident` with IODA's severity, a confidence and the
on-the-hour flag.  Detectors:

- :mod:`.ratio`  - IODA's current / moving-median ratio with warning and critical
  thresholds per signal kind, baseline protected by inpainting; signals with a
  daily cycle are judged against the same time of day instead (:mod:`.season`);
- :mod:`.cusum`  - OONI's two-sided CUSUM for blocking onset and end per
  country + ASN + domain;
- :mod:`.belief` - a Trinocular-style Bayesian belief for active-probing rounds;
- :mod:`.counts` - a Poisson (quasi-Poisson) CUSUM for small counts, below the
  ratio's minimum baseline, run beside the ratio on every connectivity matrix,
  with a time-of-day history that outages never enter (issue 11).

Incidents keep their recovery (:data:`.incidents.RECOVERY`) and get a likely kind,
government shutdown or power/natural outage, with the evidence in sentences
(:mod:`.kind`).

Everything here is pure (no file, network or database access); the commands
(``detect``, ``watch``, ``eval outages``) live in :mod:`netvigil.cli.detect` and
:mod:`netvigil.cli.watch`, importers in :mod:`netvigil.signals`, storage in
:mod:`netvigil.store.signals_db`.
"""

from netvigil.detect.base import Detector, default_detectors, detect_all, detect_matrix
from netvigil.detect.grid import SeriesMeta, SignalMatrix, to_matrices
from netvigil.detect.incidents import merge_incidents, on_the_hour
from netvigil.detect.records import Detection, Incident, Level, SignalKind, SignalPoint
from netvigil.detect.stream import Alert, Watcher

__all__ = [
    "Alert", "Detection", "Detector", "Incident", "Level", "SeriesMeta", "SignalKind", "SignalMatrix",
    "SignalPoint", "Watcher", "default_detectors", "detect_all", "detect_matrix", "merge_incidents",
    "on_the_hour", "to_matrices",
]
