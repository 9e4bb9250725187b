"""DHash de-duplication search: 1M pool hashes against 100K downstream hashes at Hamming <= 4.

Hashes: real DHashes of the CIFAR-10 images in ``../shared/data/images`` when present (20,000
photos; their bits are far from uniform, which is the hard case for hashing by bit blocks), the
rest random 64-bit values, plus near-copies of downstream hashes planted in the pool (0-6 flipped
bits). The search is :class:`~bamboo.sdk.dedup.HashIndex` (faiss binary multi-index hashing); the
baseline in the same run is faiss's exhaustive ``IndexBinaryFlat`` range search on a sample of the
pool, whose time is scaled to the full pool, and whose matches must equal ours on that sample.

Prints the search time (goal < 60 s here), matches found, the brute-force check on the sample, and
the speed-up against the exhaustive scan.

Usage: ``python benchmarks/dedup.py [--pool 1000000] [--downstream 100000] [--sample 20000]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import faiss
import numpy as np

from bamboo.sdk.dedup import HashIndex, dhash_pixels

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _options import options  # noqa: E402

CIFAR = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"


def _cifar_hashes() -> np.ndarray:
    from PIL import Image

    out = []
    for name in ("cifar10_test_from_jpeg.npz", "cifar10_train_subset_1000pc_from_jpeg.npz"):
        path = CIFAR / name
        if path.exists():
            with np.load(path) as data:
                grey = [
                    np.asarray(Image.fromarray(im).convert("L").resize((9, 8), Image.Resampling.LANCZOS))
                    for im in data["images"]
                ]
            out.append(dhash_pixels(np.stack(grey)))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.uint64)


def main() -> None:
    args = options(__doc__, pool=1_000_000, downstream=100_000, sample=20_000, max_distance=4, seed=0)
    rng = np.random.default_rng(args.seed)

    real = _cifar_hashes()
    half = len(real) // 2
    down = rng.integers(0, 2**64, size=args.downstream, dtype=np.uint64)
    pool = rng.integers(0, 2**64, size=args.pool, dtype=np.uint64)
    down[:half], pool[:half] = real[:half], real[half : 2 * half]  # CIFAR test vs CIFAR train
    planted = min(args.pool // 100, args.downstream)
    where = rng.choice(np.arange(half, args.pool), planted, replace=False)
    for j, i in enumerate(where):
        v = down[rng.integers(args.downstream)]
        for b in rng.choice(64, j % 7, replace=False):
            v ^= np.uint64(1) << np.uint64(int(b))
        pool[i] = v
    print(
        f"pool {args.pool:,} hashes ({half:,} real CIFAR-10 DHashes), downstream {args.downstream:,} "
        f"({half:,} real); {planted:,} planted near-copies; Hamming <= {args.max_distance}; "
        f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads"
    )

    started = time.perf_counter()
    index = HashIndex(down, args.max_distance)
    rows, cols, dist = index.search(pool)
    took = time.perf_counter() - started
    print(
        f"multi-index hash search: {took:.1f} s (goal < 60 s); {len(rows):,} matches, "
        f"{len(np.unique(rows)):,} pool images are duplicates"
    )

    sample = rng.choice(args.pool, min(args.sample, args.pool), replace=False)
    sample = np.union1d(sample, where[:1000])  # include planted copies in the check
    flat = faiss.IndexBinaryFlat(64)
    as_bytes = lambda h: np.ascontiguousarray(h.astype(">u8")).view(np.uint8).reshape(-1, 8)  # noqa: E731
    flat.add(as_bytes(down))
    started = time.perf_counter()
    lims, fd, fi = flat.range_search(as_bytes(pool[sample]), args.max_distance + 1)
    brute = time.perf_counter() - started
    truth = {(int(sample[q]), int(i)) for q in range(len(sample)) for i in fi[lims[q] : lims[q + 1]]}
    in_sample = set(sample.tolist())
    ours = {(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if int(r) in in_sample}
    assert ours == truth, f"mismatch on the sample: {len(ours ^ truth)} pairs differ"
    scaled = brute * args.pool / len(sample)
    print(f"brute-force check on {len(sample):,} pool hashes: identical matches ({len(truth):,} pairs)")
    print(
        f"exhaustive scan: {brute:.1f} s for the sample -> {scaled:.0f} s for the pool (scaled); "
        f"speed-up {scaled / took:.1f}x"
    )


if __name__ == "__main__":
    main()
