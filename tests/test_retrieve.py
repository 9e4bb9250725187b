"""Concept retrieval (#21): the offline bridge on real photos, verification through the task store,
time buckets and ``bamboo retrieve``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from skimage import data as photos

from bamboo.errors import ConfigurationError
from bamboo.sdk.encoders import ClassifierBridge
from bamboo.sdk.retrieve import (
    Concept,
    ConceptVerification,
    Retrieval,
    answers_from_store,
    bucket_by_time,
    concept_vectors,
    labelled_by_bucket,
    precision_at_k,
    retrieve_for_concepts,
    send_to_store,
    verification_report,
)
from bamboo.sdk.tasks import TaskStore

PHOTOS = ("chelsea", "coffee", "astronaut", "rocket")
# What each photo shows, as the annotators would answer (chelsea is a cat).
SHOWS = {"chelsea": "cat", "coffee": "coffee", "astronaut": "astronaut", "rocket": "rocket"}
CONCEPTS = [
    Concept("cat", "cat", ("house cat",), "a small domesticated feline"),
    Concept("coffee", "coffee", ("cup of coffee",)),
    Concept("rocket", "rocket", ("missile",)),
]


@pytest.fixture(scope="module")
def bridge() -> ClassifierBridge:
    return ClassifierBridge()


@pytest.fixture(scope="module")
def pool(bridge: ClassifierBridge) -> np.ndarray:
    """Bridge vectors of four real photos (skimage), in :data:`PHOTOS` order."""
    images = [getattr(photos, name)()[..., :3] for name in PHOTOS]
    return bridge.encode_images(images)


def test_bridge_ranks_the_photo_of_each_nameable_concept_first(bridge: ClassifierBridge, pool) -> None:
    assert pool.shape == (4, 384)
    assert np.allclose(np.linalg.norm(pool, axis=1), 1.0, atol=1e-5)
    found = retrieve_for_concepts(pool, CONCEPTS, encoder=bridge, k=4, ids=list(PHOTOS))
    assert [found.images(c)[0] for c in range(3)] == ["chelsea", "coffee", "rocket"]
    assert np.all(np.diff(found.scores, axis=1) <= 1e-6), "scores come best first"
    truth = np.array([0, 1, -1, 2])  # concept index by pool position; the astronaut is none of them
    assert precision_at_k(found, truth, [1, 2]).tolist() == [[1.0, 0.5]] * 3
    # The bridge's limit: "astronaut" is no ImageNet class, so its best match is weak.
    astronaut = retrieve_for_concepts(pool, [Concept("a", "astronaut")], encoder=bridge, k=1)
    assert astronaut.scores[0, 0] < 0.4 < found.scores[:2, 0].min()
    # The rocket on its launch pad reads mostly as a drilling platform (0.56, missile 0.06, with the
    # weights' own normalisation): first for "rocket", but by a weak score too.
    assert astronaut.scores[0, 0] < found.scores[2, 0] < 0.4
    # Precomputed vectors give the same ranking without the encoder.
    again = retrieve_for_concepts(pool, CONCEPTS, vectors=concept_vectors(bridge, CONCEPTS), k=4)
    assert np.array_equal(again.positions, found.positions)


def test_retrieve_rejects_missing_encoder_and_wrong_dimensions(bridge: ClassifierBridge) -> None:
    with pytest.raises(ConfigurationError, match="encoder or precomputed"):
        retrieve_for_concepts(np.ones((3, 8)), CONCEPTS)
    with pytest.raises(ConfigurationError, match="8 dimensions"):
        retrieve_for_concepts(np.ones((3, 8)), CONCEPTS, encoder=bridge)


def test_verification_through_the_task_store(bridge: ClassifierBridge, pool, tmp_path: Path) -> None:
    found = retrieve_for_concepts(pool, CONCEPTS, encoder=bridge, k=2, ids=list(PHOTOS))
    store = TaskStore(tmp_path / "tasks.sqlite")
    # Each image is asked once, about the concept that scored it highest among those that retrieved it.
    assert found.assignment() == {"chelsea": 0, "coffee": 1, "rocket": 2, "astronaut": 2}
    assert send_to_store(found, store, round_no=1) == 4
    assert send_to_store(found, store, round_no=1) == 0, "re-sending adds nothing"
    tasks = {t.image: t for t in store.tasks(1)}
    assert tasks["chelsea"].query == "cat" and tasks["chelsea"].description == "a small domesticated feline"
    assert all(a is None for a in answers_from_store(store, 1).values())
    for image, task in tasks.items():
        votes = 3 if image != "coffee" else 2  # the coffee task stays open (2 of the 3 votes it needs)
        for who in range(votes):
            store.vote(task.id, f"annotator{who}", SHOWS[image] == task.query)
    answers = answers_from_store(store, 1)
    assert answers == {
        ("chelsea", "cat"): True,
        ("coffee", "coffee"): None,
        ("rocket", "rocket"): True,
        ("astronaut", "rocket"): False,
    }
    report = {r.concept: r for r in verification_report(found, answers)}
    assert (report["cat"].asked, report["cat"].decided, report["cat"].precision) == (1, 1, 1.0)
    assert report["cat"].labelled == ["chelsea"]
    assert report["coffee"].decided == 0 and np.isnan(report["coffee"].precision)
    rocket = report["rocket"]
    assert (rocket.asked, rocket.decided, rocket.valid, rocket.precision) == (2, 2, 1, 0.5)
    assert rocket.depth_at_target == 1 and rocket.labelled == ["rocket"]
    assert verification_report(found, answers, target=0.5)[2].depth_at_target == 2


def test_time_buckets_and_labelled_sets() -> None:
    years = np.array([2004.2, 2005.9, 2006.5, np.nan, 2008.0, 2014.0, 2004.0, 2009.1])
    wide = bucket_by_time(years, buckets=5)  # 2004-2014 in 2-year spans; the last edge inclusive
    assert wide.edges.tolist() == pytest.approx([2004, 2006, 2008, 2010, 2012, 2014])
    assert wide.bucket.tolist() == [0, 0, 1, -1, 2, 4, 0, 2]
    assert wide.counts() == [3, 1, 2, 0, 1]
    even = bucket_by_time(years, buckets=2, equal="count")
    assert even.counts() == [3, 4]  # the median, 2006.5, opens the second
    given = bucket_by_time(years, edges=[2005, 2007, 2010])
    assert given.bucket.tolist() == [-1, 0, 0, -1, 1, -1, -1, 1]  # outside the edges: no bucket
    for bad in ({"edges": [2010, 2005]}, {"buckets": 0}, {"equal": "median"}):
        with pytest.raises(ConfigurationError):
            bucket_by_time(years, **bad)  # type: ignore[arg-type]
    ids = [f"img{i}" for i in range(len(years))]
    report = [
        ConceptVerification("cat", 3, 3, 3, 1.0, 3, ["img0", "img5", "img3"]),
        ConceptVerification("dog", 2, 2, 1, 0.5, 1, ["img7"]),
    ]
    assert labelled_by_bucket(report, wide, ids) == {
        0: [("img0", "cat")],
        1: [],
        2: [("img7", "dog")],
        3: [],
        4: [("img5", "cat")],
    }  # img3 has no timestamp, so no bucket


def test_retrieval_past_the_pool_end() -> None:
    x = np.array([[0.0, 2.0], [3.0, 0.0], [0.6, 0.8]])  # cosines to (1, 0): 0, 1, 0.6
    found = retrieve_for_concepts(x, CONCEPTS[:1], vectors=np.array([[1.0, 0.0]]), k=5)
    assert isinstance(found, Retrieval) and found.positions.shape == (1, 3)
    assert found.images(0) == ["1", "2", "0"] and found.scores[0].tolist() == pytest.approx([1, 0.6, 0])


def _retrieve(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(Path(__import__("bamboo").__file__).parent.parent))
    return subprocess.run(
        [sys.executable, "-m", "bamboo.cli", "retrieve", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_retrieve(pool, tmp_path: Path) -> None:
    np.savez(tmp_path / "pool.npz", embeddings=pool, ids=np.array(PHOTOS))
    concepts = tmp_path / "concepts.json"
    concepts.write_text(json.dumps([{"id": c.id, "name": c.name, "synonyms": c.synonyms} for c in CONCEPTS]))
    # bad input first: each fails in one line, with a non-zero status, and writes nothing
    (tmp_path / "broken.json").write_text('[{"name": "cat"}]')
    np.savez(tmp_path / "no-embeddings.npz", vectors=pool)
    for pool_file, concept_file, message in (
        ("pool.npz", "broken.json", "expected a JSON list of {id, name, synonyms, gloss}"),
        ("no-embeddings.npz", "concepts.json", "has no 'embeddings' array (it has vectors)"),
        ("missing.npz", "concepts.json", "missing.npz does not exist"),
    ):
        out = tmp_path / "bad.json"
        bad = _retrieve(
            str(tmp_path / pool_file), "--concepts", str(tmp_path / concept_file), "--out", str(out)
        )
        assert bad.returncode == 2, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and message in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr and not out.exists()
    out, tasks = tmp_path / "found.json", tmp_path / "tasks.sqlite"
    args = ["--concepts", str(concepts), "--out", str(out), "--k", "2", "--tasks", str(tasks), "--round", "3"]
    ok = _retrieve(str(tmp_path / "pool.npz"), *args)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {"concepts": 3, "k": 2, "out": str(out), "tasks_added": 4}
    body = json.loads(out.read_text())
    assert [b["concept"] for b in body] == ["cat", "coffee", "rocket"]
    assert [b["images"][0] for b in body] == ["chelsea", "coffee", "rocket"]
    assert {t.image: t.query for t in TaskStore(tasks).tasks(3)} == {
        "chelsea": "cat",
        "coffee": "coffee",
        "rocket": "rocket",
        "astronaut": "rocket",
    }
