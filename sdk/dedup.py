"""DHash de-duplication of a crawled pool against downstream test sets (paper §7).

Each image gets a 64-bit difference hash: grey, resized to 9 x 8, one bit per horizontally
adjacent pixel pair (left brighter than right). A pool image is a duplicate when its hash is within
Hamming distance ``max_distance`` of any downstream image's hash. The downstream hashes go into a
faiss binary multi-index hash (``max_distance + 1`` tables over disjoint bit blocks: by the
pigeonhole principle two hashes within ``max_distance`` agree exactly on one block, so the range
search is exact), and the pool streams through it in chunks.

Sources stream: an image folder (recursively, sorted), a meta file of ``[image path or url]
[class_index]`` lines (the paper's format; relative paths are resolved against the file's folder)
or a list of paths / URLs, one per line. An image that cannot be read or fetched is reported
(:class:`HashFailure`) and skipped; it never stops the run.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import faiss
import httpx
import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from bamboo.atomic import atomic_path
from bamboo.errors import MalformedFile

__all__ = [
    "IMAGE_SUFFIXES",
    "DedupReport",
    "HashFailure",
    "HashIndex",
    "Item",
    "dedup_meta",
    "dhash",
    "dhash_pixels",
    "hash_items",
    "iter_source",
]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})


@dataclass(frozen=True)
class Item:
    """One image to hash: ``location`` (path or URL) as written in the source, ``label`` its class
    index when the source is a meta file, and ``line`` its 1-based line there."""

    location: str
    label: int | None = None
    line: int | None = None
    entry: str = ""  # the location as the source wrote it (meta files: before resolving)


@dataclass(frozen=True)
class HashFailure:
    """An image that could not be read or hashed, and why."""

    item: Item
    reason: str


def dhash_pixels(grey: npt.NDArray[Any]) -> npt.NDArray[np.uint64]:
    """Hashes of (N x 8 x 9) grey images (vectorised; bit 63 is the top-left pair)."""
    grey = np.asarray(grey, dtype=np.int16)
    if grey.ndim != 3 or grey.shape[1:] != (8, 9):
        raise ValueError(f"expected (N, 8, 9) grey pixels, got {grey.shape}")
    bits = (grey[:, :, :-1] > grey[:, :, 1:]).reshape(len(grey), 64)
    weights = np.uint64(1) << np.arange(63, -1, -1, dtype=np.uint64)
    return (bits.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)


def _grey(image: Image.Image) -> npt.NDArray[np.uint8]:
    return np.asarray(image.convert("L").resize((9, 8), Image.Resampling.LANCZOS), dtype=np.uint8)


def dhash(image: Image.Image | npt.NDArray[Any]) -> int:
    """The 64-bit difference hash of one image (PIL image or H x W [x C] uint8 array)."""
    if not isinstance(image, Image.Image):
        image = Image.fromarray(np.asarray(image))
    return int(dhash_pixels(_grey(image)[None])[0])


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def iter_source(source: str | os.PathLike[str]) -> Iterator[Item]:
    """Items of a folder, a meta file (``location class_index``) or a list file (one location)."""
    path = Path(source)
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
            yield Item(str(f))
        return
    base = path.parent
    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            location, _, rest = line.rpartition(" ") if " " in line else (line, "", "")
            label: int | None = None
            if rest:
                if not rest.lstrip("-").isdigit():
                    location, label = line, None  # a path with spaces and no label
                else:
                    label = int(rest)
            resolved = location
            if not _is_url(location) and not os.path.isabs(location):
                resolved = str(base / location)
            yield Item(resolved, label, number, location)


def _open(item: Item, http: httpx.Client | None, retries: int) -> Image.Image:
    if not _is_url(item.location):
        return Image.open(item.location)
    assert http is not None
    for attempt in range(retries + 1):
        try:
            r = http.get(item.location)
        except httpx.TransportError:
            if attempt == retries:
                raise
            time.sleep(min(0.5 * 2**attempt, 10))
            continue
        if r.status_code in (429, 502, 503, 504) and attempt < retries:
            after = r.headers.get("Retry-After", "")
            time.sleep(min(float(after), 30) if after.isdigit() else min(0.5 * 2**attempt, 10))
            continue
        r.raise_for_status()
        return Image.open(io.BytesIO(r.content))
    raise AssertionError("unreachable")  # pragma: no cover


def _hash_one(item: Item, http: httpx.Client | None, retries: int) -> tuple[Item, int | None, str]:
    try:
        with _open(item, http, retries) as image:
            image.load()
            return item, int(dhash_pixels(_grey(image)[None])[0]), ""
    except (
        OSError,
        UnidentifiedImageError,
        ValueError,
        httpx.HTTPError,
        Image.DecompressionBombError,
    ) as exc:
        return item, None, f"{type(exc).__name__}: {exc}"


def hash_items(
    items: Iterable[Item], *, workers: int = 8, chunk: int = 1024, retries: int = 3, timeout: float = 30.0
) -> Iterator[tuple[Item, int | None, str]]:
    """Hash items in parallel, in input order, with at most ``chunk`` images in flight (memory stays
    flat however long the source is).

    Args:
        items: The images to hash.
        workers: Threads reading and hashing.
        chunk: Images in flight at once.
        retries: Further attempts for a URL that fails.
        timeout: Seconds per download.

    Yields:
        ``(item, hash or None, failure reason)`` per item.
    """
    it = iter(items)
    with httpx.Client(timeout=timeout, follow_redirects=True) as http, ThreadPoolExecutor(workers) as pool:
        while batch := list(islice(it, chunk)):
            yield from pool.map(lambda i: _hash_one(i, http, retries), batch)


def _as_bytes(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
    return np.ascontiguousarray(np.asarray(hashes, dtype=">u8")).view(np.uint8).reshape(-1, 8)


class HashIndex:
    """Exact Hamming range search over 64-bit hashes (faiss binary multi-index hashing).

    Args:
        hashes: The hashes to search in.
        max_distance: Largest Hamming distance that counts as a match (below 64).

    Raises:
        ValueError: ``max_distance`` outside ``[0, 64)``.

    Example:
        >>> HashIndex(np.array([0b1011], dtype=np.uint64), max_distance=1).matched(
        ...     np.array([0b1010, 0b0100], dtype=np.uint64)
        ... ).tolist()
        [True, False]
    """

    def __init__(self, hashes: npt.NDArray[np.uint64], max_distance: int = 4) -> None:
        if not 0 <= max_distance < 64:
            raise ValueError("max_distance must be in [0, 64)")
        self.max_distance = max_distance
        self.hashes = np.asarray(hashes, dtype=np.uint64)
        blocks = max_distance + 1
        if 64 // blocks >= 8:
            self._index: Any = faiss.IndexBinaryMultiHash(64, blocks, 64 // blocks)
        else:  # blocks too short to prune anything: a flat scan is as fast and exact
            self._index = faiss.IndexBinaryFlat(64)
        if len(self.hashes):
            self._index.add(_as_bytes(self.hashes))

    def __len__(self) -> int:
        return len(self.hashes)

    def search(
        self, queries: npt.NDArray[np.uint64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32]]:
        """Every (query position, index position, distance) within ``max_distance``."""
        if not len(self.hashes) or not len(queries):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0, dtype=np.int32)
        lims, dist, ids = self._index.range_search(_as_bytes(queries), self.max_distance + 1)
        rows = np.repeat(np.arange(len(queries), dtype=np.int64), np.diff(lims).astype(np.int64))
        return rows, ids.astype(np.int64), dist.astype(np.int32)

    def matched(self, queries: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
        """Whether each query hash has a match."""
        rows, _, _ = self.search(queries)
        out = np.zeros(len(queries), dtype=bool)
        out[rows] = True
        return out


@dataclass
class DedupReport:
    """The counts of one :func:`dedup_meta` run.

    Attributes:
        pool: Pool images read.
        kept: Pool lines written.
        duplicates: Pool images within the distance of a downstream image.
        unreadable: Pool images that could not be hashed (left out).
        downstream: Downstream images hashed.
        downstream_unreadable: Downstream images that could not be hashed.
        failures: Every unreadable pool image, with the reason.
        seconds: Wall time.
    """

    pool: int = 0
    kept: int = 0
    duplicates: int = 0
    unreadable: int = 0
    downstream: int = 0
    downstream_unreadable: int = 0
    failures: list[HashFailure] = field(default_factory=list)
    seconds: float = 0.0


def dedup_meta(
    pool: str | os.PathLike[str],
    downstream: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    max_distance: int = 4,
    workers: int = 8,
    chunk: int = 4096,
    progress: Callable[[int], None] | None = None,
) -> DedupReport:
    """Write ``out``: the pool's ``[image_url] [class_index]`` lines whose images are not within
    ``max_distance`` of any downstream image, in pool order.

    ``out`` is written to a temporary file and renamed, so it is never half-written. Duplicates and
    unreadable images are left out and counted; unreadable ones are listed in ``report.failures``.

    Args:
        pool: The pool's meta file (one ``location class_index`` per line).
        downstream: Test sets to keep the pool apart from (folders, meta or list files).
        out: Where the kept lines go.
        max_distance: Largest Hamming distance between hashes that counts as a duplicate.
        workers: Threads reading and hashing images.
        chunk: Images in flight at once.
        progress: Called with the number of images hashed so far.

    Returns:
        The run's counts.

    Raises:
        MalformedFile: A pool line without a class index.
    """
    started = time.perf_counter()
    report = DedupReport()
    down: list[int] = []
    for source in downstream:
        for item, h, why in hash_items(iter_source(source), workers=workers, chunk=chunk):
            if h is None:
                report.downstream_unreadable += 1
                report.failures.append(HashFailure(item, why))
            else:
                down.append(h)
    report.downstream = len(down)
    index = HashIndex(np.array(down, dtype=np.uint64), max_distance)
    with atomic_path(out) as tmp:
        _filter_pool(iter_source(pool), index, tmp, report, workers, chunk, Path(pool), progress)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _filter_pool(
    items: Iterable[Item],
    index: HashIndex,
    tmp: Path,
    report: DedupReport,
    workers: int,
    chunk: int,
    pool: Path,
    progress: Callable[[int], None] | None,
) -> None:
    with open(tmp, "w", encoding="utf-8") as fh:
        results = hash_items(items, workers=workers, chunk=chunk)
        while batch := list(islice(results, chunk)):
            hashed = [(item, h) for item, h, _ in batch if h is not None]
            for item, h, why in batch:
                if h is None:
                    report.unreadable += 1
                    report.failures.append(HashFailure(item, why))
            dup = index.matched(np.array([h for _, h in hashed], dtype=np.uint64))
            for (item, _), is_dup in zip(hashed, dup, strict=True):
                if is_dup:
                    report.duplicates += 1
                    continue
                if item.label is None:
                    raise MalformedFile(pool, item.line, "a pool meta line needs a class index")
                fh.write(f"{item.entry or item.location} {item.label}\n")
                report.kept += 1
            report.pool += len(batch)
            if progress:
                progress(len(batch))
