"""One suite over both :class:`~bamboo.sdk.labels.LabelSystem` implementations: the offline snapshot
and the API client against the real uvicorn server, both over the same writable database. Every
test asks the same questions of each and expects the same answers and the same errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import neo4j
import numpy as np
import pytest

from bamboo.errors import ConceptNotFound, DatasetNotFound
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.snapshot import write_snapshot
from bamboo.sdk.client import BambooClient
from bamboo.sdk.labels import LabelSpace, LabelSystem, OfflineLabels
from bamboo.sdk.ood import CLS_REASONS, ClassificationRectifier
from tests.test_sdk import CANINE, CAT, DOG, RETRIEVER, SHIP

UNKNOWN = "wn:n99999999"


@pytest.fixture(scope="module")
def rw_snapshot(driver: neo4j.Driver, rw_database: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    meta = write_snapshot(GraphStore(driver, rw_database), tmp_path_factory.mktemp("snap") / "rw.npz")
    return Path(str(meta["path"]))


@pytest.fixture(params=["offline", "client"])
def labels(request: pytest.FixtureRequest, rw_snapshot: Path) -> Iterator[LabelSystem]:
    if request.param == "offline":
        yield OfflineLabels.load(rw_snapshot)
    else:
        with BambooClient(request.getfixturevalue("rw_url"), retries=0) as client:
            yield client


def _lists(related: dict[str, np.ndarray]) -> dict[str, list[int]]:
    return {q: v.tolist() for q, v in related.items()}


def test_label_space(labels: LabelSystem) -> None:
    space = labels.label_space("toy-cls")
    assert space == LabelSpace((RETRIEVER, CAT, None, SHIP, CANINE), "toy-cls")
    with pytest.raises(DatasetNotFound) as missing:
        labels.label_space("no-such-dataset")
    assert missing.value.name == "no-such-dataset"


def test_ancestors(labels: LabelSystem) -> None:
    assert labels.ancestors(DOG)[:2] == ["wn:n01317541", CANINE]  # domestic animal, canine: one step up
    assert labels.ancestors(RETRIEVER)[0] == "wn:n02099029"  # retriever
    assert DOG not in labels.ancestors(DOG)
    with pytest.raises(ConceptNotFound) as missing:
        labels.ancestors(UNKNOWN)
    assert missing.value.concept_id == UNKNOWN


def test_related(labels: LabelSystem) -> None:
    space = labels.label_space("toy-cls")
    related = labels.related([DOG, SHIP, DOG], space, levels=0)
    assert _lists(related) == {DOG: [0, 4], SHIP: [3]}  # repeats answered once
    assert all(v.dtype == np.int64 for v in related.values())
    assert labels.related([DOG], space, levels=3)[DOG].tolist() == [0, 1, 4]  # up to carnivore: cats too
    assert labels.related([], space) == {}
    unnamed = LabelSpace.of([None, DOG, SHIP])
    assert labels.related([RETRIEVER], unnamed, levels=0)[RETRIEVER].tolist() == [1]


@pytest.mark.parametrize("queries", [[UNKNOWN], [DOG, UNKNOWN, SHIP]])
def test_related_unknown_query_raises_concept_not_found(labels: LabelSystem, queries: list[str]) -> None:
    space = labels.label_space("toy-cls")
    with pytest.raises(ConceptNotFound) as missing:
        labels.related(queries, space)
    assert missing.value.concept_id == UNKNOWN
    assert isinstance(missing.value, KeyError)


def test_rectifier_counts_an_unknown_word_in_a_batch(labels: LabelSystem) -> None:
    space = labels.label_space("toy-cls")
    rectify = ClassificationRectifier(labels, space, levels=0, device="cpu")
    queries = [DOG, UNKNOWN, SHIP, DOG, UNKNOWN]
    topk = np.array([[0, 1], [0, 4], [3, 1], [1, 3], [3, 3]])
    out = rectify(queries, topk)
    assert out.keep.tolist() == [True, False, True, False, False]
    fine, unrelated, unknown = CLS_REASONS  # their texts are pinned in test_sdk.py
    assert [out.why(i) for i in range(5)] == [fine, unknown, fine, unrelated, unknown]
    assert out.counts() == {
        "in distribution": 2,
        "top-k unrelated to the query": 1,
        "query concept unknown": 2,
    }
    assert rectify.related_indices(DOG).tolist() == [0, 4]
    with pytest.raises(ConceptNotFound):
        rectify.related_indices(UNKNOWN)
