"""Pair-plan builds in the service's process: one at a time, and none queued behind another.

Each graph version has its own :class:`~bamboo.graph.crawl.plan.CrawlPlan`. A build queued behind a
slow one held its whole plan (the version's taxonomy, query words) until its turn, long after a newer
version had replaced it: ``benchmarks/soak.py`` saw four plans alive beside one view, and the
service's memory kept that high-water mark.
"""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pytest

from bamboo.errors import PlanPending
from bamboo.graph.crawl.pairs import PairPlanner
from bamboo.graph.crawl.plan import CrawlPlan, signals
from bamboo.graph.taxonomy.snapshot import taxonomy_from_edges

Encoder = Callable[[Sequence[str]], npt.NDArray[np.float32]]
IDS = ["x:entity", "x:dog", "x:street"]


def _encode(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    return np.full((len(texts), 4), 0.5, dtype=np.float32)


def _plan(encode: Encoder = _encode) -> CrawlPlan:
    tax = taxonomy_from_edges(IDS, ["entity", "dog", "street"], IDS[1:], IDS[:1] * 2)
    props = {cid: {"id": cid, "name": cid[2:], "gloss": f"a {cid[2:]}"} for cid in IDS}
    return CrawlPlan(signals(tax, props, {}, []), props, encoder=(encode, "test"))


def _until_built(plan: CrawlPlan, deadline_s: float = 60) -> PairPlanner:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return plan.planner_nowait(["x:dog"], ["x:street"])
        except PlanPending:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_plan_never_queues_its_build_behind_another() -> None:
    encoding, release = threading.Event(), threading.Event()

    def slow(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        encoding.set()
        assert release.wait(60)
        return _encode(texts)

    older = _plan(slow)
    deadline = time.monotonic() + 60
    while not encoding.is_set():  # a build of another test in this process may hold the slot
        with pytest.raises(PlanPending):
            older.planner_nowait(["x:dog"], ["x:street"])
        assert time.monotonic() < deadline
        encoding.wait(0.05)
    newer = _plan()
    with pytest.raises(PlanPending, match="another crawl pair plan .* has been building"):
        newer.planner_nowait(["x:dog"], ["x:street"])
    held = weakref.ref(newer)
    del newer
    gc.collect()
    assert held() is None  # before: its build thread waited for the slot, holding the plan
    release.set()
    assert isinstance(_until_built(older), PairPlanner)
    assert isinstance(_until_built(_plan()), PairPlanner)  # the slot is free again


def test_a_blocking_build_waits_for_the_slot_and_frees_it() -> None:
    plan = _plan()
    assert plan.planner(["x:dog"], ["x:street"]) is plan.planner(["x:dog"], ["x:street"])
    assert isinstance(_until_built(_plan()), PairPlanner)
