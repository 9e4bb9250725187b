"""Dataset growth (InfoGrowth, #21): quality on real images and speed on a 1M stream.

**Quality** (``--quality``): the stream is the team's 10,000 CIFAR-10 training images plus 2,000 real
near-copies of some of them (mirrored, shifted, brightened), EfficientNet-Lite0 features (the AL
study's) reduced to 128-d by PCA fitted on the stream, in random order, with 20 % or 40 % of the labels
flipped to another class. Each method keeps 30 % or 50 % of the stream; a logistic-regression probe
trained on what it kept (with the labels it kept, cleaned ones for InfoGrowth) is scored on 3,000 clean
CIFAR-10 test images (300 per class). Methods: random; SemDeDup (offline: k-means, then within each
cluster drop the samples most similar to one nearer the centroid, down to the kept fraction); exact
kNN gain (the gain ranking with brute-force search, no cleaning); InfoGrowth static (cleaner + gain, IVF
index) and the same with an exact index; InfoGrowth dynamic (every clean sample kept with its gain, the
probe trained on the first phase's draw). The cleaner's noise recall and precision are printed
per noise level.

**Scale** (``--scale``): a 1,000,000 x 128-d stream of Gaussian blobs with noisy labels and 5 % planted
near-duplicates, through :class:`DatasetGrowth` (static, 30 % kept, IVF) in batches of 10,000:
samples/s, peak memory, and the IVF gain's agreement with an exact brute-force gain over the same
members for 5,000 sampled queries.

**Retrieval** (``--retrieval``): concept retrieval with the offline :class:`ClassifierBridge` on the
3,000 CIFAR-10 test images (300 per class; their cached ImageNet logits): each of the 10
classes is a concept, by its name alone and with synonyms, and precision@50 / @200 is the share of the
top images that are of that class (chance: about 0.10).

Usage: ``python benchmarks/growth.py [--quality] [--scale] [--retrieval] [--n 1000000]``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import faiss
import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cifar_features import cifar_features, copy_features  # noqa: E402

from bamboo.sdk.growth import DatasetGrowth, Decision, GrowthConfig, neighbourhood_gain  # noqa: E402
from bamboo.sdk.retrieve import Concept, precision_at_k, retrieve_for_concepts  # noqa: E402

#: Synonyms for the CIFAR-10 classes (the "with synonyms" prompt ensembles).
SYNONYMS = {
    "airplane": ("aeroplane", "airliner", "plane"),
    "automobile": ("car", "sports car"),
    "bird": ("small bird", "songbird"),
    "cat": ("house cat", "kitten"),
    "deer": ("stag", "elk"),
    "dog": ("puppy", "hound"),
    "frog": ("toad", "tree frog"),
    "horse": ("pony", "stallion"),
    "ship": ("boat", "cargo ship"),
    "truck": ("lorry", "dump truck"),
}


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def semdedup(x: np.ndarray, keep: int, clusters: int = 50, seed: int = 0) -> np.ndarray:
    """SemDeDup-style selection: in each k-means cluster, order samples by similarity to the centroid
    (least similar first, as SemDeDup keeps), score each by its highest cosine to one before it, and
    keep the ``keep`` lowest scores overall (a global threshold, as choosing epsilon does)."""
    km = faiss.Kmeans(x.shape[1], clusters, niter=20, seed=seed, spherical=True)
    km.train(x)
    _, assign = km.index.search(x, 1)
    assign = assign[:, 0]
    score = np.zeros(len(x), np.float32)
    for c in range(clusters):
        members = np.flatnonzero(assign == c)
        if len(members) < 2:
            continue
        order = members[np.argsort(x[members] @ km.centroids[c])]
        sims = x[order] @ x[order].T
        np.fill_diagonal(sims, -1)
        score[order] = np.tril(sims, -1).max(axis=1)
        score[order[0]] = -1.0
    return np.argsort(score, kind="stable")[:keep]


def probe_accuracy(x: np.ndarray, y: np.ndarray, tx: np.ndarray, ty: np.ndarray) -> float:
    clf = LogisticRegression(C=1.0, max_iter=2000)
    clf.fit(x, y)
    return float((clf.predict(tx) == ty).mean())


def quality(seed: int = 0) -> None:
    train, test = cifar_features("train"), cifar_features("test", per_class=300)
    cf, _, originals = copy_features(2000)
    feats = np.concatenate([train["features"], cf])
    truth = np.concatenate([train["labels"], train["labels"][originals]])
    is_copy = np.r_[np.zeros(len(train["labels"]), bool), np.ones(len(cf), bool)]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(feats))
    feats, truth, is_copy = feats[perm], truth[perm], is_copy[perm]
    pca = PCA(128, random_state=seed).fit(feats)
    x, tx = _unit(pca.transform(feats)), _unit(pca.transform(test["features"]))
    ty = test["labels"]
    n = len(x)
    print(f"stream {n:,} (2,000 near-copies), PCA-128; test {len(ty):,} clean images")
    print(f"all {n:,} with clean labels: probe {probe_accuracy(x, truth, tx, ty):.3f}")
    rows = []
    for noise in (0.2, 0.4):
        r = np.random.default_rng([seed, int(noise * 100)])
        flip = r.random(n) < noise
        labels = truth.copy()
        labels[flip] = (truth[flip] + r.integers(1, 10, flip.sum())) % 10
        print(f"\nnoise {noise:.0%}: all {n:,} noisy: probe {probe_accuracy(x, labels, tx, ty):.3f}")
        for frac in (0.3, 0.5):
            keep = int(frac * n)
            res: dict[str, float] = {}
            pick = r.permutation(n)[:keep]
            res["random"] = probe_accuracy(x[pick], labels[pick], tx, ty)
            pick = semdedup(x, keep, seed=seed)
            res["SemDeDup"] = probe_accuracy(x[pick], labels[pick], tx, ty)
            for name, cfg in (
                ("exact kNN gain", dict(index="flat", correction="none")),
                ("InfoGrowth (IVF)", dict(index="ivf", exact_until=2000, nlist=64, nprobe=8)),
                ("InfoGrowth (exact)", dict(index="flat")),
                (
                    "InfoGrowth dynamic",
                    dict(index="ivf", exact_until=2000, nlist=64, nprobe=8, sampling="dynamic"),
                ),
            ):
                g = DatasetGrowth(GrowthConfig(dim=128, keep_fraction=frac, **cfg))  # type: ignore[arg-type]
                out = g.add(x, labels=labels)
                kept = np.flatnonzero(out.kept)
                if cfg.get("sampling") == "dynamic":
                    kept = kept[g.epoch_sample(1)]
                res[name] = probe_accuracy(x[kept], out.label[kept], tx, ty)
                if name == "InfoGrowth (IVF)":
                    flagged = np.isin(out.decision, (Decision.NOISE, Decision.RELABELLED))
                    fixed = out.decision == Decision.RELABELLED
                    print(
                        f"  keep {frac:.0%} cleaner: noise recall {(flagged & flip).sum() / flip.sum():.3f}, "
                        f"precision {(flagged & flip).sum() / max(flagged.sum(), 1):.3f}; relabelled "
                        f"{fixed.sum():,} ({(out.label[fixed] == truth[fixed]).mean():.3f} right); "
                        f"label noise in kept {(out.label[kept] != truth[kept]).mean():.3f}; "
                        "copies dropped as redundant "
                        f"{(out.decision[is_copy] == Decision.REDUNDANT).mean():.3f}; "
                        f"{out.counts()}"
                    )
            rows.append((noise, frac, res))
            print("  " + ", ".join(f"{k} {v:.3f}" for k, v in res.items()))
    names = list(rows[0][2])
    print("\n| noise | kept | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for noise, frac, res in rows:
        best = max(res.values())
        cells = [f"**{res[k]:.3f}**" if res[k] == best else f"{res[k]:.3f}" for k in names]
        print(f"| {noise:.0%} | {frac:.0%} | " + " | ".join(cells) + " |")


def scale(n: int, dim: int = 128, batch: int = 10_000, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    blobs = 500
    centres = rng.normal(0, 1, (blobs, dim)).astype(np.float32) * 3
    print(f"stream {n:,} x {dim}-d, {blobs} blobs, labels = blob % 100 with 20 % flipped, 5 % near-copies")
    cfg = GrowthConfig(dim=dim, keep_fraction=0.3)
    g = DatasetGrowth(cfg)
    started = time.perf_counter()
    gen = 0.0
    counts: dict[str, int] = {}
    for s in range(0, n, batch):
        t0 = time.perf_counter()
        m = min(batch, n - s)
        which = rng.integers(0, blobs, m)
        x = centres[which] + rng.normal(0, 1, (m, dim)).astype(np.float32)
        dup = rng.random(m) < 0.05
        src = rng.integers(0, m, dup.sum())
        x[dup] = x[src] + rng.normal(0, 0.05, (dup.sum(), dim)).astype(np.float32)
        which[dup] = which[src]
        labels = which % 100
        flip = rng.random(m) < 0.2
        labels[flip] = rng.integers(0, 100, flip.sum())
        gen += time.perf_counter() - t0
        out = g.add(x, labels=labels)
        for k, v in out.counts().items():
            counts[k] = counts.get(k, 0) + v
    took = time.perf_counter() - started - gen
    print(
        f"{n:,} samples in {took:.1f} s (data generation excluded): {n / took:,.0f} samples/s; "
        f"members {g.index.ntotal:,}; peak memory {_peak_gb():.2f} GB; {counts}"
    )
    # Agreement: the IVF index's gain against the exact gain over the same members.
    q = _unit(centres[rng.integers(0, blobs, 5000)] + rng.normal(0, 1, (5000, dim)).astype(np.float32))
    members = g.index.index.reconstruct_n(0, g.index.ntotal)
    exact = faiss.IndexFlatIP(dim)
    exact.add(members)
    t0 = time.perf_counter()
    es, ei = exact.search(q, cfg.k)
    t_exact = time.perf_counter() - t0
    t0 = time.perf_counter()
    a_s, a_i = g.index.search(q, cfg.k)
    t_ann = time.perf_counter() - t0
    ge, ga = neighbourhood_gain(es), neighbourhood_gain(a_s)
    recall = np.mean([len(set(a) & set(e)) / cfg.k for a, e in zip(a_i, ei, strict=True)])
    print(
        f"ANN vs exact gain on 5,000 queries over {len(members):,} members: Pearson "
        f"{np.corrcoef(ge, ga)[0, 1]:.4f}, mean |diff| {np.abs(ge - ga).mean():.4f} "
        f"(gain mean {ge.mean():.3f}), neighbour recall@{cfg.k} {recall:.3f}; search {t_ann:.2f} s vs "
        f"exact {t_exact:.2f} s ({t_exact / t_ann:.1f}x)"
    )


def retrieval(ks: tuple[int, ...] = (50, 200)) -> None:
    from bamboo.sdk.encoders import ClassifierBridge

    test = cifar_features("test", per_class=300)
    names = [str(c) for c in test["class_names"]]
    truth = test["labels"]
    bridge = ClassifierBridge()
    pool = bridge.encode_logits(test["logits"])
    per = np.bincount(truth)
    print(f"{len(truth):,} CIFAR-10 test images, {per.min()}-{per.max()} per class (chance: about 0.10)")
    results = {}
    for variant, concepts in (
        ("name", [Concept(n, n) for n in names]),
        ("name + synonyms", [Concept(n, n, SYNONYMS.get(n, ())) for n in names]),
    ):
        found = retrieve_for_concepts(pool, concepts, encoder=bridge, k=max(ks))
        results[variant] = precision_at_k(found, truth, ks)
    cols = [f"{v} P@{k}" for v in results for k in ks]
    print("\n| concept | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for c, n in enumerate(names):
        print(
            f"| {n} | "
            + " | ".join(f"{results[v][c, j]:.2f}" for v in results for j in range(len(ks)))
            + " |"
        )
    print(
        "| **mean** | "
        + " | ".join(f"**{results[v][:, j].mean():.3f}**" for v in results for j in range(len(ks)))
        + " |"
    )
    # What the classifier sees: the ImageNet classes most often on top for each CIFAR class.
    best = test["logits"].argmax(axis=1)
    for c, n in enumerate(names):
        common = np.bincount(best[truth == c], minlength=1000).argsort()[::-1][:3]
        print(f"  {n}: top-1 ImageNet classes " + "; ".join(bridge.class_names[i] for i in common))


def main() -> None:
    from threadpoolctl import threadpool_limits

    # One thread each for BLAS and faiss: on this shared 2-core box spinning thread pools cost 3-4x.
    threadpool_limits(1)
    faiss.omp_set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--scale", action="store_true")
    parser.add_argument("--retrieval", action="store_true")
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    everything = not (args.quality or args.scale or args.retrieval)
    if args.quality or everything:
        quality()
    if args.retrieval or everything:
        retrieval()
    if args.scale or everything:
        scale(args.n)


if __name__ == "__main__":
    main()
