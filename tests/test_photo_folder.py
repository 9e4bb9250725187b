"""The photo-folder adapter of ``benchmarks/rectify.py --photos``, on real photos from ``skimage.data``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from _photo_folder import label_of, lay_out, load_photo_folder, read_class_ids  # noqa: E402

skdata = pytest.importorskip("skimage.data")


def test_labels_from_file_or_folder_names_and_square_crops(tmp_path: Path) -> None:
    Image.fromarray(skdata.chelsea()).save(tmp_path / "n02123045_tabby.png")  # 300 x 451, a cat
    (tmp_path / "n07920052").mkdir()
    Image.fromarray(skdata.coffee()).save(tmp_path / "n07920052" / "cup.jpg")  # 400 x 600, espresso
    Image.fromarray(skdata.astronaut()).save(tmp_path / "astronaut.png")  # no WordNet id: left out
    (tmp_path / "notes.txt").write_text("not a photo")

    images, labels, classes = load_photo_folder(tmp_path, side=64)

    assert classes == ["wn:n02123045", "wn:n07920052"]
    assert images.shape == (2, 64, 64, 3) and images.dtype == np.uint8
    assert labels.tolist() == [0, 1]  # path order: the tabby file sorts before the espresso folder
    # The centre crop keeps the middle of the long side: the photo is not squashed.
    cat = np.asarray(Image.fromarray(skdata.chelsea()).crop((75, 0, 375, 300)).resize((64, 64)))
    assert np.abs(images[0].astype(int) - cat.astype(int)).mean() < 8


def test_label_of_takes_the_nearest_name(tmp_path: Path) -> None:
    assert label_of(tmp_path / "n01440764" / "n01443537_goldfish.JPEG", tmp_path) == "wn:n01443537"
    assert label_of(tmp_path / "n01440764" / "x.jpg", tmp_path) == "wn:n01440764"
    assert label_of(tmp_path / "n0144076_short.jpg", tmp_path) is None


def test_a_folder_without_labels_says_how_to_name_photos(tmp_path: Path) -> None:
    Image.fromarray(skdata.chelsea()).save(tmp_path / "cat.png")
    with pytest.raises(ValueError, match="WordNet noun id"):
        load_photo_folder(tmp_path)


def test_a_class_folder_set_is_laid_out_by_wordnet_id(tmp_path: Path) -> None:
    """Caltech-101's layout (one folder per class name) through a class -> WordNet id table: the first
    photos by file name of each listed class, under their id; an unlisted class is left out."""
    source = tmp_path / "101_ObjectCategories"
    for name, photo in (
        ("cat_face", skdata.chelsea()),
        ("cup", skdata.coffee()),
        ("Faces", skdata.astronaut()),
    ):
        (source / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(photo).save(source / name / f"image_{3 - i:04d}.jpg")
    table = tmp_path / "ids.tsv"
    table.write_text("# class, id, lemma\ncat_face\tn02123045\ttabby\ncup\tn07920052\tespresso\n")

    counts = lay_out(source, read_class_ids(table), tmp_path / "out", per_class=2)

    assert counts == {"cat_face": 2, "cup": 2}
    assert sorted(p.name for p in (tmp_path / "out" / "n02123045").iterdir()) == [
        "cat_face_image_0001.jpg",
        "cat_face_image_0002.jpg",
    ]
    _, labels, classes = load_photo_folder(tmp_path / "out", side=32)
    assert classes == ["wn:n02123045", "wn:n07920052"] and labels.tolist() == [0, 0, 1, 1]
    table.write_text("cup\tcup.n.01\n")
    with pytest.raises(ValueError, match="not a WordNet noun id"):
        read_class_ids(table)
    with pytest.raises(ValueError, match="no folder for dog"):
        lay_out(source, {"dog": "n02084071"}, tmp_path / "out2")
