"""Makes tests/images (the image builder under test) importable as ``images`` under ``ansible-test units`` too:
pyproject.toml's pytest ``pythonpath`` applies to plain pytest only."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parents[2])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
