"""Crawl queries over a fixed real graph (issue #19): WordNet 3.0 plus the real class lists of COCO,
Pascal VOC, Objects365, LVIS, Open Images (boxable), Places365, CIFAR-100 and iNaturalist 2018,
built into their own database and served by a real uvicorn server."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import httpx
import neo4j
import pytest

from bamboo.graph.store.build import build_wordnet
from bamboo.graph.store.embedded import ServerInfo, create_database, drop_database
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.wordnet import WordNetNouns
from tests.conftest import API_KEY, SHARED_DATA, get_when_ready, serve_app, service_settings

pytestmark = pytest.mark.shared_data("labelsets")

DATASETS = "coco,pascal-voc,objects365,lvis,openimages-boxable,places365,cifar-100,inaturalist-2018"
DOG, CONSPECIFIC = "wn:n02084071", "wn:n01314026"


@pytest.fixture(scope="module")
def crawl_url(server: ServerInfo, driver: neo4j.Driver, wordnet_nouns: WordNetNouns) -> Iterator[str]:
    from bamboo.api import create_app
    from bamboo.graph.mapping.datasets import dataset_mapper, import_label_set
    from bamboo.loaders import read_label_sets

    drop_database(server, "crawl")
    create_database(server, "crawl")
    store = GraphStore(driver, "crawl")
    build_wordnet(store, wordnet_nouns)
    label_sets = read_label_sets(DATASETS.split(","), SHARED_DATA / "labelsets")
    mapper = dataset_mapper(store, label_sets, None)
    for ls in label_sets:
        import_label_set(store, ls, mapper)
    with serve_app(create_app(service_settings(server, "crawl", api_key=API_KEY))) as url:
        yield url


def _lines(url: str, path: str, **params: Any) -> tuple[list[dict[str, Any]], httpx.Response]:
    r = get_when_ready(f"{url}{path}", **params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in r.text.splitlines()], r


def _coco_concepts(url: str) -> set[str]:
    r = httpx.get(f"{url}/datasets/coco/classes", params={"limit": 1000}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    rows = body["items"] if isinstance(body, dict) else body
    return {row["concept"] for row in rows}


def test_vocabulary_is_entry_level(crawl_url: str) -> None:
    vocab, _ = _lines(crawl_url, "/crawl/vocabulary", limit=0)
    ids = {line["concept"] for line in vocab}
    assert 150 <= len(ids) <= 2000  # 223 on these eight lists; 1,353 on make run's 27
    coco = _coco_concepts(crawl_url)
    assert len(coco) == 80 and coco <= ids
    r = httpx.get(f"{crawl_url}/datasets/inaturalist-2018/classes", params={"limit": 10000}, timeout=60)
    body = r.json()
    raw = {
        row["concept"]: row["raw_name"]
        for row in (body["items"] if isinstance(body, dict) else body)
        if re.fullmatch(r"[A-Z][a-z]+ [a-z]+", row["raw_name"])
    }
    assert len(raw) > 5000
    # Species an entry-level name covers stay (lion is Panthera leo); none is in by its binomial.
    names = {line["concept"]: line["name"] for line in vocab}
    assert not [c for c in names if c in raw and names[c] == raw[c]]
    assert len(raw.keys() & ids) < 10
    dog = next(line for line in vocab if line["concept"] == DOG)
    assert dog["common"]["commonness"] >= 1.0 and "coco" in dog["common"]["datasets"]


def test_dog_pairs_are_ranked_with_evidence(crawl_url: str) -> None:
    lines, _ = _lines(crawl_url, "/crawl/detection", after="wn:n02084070", limit=1, per_concept=5)
    assert {line["concept"] for line in lines} == {DOG}
    scenes = [line for line in lines if line["kind"] == "scene"]
    pairs = [line for line in lines if line["kind"] == "pair"]
    assert [s["rank"] for s in scenes] == list(range(5)) and [p["rank"] for p in pairs] == list(range(5))
    assert all(
        s["query"].startswith("dog ") and s["evidence"]["encoder"] == "all-MiniLM-L6-v2" for s in scenes
    )
    assert scenes[0]["evidence"]["score"] >= scenes[-1]["evidence"]["score"]
    # "street/park-like": at least two of the five are outdoor scenes by Places365's own split.
    io = {}
    for line in (SHARED_DATA / "labelsets" / "IO_places365.txt").read_text().splitlines():
        path, flag = line.split()
        io[path] = flag == "2"
    r = httpx.get(f"{crawl_url}/datasets/places365/classes", params={"limit": 1000}, timeout=30)
    body = r.json()
    outdoor = {
        row["concept"] for row in (body["items"] if isinstance(body, dict) else body) if io[row["raw_name"]]
    }
    assert sum(s["with"] in outdoor for s in scenes) >= 2
    # Never the dog with its own kind or lineage (animal, canine...).
    r = httpx.get(f"{crawl_url}/concepts/{DOG}/ancestors", timeout=30)
    assert r.status_code == 200
    body = r.json()
    ancestors = {a["id"] for a in (body["items"] if isinstance(body, dict) and "items" in body else body)}
    assert not {p["with"] for p in pairs} & (ancestors | {DOG})


def test_detection_is_deterministic_and_pages(crawl_url: str) -> None:
    first, r1 = _lines(crawl_url, "/crawl/detection", limit=20, per_concept=2)
    again, _ = _lines(crawl_url, "/crawl/detection", limit=20, per_concept=2)
    assert first == again
    cursor = r1.headers["x-next-cursor"]
    second, _ = _lines(crawl_url, "/crawl/detection", limit=20, per_concept=2, after=cursor)
    assert max(line["concept"] for line in first) == cursor < min(line["concept"] for line in second)
    assert len({line["concept"] for line in first}) == 20


def test_ambiguous_words_never_go_out_bare(crawl_url: str) -> None:
    lines, r = _lines(crawl_url, "/crawl/classification", limit=0, langs="en")
    assert "x-next-cursor" not in r.headers and len(lines) > 20_000
    bare: dict[str, set[str]] = defaultdict(set)
    forms: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        forms[line["concept"]] = line["queries"]
        for q in line["queries"]:
            if "qualifier" not in q:
                bare[q["text"].casefold()].add(line["concept"])
            else:
                assert q["text"] == f"{q['bare']} {q['qualifier']}"
    shared = {word: ids for word, ids in bare.items() if len(ids) > 1}
    assert not shared, list(shared.items())[:5]
    # crane the bird and crane the machine: both crawled, each with its own qualifier
    bird, machine = forms["wn:n02012849"], forms["wn:n03126707"]
    assert bird[0]["bare"] == machine[0]["bare"] == "crane"
    assert bird[0]["text"] == "crane bird" and machine[0]["qualifier"] not in ("bird", None)


def test_pages_and_chunks_join_to_the_whole_stream(crawl_url: str) -> None:
    """Pages of 300 lines (each more than one streamed chunk) join, in order, to the one-page answer."""
    from bamboo.api.routers.crawl import CHUNK_LINES

    assert CHUNK_LINES < 300
    whole, _ = _lines(crawl_url, "/crawl/classification", limit=0, langs="en")
    joined: list[dict[str, Any]] = []
    cursor = None
    for _ in range(3):
        page, r = _lines(
            crawl_url, "/crawl/classification", limit=300, langs="en", **({"after": cursor} if cursor else {})
        )
        assert len(page) == 300 and r.headers["x-next-cursor"] == page[-1]["concept"]
        joined += page
        cursor = page[-1]["concept"]
    assert joined == whole[:900]


def test_visual_prior_uses_evidence(crawl_url: str) -> None:
    lines, _ = _lines(crawl_url, "/crawl/classification", after="wn:n02084070", limit=1, langs="en")
    dog = lines[0]["visual"]["p"]
    assert lines[0]["concept"] == DOG and dog > 0.5
    # conspecific: an animal by its lexicographer file (0.95 from the file alone), but no dataset
    # names it and it sits just under *organism*: the evidence lowers it (not below 0.5 yet: see
    # the README's visual prior figures)
    lines, _ = _lines(crawl_url, "/crawl/classification", after="wn:n01314025", limit=1, langs="en")
    assert lines[0]["concept"] == CONSPECIFIC and lines[0]["visual"]["p"] < 0.8
    queue = httpx.get(f"{crawl_url}/tags/queue", params={"limit": 20}, timeout=30).json()
    priors = [item["prior_visual"] for item in queue]
    assert priors == sorted(priors, reverse=True) and priors[0] > 0.9


def test_votes_override_and_prior_agreement_is_reported(crawl_url: str) -> None:
    headers = {"X-API-Key": API_KEY}
    votes = [(DOG, "visual", True), (CONSPECIFIC, "visual", False), (DOG, "common", False)]
    for concept, tag, value in votes:  # dog: visual, but not common; conspecific: not visual
        for n in range(3):
            r = httpx.post(
                f"{crawl_url}/tags/votes",
                json={"annotator": f"a{n}", "concept": concept, "tag": tag, "value": value},
                headers=headers,
                timeout=30,
            )
            assert r.status_code == 200, r.text
    vocab, _ = _lines(crawl_url, "/crawl/vocabulary", limit=0)
    assert DOG not in {line["concept"] for line in vocab}
    lines, _ = _lines(crawl_url, "/crawl/classification", after="wn:n01314025", limit=1, langs="en")
    assert lines[0]["concept"] != CONSPECIFIC
    stats = httpx.get(f"{crawl_url}/stats", timeout=30).json()["visual_prior"]
    assert stats["decided"] == 2 and stats["agree"] == 1 and stats["accuracy"] == 0.5


def test_unknown_scene_dataset_is_404(crawl_url: str) -> None:
    r = httpx.get(f"{crawl_url}/crawl/detection", params={"scene_dataset": "no-such-set"}, timeout=30)
    assert r.status_code == 404 and "no-such-set" in r.text


def test_encoder_child_exits_with_its_parent(tmp_path: Any) -> None:
    """A service killed while its out-of-process encoder works must not leave the child behind
    (it held the model and over a gigabyte, orphaned, until it finished)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "child_job.py").write_text(
        "import os, time\n"
        "from bamboo.graph.crawl.plan import _exit_with_parent\n"
        "def work(parent):\n"
        "    _exit_with_parent(parent)\n"
        "    time.sleep(120)\n"
    )
    parent_code = (
        "import multiprocessing, os, sys, time\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import child_job\n"
        "if __name__ == '__main__':\n"
        "    p = multiprocessing.get_context('spawn').Process(target=child_job.work, args=(os.getpid(),))\n"
        "    p.start()\n"
        "    print(p.pid, flush=True)\n"
        "    time.sleep(120)\n"
    )
    script = tmp_path / "parent.py"
    script.write_text(parent_code)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(child, 0)  # alive while its parent is
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    parent.stdout.close()

    def gone() -> bool:  # exited, or a zombie waiting for whoever reaps orphans here
        try:
            with open(f"/proc/{child}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if gone():
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError("the encoder child outlived its parent by 10 s")


def test_detection_never_waits_on_a_plan_build(crawl_url: str) -> None:
    """The attack round's crawl request (every concept, 100 pairs each) is refused at once; a plan
    not built yet is a 503 naming what it waits for while it builds in the background, and other
    endpoints answer meanwhile (before: the build ran under a lock for over 17 minutes and every
    crawl request queued behind it, then /search and /lca timed out)."""
    import time

    from bamboo.graph.crawl.plan import MAX_PAIR_VOCABULARY

    t0 = time.monotonic()
    r = httpx.get(
        f"{crawl_url}/crawl/detection", params={"limit": 0, "per_concept": 100, "min_score": 0}, timeout=30
    )
    assert r.status_code == 422 and f"{MAX_PAIR_VOCABULARY:,}" in r.json()["detail"], r.text
    assert time.monotonic() - t0 < 10
    # a vocabulary of its own (a lower bar than the default): built in the background
    params = {"limit": 5, "per_concept": 1, "min_score": 0.9}
    r = httpx.get(f"{crawl_url}/crawl/detection", params=params, timeout=30)
    if r.status_code == 503:
        assert r.headers["retry-after"] == "10" and r.json()["error"] == "PlanPending"
        assert "concepts" in r.json()["detail"]
        # a second request while it builds does not start another build or wait for it
        again = httpx.get(f"{crawl_url}/crawl/detection", params=params, timeout=30)
        assert again.status_code in (200, 503), again.text
        for path in ("/health", "/search?q=dog", f"/concepts/{DOG}", "/crawl/classification?limit=3"):
            t0 = time.monotonic()
            assert httpx.get(f"{crawl_url}{path}", timeout=30).status_code == 200, path
            assert time.monotonic() - t0 < 5, path
    lines, _ = _lines(crawl_url, "/crawl/detection", **params)
    assert lines and all(line["kind"] in ("scene", "pair") for line in lines)


def test_one_concepts_queries(crawl_url: str) -> None:
    r = httpx.get(f"{crawl_url}/crawl/concepts/{DOG}", params={"langs": "en"}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "dog" and body["visual"]["crawled"] is True
    assert "dog" in {q["bare"] for q in body["queries"]} and all(q["lang"] == "en" for q in body["queries"])
    assert body["common"]["commonness"] > 0
    vocab, _ = _lines(crawl_url, "/crawl/vocabulary", limit=0)  # votes of other tests may have moved dog
    assert body["common"]["in_vocabulary"] == (DOG in {line["concept"] for line in vocab})
    # the same strings the classification stream sends for it
    lines, _ = _lines(crawl_url, "/crawl/classification", after="wn:n02084070", limit=1, langs="en")
    assert lines[0]["concept"] == DOG and lines[0]["queries"] == body["queries"]
    missing = httpx.get(f"{crawl_url}/crawl/concepts/wn:n99999999", timeout=30)
    assert missing.status_code == 404 and "wn:n99999999" in missing.json()["detail"]
