import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def digits_model():
    from qloom.models import model_path

    return model_path()


# ------------------------------------------------------------------ order under pytest-xdist
_DURATIONS = Path(__file__).parent / "data" / "durations.json"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``make test``: ``-n 2 --dist loadgroup --no-loadscope-reorder``:
    each test a work unit, handed in this order to whichever worker is free, at most three
    queued per worker) the longest work starts first, so the run does not end on one long
    test (longest-processing-time-first list scheduling): the tests timed in
    ``tests/data/durations.json``, longest first, then the other ``slow`` tests, then the
    rest in collection order. A plain ``pytest`` run keeps the collection order.

    (``xdist_group`` marks would keep a module's fixture users on one worker, but
    pytest-xdist 3.8 groups by rewriting ``item._nodeid``, which pytest 9 no longer reads:
    the marks have no effect here, so none are set.)"""
    if not hasattr(config, "workerinput"):
        return
    secs = {k: v for k, v in json.loads(_DURATIONS.read_text()).items() if not k.startswith("_")}

    def rank(item):
        if item.nodeid in secs:
            return (0, -secs[item.nodeid])
        return (1, 0) if item.get_closest_marker("slow") else (2, 0)

    items.sort(key=rank)  # stable: ties keep the collection order
