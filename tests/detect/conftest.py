"""Detector tests share ``detect_helpers.py`` beside this file; the folder is put on
``sys.path`` because the suite runs with ``--import-mode=importlib``, which does not do so."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
