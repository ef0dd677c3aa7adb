"""Testbed tests: the ``testbed_library`` marker.

``testbed_library``-marked tests measure the whole scenario library through
the probe (about half a minute per mode).  They run by default, as CI must run
every scenario; deselect them with ``-m "not testbed_library"`` for a quicker loop.
The raw clients shared by the tests live in ``testbed_helpers.py`` beside this file;
``test_netns_*`` need root and ``ip netns`` (they skip, saying why, without them) and
share ``netns_support.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

LIBRARY_MARK = "testbed_library"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{LIBRARY_MARK}: the full scenario library through the probe (slow)")
