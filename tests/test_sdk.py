"""The SDK: offline label system from a real snapshot, the API client against the real uvicorn
server (and a real local HTTP server answering 429), OOD rectification and DHash de-duplication on
real photos (skimage) with unreadable files and URLs served by a local HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import neo4j
import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter
from skimage import data as photos

from bamboo.errors import ConceptNotFound, DatasetNotFound, ServiceError
from bamboo.graph.store.embedded import ServerInfo
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.hierarchy import Taxonomy
from bamboo.graph.taxonomy.invariants import GraphContents
from bamboo.graph.taxonomy.snapshot import taxonomy_from_contents, write_snapshot
from bamboo.graph.taxonomy.wordnet import WordNetNouns
from bamboo.loaders.base import MalformedFile
from bamboo.sdk.client import AsyncBambooClient, BambooClient
from bamboo.sdk.dedup import HashIndex, dedup_meta, dhash, dhash_pixels, iter_source
from bamboo.sdk.labels import LabelSpace, OfflineLabels
from bamboo.sdk.ood import CLS_REASONS, DET_REASONS, ClassificationRectifier, rectify_detection
from conftest import run_cli

DOG, CAT, SHIP, CANINE, RETRIEVER = (
    "wn:n02084071",
    "wn:n02121620",
    "wn:n04194289",
    "wn:n02083346",
    "wn:n02099601",
)


@pytest.fixture(scope="module")
def wordnet_labels(wordnet_nouns: WordNetNouns) -> OfflineLabels:
    contents = GraphContents(
        [{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts], wordnet_nouns.edges
    )
    return OfflineLabels(taxonomy_from_contents(contents))


@pytest.fixture(scope="module")
def rw_snapshot(driver: neo4j.Driver, rw_database: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    meta = write_snapshot(GraphStore(driver, rw_database), tmp_path_factory.mktemp("snap") / "rw.npz")
    return Path(str(meta["path"]))


# --- label system: offline and over the API ----------------------------------------------------


def test_offline_labels_from_snapshot(rw_snapshot: Path) -> None:
    labels = OfflineLabels.load(rw_snapshot)
    space = labels.label_space("toy-cls")
    assert space.concepts == (RETRIEVER, CAT, None, SHIP, CANINE) and space.name == "toy-cls"
    related = labels.related([DOG, SHIP, DOG], space, levels=0)
    assert set(related) == {DOG, SHIP}
    assert related[DOG].tolist() == [0, 4]  # golden retriever (below dog) and canine (above it)
    assert related[SHIP].tolist() == [3]
    assert labels.related([DOG], space, levels=3)[DOG].tolist() == [0, 1, 4]  # up to carnivore: cats too
    assert labels.ancestors(DOG)[:2] == ["wn:n01317541", CANINE]  # domestic animal, canine: one step up
    with pytest.raises(DatasetNotFound):
        labels.label_space("no-such-dataset")
    with pytest.raises(ConceptNotFound):
        labels.related(["wn:n99999999"], space)


def test_client_answers_like_the_snapshot(rw_url: str, rw_snapshot: Path) -> None:
    offline = OfflineLabels.load(rw_snapshot)
    with BambooClient(rw_url) as client:
        space = client.label_space("toy-cls")
        assert space == offline.label_space("toy-cls")
        for levels in (0, 1, 3):
            remote = client.related([DOG, SHIP, CAT], space, levels=levels)
            local = offline.related([DOG, SHIP, CAT], space, levels=levels)
            assert {q: v.tolist() for q, v in remote.items()} == {q: v.tolist() for q, v in local.items()}
        unnamed = LabelSpace.of([None, DOG, SHIP])
        assert client.related([RETRIEVER], unnamed, levels=0)[RETRIEVER].tolist() == [1]
        assert client.ancestors(RETRIEVER)[0] == "wn:n02099029"  # retriever
        assert set(client.ancestors(RETRIEVER)) == set(offline.ancestors(RETRIEVER))
        with pytest.raises(ConceptNotFound):
            client.concept("wn:n99999999")
        with pytest.raises(DatasetNotFound):
            client.label_space("no-such-dataset")
        with pytest.raises(ConceptNotFound):  # an unknown query word: the protocol's error, not HTTP's
            client.related(["wn:n99999999"], space)

    async def run() -> list[int]:
        async with AsyncBambooClient(rw_url) as aclient:
            space = await aclient.label_space("toy-cls")
            got = await asyncio.gather(*(aclient.related([q], space, levels=0) for q in (DOG, SHIP)))
            return [*got[0][DOG].tolist(), *got[1][SHIP].tolist()]

    assert asyncio.run(run()) == [0, 4, 3]


@contextlib.contextmanager
def _http(handler: type[BaseHTTPRequestHandler] | partial[SimpleHTTPRequestHandler]) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


class _Busy(BaseHTTPRequestHandler):
    """Answers 429 (Retry-After: 1) to the first two requests, then a health body."""

    calls = 0

    def do_GET(self) -> None:  # noqa: N802
        type(self).calls += 1
        if type(self).calls <= 2:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def test_client_waits_out_429_and_reports_a_dead_server() -> None:
    with _http(_Busy) as url, BambooClient(url, backoff=0.01) as client:
        assert client.health() == {"status": "ok"}
        assert client.waits == [1.0, 1.0]
    with BambooClient("http://127.0.0.1:9", retries=2, backoff=0.01) as dead:
        with pytest.raises(ServiceError, match="after 3 attempts"):
            dead.health()
        assert dead.waits == [0.01, 0.02]


# --- OOD rectification -------------------------------------------------------------------------


def _baseline(related: dict[str, set[int]], queries: list[str], topk: np.ndarray) -> np.ndarray:
    return np.array([bool(related[q] & set(row.tolist())) for q, row in zip(queries, topk, strict=True)])


def test_classification_rectifier_matches_a_plain_python_baseline(wordnet_labels: OfflineLabels) -> None:
    space_ids = sorted(wordnet_labels.taxonomy.ids.tolist())[::40][:2000]  # 2,000 real concepts
    space = LabelSpace.of(space_ids)
    rng = np.random.default_rng(0)
    queries_pool = [DOG, CAT, SHIP, CANINE, "wn:n00015388", "wn:n03791235"]  # + animal, motor vehicle
    queries = rng.choice(queries_pool, 5000).tolist()
    topk = rng.integers(0, len(space), size=(5000, 5))
    rect = ClassificationRectifier(wordnet_labels, space, device="cpu")
    out = rect(queries, topk)
    sets = {q: set(rect.related_indices(q).tolist()) for q in queries_pool}
    assert np.array_equal(out.keep, _baseline(sets, queries, topk))
    assert 0 < out.keep.sum() < len(out.keep)
    assert out.counts()["in distribution"] == int(out.keep.sum())
    # the same result from torch input and from a second call (cached related sets)
    again = rect(np.array(queries), torch.as_tensor(topk))
    assert np.array_equal(again.keep, out.keep)


#: The rectifiers' reasons, by short names (their texts are pinned below).
IN, UNRELATED, UNKNOWN_QUERY = CLS_REASONS
_, FEW, CROWDED = DET_REASONS


def test_rectifier_reasons_read_as_documented() -> None:
    assert CLS_REASONS == ("in distribution", "top-k unrelated to the query", "query concept unknown")
    assert DET_REASONS == ("in distribution", "noise: too few proposals", "crowded: too many of one class")


def test_classification_rectifier_semantics(wordnet_labels: OfflineLabels) -> None:
    space = LabelSpace.of([RETRIEVER, CAT, None, SHIP, "wn:n02110185"])  # + Siberian husky
    rect = ClassificationRectifier(wordnet_labels, space, levels=1, device="cpu")
    out = rect(
        [DOG, DOG, SHIP, "wn:n99999999", DOG],
        [[1, 3, -1], [3, 0, -1], [3, -1, -1], [0, 1, 3], [-1, -1, -1]],
    )
    assert out.keep.tolist() == [False, True, True, False, False]
    assert [out.why(i) for i in range(5)] == [UNRELATED, IN, IN, UNKNOWN_QUERY, UNRELATED]
    with pytest.raises(ValueError, match="label space has 5"):
        rect([DOG], [[7]])
    with pytest.raises(ValueError, match="N x k"):
        rect([DOG, CAT], [[0]])


def test_detection_rectification() -> None:
    # image 0: one sure proposal (noise); 1: 20 cars (crowded); 2: three mixed; 3: nothing;
    # 4: two proposals, one below the score threshold (noise)
    image = [0] + [1] * 20 + [2, 2, 2] + [4, 4]
    classes = [5] + [2] * 20 + [1, 2, 3] + [1, 1]
    scores = [0.9] + [0.8] * 20 + [0.9, 0.5, 0.4] + [0.9, 0.1]
    out = rectify_detection(image, classes, scores, 5, device="cpu")
    assert out.keep.tolist() == [False, False, True, False, False]
    assert [out.why(i) for i in range(5)] == [FEW, CROWDED, IN, FEW, FEW]
    loose = rectify_detection(image, classes, scores, 5, max_per_class=25, min_proposals=1, device="cpu")
    assert loose.keep.tolist() == [True, True, True, False, True]
    with pytest.raises(ValueError, match="image indices"):
        rectify_detection([7], [1], [0.9], 5)


# --- DHash de-duplication ----------------------------------------------------------------------


def test_dhash_is_stable_under_re_encoding_and_tells_photos_apart(tmp_path: Path) -> None:
    cat = Image.fromarray(photos.chelsea())
    coffee = Image.fromarray(photos.coffee())
    cat.save(tmp_path / "cat.jpg", quality=60)
    small = cat.resize((cat.width // 3, cat.height // 3)).filter(ImageFilter.GaussianBlur(1))
    near = [dhash(Image.open(tmp_path / "cat.jpg")), dhash(small)]
    assert all(bin(dhash(cat) ^ h).count("1") <= 4 for h in near)
    assert bin(dhash(cat) ^ dhash(coffee)).count("1") > 16
    grey = np.tile(np.arange(9, dtype=np.uint8)[::-1], (2, 8, 1))  # every left pixel brighter
    assert dhash_pixels(grey).tolist() == [2**64 - 1, 2**64 - 1]


def test_hash_index_matches_brute_force() -> None:
    rng = np.random.default_rng(1)
    down = rng.integers(0, 2**64, size=1500, dtype=np.uint64)
    pool = rng.integers(0, 2**64, size=2000, dtype=np.uint64)
    for j in range(400):  # plant copies with 0..6 flipped bits
        v = down[rng.integers(len(down))]
        for b in rng.choice(64, j % 7, replace=False):
            v ^= np.uint64(1) << np.uint64(int(b))
        pool[j] = v
    index = HashIndex(down, max_distance=4)
    rows, cols, dist = index.search(pool)
    xor = pool[:, None] ^ down[None, :]
    bits = np.array([bin(b).count("1") for b in range(256)], dtype=np.uint8)
    popcount = bits[xor.view(np.uint8).reshape(len(pool), len(down), 8)].sum(axis=2)
    truth = {(int(r), int(c)) for r, c in zip(*np.nonzero(popcount <= 4), strict=True)}
    assert {(int(r), int(c)) for r, c in zip(rows, cols, strict=True)} == truth
    assert len(truth) >= 250 and all(popcount[r, c] == d for r, c, d in zip(rows, cols, dist, strict=True))
    assert index.matched(pool).sum() == len({r for r, _ in truth})


def test_dedup_meta_streams_and_skips_unreadable(tmp_path: Path) -> None:
    test_set = tmp_path / "test"
    test_set.mkdir()
    originals = {"cat": photos.chelsea(), "coffee": photos.coffee(), "astronaut": photos.astronaut()}
    for name, pixels in originals.items():
        Image.fromarray(pixels).save(test_set / f"{name}.png")
    (test_set / "broken.png").write_bytes(b"not a png")
    pool_dir = tmp_path / "pool"
    pool_dir.mkdir()
    Image.fromarray(photos.chelsea()).save(pool_dir / "cat_copy.jpg", quality=70)  # duplicate
    Image.fromarray(photos.coffee()).resize((200, 133)).save(pool_dir / "coffee_small.jpg")  # duplicate
    for name in ("rocket", "horse", "hubble_deep_field"):
        Image.fromarray(np.asarray(getattr(photos, name)())).convert("RGB").save(pool_dir / f"{name}.jpg")
    (pool_dir / "truncated.jpg").write_bytes((pool_dir / "rocket.jpg").read_bytes()[:200])
    with _http(partial(SimpleHTTPRequestHandler, directory=str(pool_dir))) as url:
        meta = tmp_path / "pool.txt"
        meta.write_text(
            "pool/cat_copy.jpg 0\n"
            "pool/rocket.jpg 1\n"
            "pool/coffee_small.jpg 2\n"
            f"{url}/horse.jpg 3\n"
            f"{url}/missing.jpg 3\n"
            "pool/truncated.jpg 4\n"
            "pool/nowhere.jpg 4\n"
            "\n"
            f"{pool_dir}/hubble_deep_field.jpg 5\n"
        )
        out = tmp_path / "out" / "filtered.txt"
        report = dedup_meta(meta, [test_set], out, max_distance=4, workers=4, chunk=3)
    assert out.read_text().splitlines() == [
        "pool/rocket.jpg 1",
        f"{url}/horse.jpg 3",
        f"{pool_dir}/hubble_deep_field.jpg 5",
    ]
    assert (report.pool, report.kept, report.duplicates, report.unreadable) == (8, 3, 2, 3)
    assert (report.downstream, report.downstream_unreadable) == (3, 1)
    failed = sorted(Path(f.item.location).name for f in report.failures)
    assert failed == ["broken.png", "missing.jpg", "nowhere.jpg", "truncated.jpg"]
    assert [i.line for i in iter_source(meta)] == [1, 2, 3, 4, 5, 6, 7, 9]


def test_dedup_meta_rejects_a_pool_without_labels_and_writes_nothing(tmp_path: Path) -> None:
    Image.fromarray(photos.coffee()).save(tmp_path / "coffee.png")
    meta = tmp_path / "pool.txt"
    meta.write_text("coffee.png\n")
    out = tmp_path / "filtered.txt"
    with pytest.raises(MalformedFile, match="pool.txt:1"):
        dedup_meta(meta, [], out)
    assert not out.exists() and not (tmp_path / "filtered.txt.part").exists()


def test_taxonomy_snapshot_keeps_label_spaces(rw_snapshot: Path) -> None:
    tax = Taxonomy.load(rw_snapshot)
    assert set(tax.label_spaces) >= {"toy-cls", "toy-scenes", "toy-det"}
    assert tax.label_spaces["toy-det"] == [(0, DOG), (1, "wn:n03001627"), (2, "wn:n02958343")]


def test_rectify_batch_is_batch_pure(rw_snapshot: Path) -> None:
    """Scoring a pool in batches (as Ray Data ``map_batches`` does) equals scoring it at once."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    import ray_rectify

    pool = ray_rectify.synthetic_pool(str(rw_snapshot), "toy-cls", 5000)
    step = ray_rectify.Rectify(str(rw_snapshot), "toy-cls")
    whole = step(pool)
    assert set(whole) == {"image", "query", "topk", "keep", "reason"}
    parts = [step({k: v[lo : lo + 700] for k, v in pool.items()}) for lo in range(0, 5000, 700)]
    assert np.array_equal(np.concatenate([p["keep"] for p in parts]), whole["keep"])
    assert ray_rectify.run_local(str(rw_snapshot), "toy-cls", pool, batch_size=999) == int(
        whole["keep"].sum()
    )
    assert 0 < whole["keep"].sum() < 5000 and set(whole["reason"]) <= {
        "in distribution",
        "top-k unrelated to the query",
    }


def test_dedup_command(server: ServerInfo, tmp_path: Path) -> None:
    (tmp_path / "test").mkdir()
    Image.fromarray(photos.coffee()).save(tmp_path / "test" / "coffee.png")
    Image.fromarray(photos.coffee()).save(tmp_path / "copy.jpg", quality=80)
    Image.fromarray(photos.chelsea()).save(tmp_path / "cat.jpg")
    (tmp_path / "pool.txt").write_text("copy.jpg 3\ncat.jpg 7\n")

    def dedup(pool: str, kept: str) -> subprocess.CompletedProcess[str]:
        """``bamboo dedup`` of the pool file ``pool`` against the test folder, writing ``kept``."""
        args = (tmp_path / pool, "--downstream", tmp_path / "test", "--out", tmp_path / kept)
        return run_cli(server, "dedup", *map(str, args))

    out = dedup("pool.txt", "kept.txt")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "kept.txt").read_text() == "cat.jpg 7\n"
    assert '"duplicates": 1' in out.stdout and '"kept": 1' in out.stdout
    (tmp_path / "bad.txt").write_text("cat.jpg\n")
    bad = dedup("bad.txt", "bad-out.txt")
    assert bad.returncode == 2 and "bad.txt:1" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "bad-out.txt").exists()
