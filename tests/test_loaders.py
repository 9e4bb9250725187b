"""Every loader on a small fixture in its official format, its malformed-file errors, and the real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bamboo.graph.datasets import ClassMapper
from bamboo.graph.wordnet import WordNetNouns
from bamboo.loaders import MalformedFile, create_loader, list_loaders
from conftest import SHARED_DATA

LABELSETS = SHARED_DATA / "labelsets"

COCO_JSON = {
    "images": [],
    "annotations": [],
    "categories": [
        {"id": 18, "name": "dog", "supercategory": "animal"},
        {"id": 1, "name": "person", "supercategory": "person"},
        {"id": 3, "name": "car", "supercategory": "vehicle"},
    ],
}
LVIS_JSON = {
    "categories": [
        {"id": 1, "name": "aerosol_can", "synset": "aerosol.n.02", "frequency": "c"},
        {"id": 2, "name": "air_conditioner", "synset": "air_conditioner.n.01"},
    ]
}

# One fixture per loader, in the dataset's official format: (file name, text).
FIXTURES: dict[str, tuple[str, str]] = {
    "imagenet-1k": ("imagenet_synsets.txt", "n01440764\nn02084071\n"),
    "imagenet-12k": ("imagenet12k_synsets.txt", "n01440764\nn02084071\n"),
    "imagenet-21k": ("imagenet21k_goog_synsets.txt", "n00004475\nn02084071\n"),
    "imagenet-22k": ("imagenet22k_synsets.txt", "n00004475\nn02084071\n"),
    "imagenet-21k-p": ("imagenet21k_miil_synsets.txt", "n00004475\nn02084071\n"),
    "coco": ("instances_val2017.json", json.dumps(COCO_JSON)),
    "lvis": ("lvis_v1_val.json", json.dumps(LVIS_JSON)),
    "objects365": ("zhiyuan_objv2_val.json", json.dumps(COCO_JSON)),
    "v3det": ("v3det_2023_v1_val.json", json.dumps(COCO_JSON)),
    "inaturalist-2017": (
        "val2017.json",
        json.dumps({"categories": [{"id": 0, "name": "Halyomorpha halys", "supercategory": "Insecta"}]}),
    ),
    "inaturalist-2018": (
        "val2018.json",
        json.dumps({"categories": [{"id": 0, "name": "Betula lenta", "supercategory": "Plantae"}]}),
    ),
    "inaturalist-2021": (
        "val.json",
        json.dumps(
            {
                "categories": [
                    {
                        "id": 0,
                        "name": "Danaus plexippus",
                        "common_name": "Monarch",
                        "genus": "Danaus",
                        "supercategory": "Insects",
                    }
                ]
            }
        ),
    ),
    "openimages": (
        "oidv6-class-descriptions.csv",
        '/m/0bt9lr,Dog\n/m/01yrx,Cat\n/m/0100nhbf,"Sprenger\'s tulip"\n',
    ),
    "openimages-boxable": ("class-descriptions-boxable.csv", "/m/0bt9lr,Dog\n/m/01yrx,Cat\n"),
    "places365": ("categories_places365.txt", "/a/airfield 0\n/b/bakery/shop 1\n"),
    "sun397": ("ClassName.txt", "/a/abbey\n/b/bakery/shop\n"),
    "cifar-10": ("batches.meta.txt", "airplane\nautomobile\n"),
    "cifar-100": ("fine_label_names.txt", "apple\naquarium_fish\n"),
    "food-101": ("classes.txt", "apple_pie\nbaby_back_ribs\n"),
    "pascal-voc": ("voc_classes.txt", "aeroplane\nbicycle\n"),
    "cityscapes": ("cityscapes_classes.txt", "person\nrider\n"),
}


def test_every_loader_has_a_fixture() -> None:
    assert set(FIXTURES) == set(list_loaders())


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_loader_reads_its_official_format(name: str, tmp_path: Path) -> None:
    filename, text = FIXTURES[name]
    (tmp_path / filename).write_text(text, encoding="utf-8")
    loader = create_loader(name)
    assert loader.urls and all(u.startswith("http") for u in loader.urls)
    ls = loader.load(tmp_path)
    assert ls.name == name and ls.task in ("classification", "detection")
    assert [c.index for c in ls.classes] == list(range(len(ls.classes)))
    assert all(c.raw_name for c in ls.classes)


def test_coco_indices_follow_category_ids(tmp_path: Path) -> None:
    (tmp_path / "instances_val2017.json").write_text(json.dumps(COCO_JSON))
    ls = create_loader("coco").load(tmp_path)
    assert [(c.index, c.raw_name, c.parent) for c in ls.classes] == [
        (0, "person", None),
        (1, "car", "vehicle"),
        (2, "dog", "animal"),
    ]


def test_lvis_keeps_synsets(tmp_path: Path) -> None:
    (tmp_path / "lvis_v1_val.json").write_text(json.dumps(LVIS_JSON))
    assert [c.synset for c in create_loader("lvis").load(tmp_path).classes] == [
        "aerosol.n.02",
        "air_conditioner.n.01",
    ]


def test_places_display_names(tmp_path: Path) -> None:
    (tmp_path / "categories_places365.txt").write_text("/a/airfield 0\n/b/bakery/shop 1\n")
    assert [c.display_name for c in create_loader("places365").load(tmp_path).classes] == [
        "airfield",
        "bakery shop",
    ]


@pytest.mark.parametrize(
    ("name", "filename", "text", "line", "problem"),
    [
        (
            "coco",
            "instances_val2017.json",
            '{"categories": [\n{"id": 1, "name": "a"},\n{"id": 2 "name": "b"}]}',
            3,
            "invalid JSON",
        ),
        ("coco", "instances_val2017.json", '{"images": []}', None, "no 'categories'"),
        (
            "coco",
            "instances_val2017.json",
            '{"categories": [{"id": "x", "name": "a"}]}',
            None,
            "integer 'id'",
        ),
        (
            "coco",
            "instances_val2017.json",
            '{"categories": [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]}',
            None,
            "repeat",
        ),
        (
            "openimages",
            "oidv6-class-descriptions.csv",
            "/m/0bt9lr,Dog\nCat\n",
            2,
            "expected 'MID,DisplayName'",
        ),
        ("openimages", "oidv6-class-descriptions.csv", "/m/0bt9lr,Dog\n/m/0bt9lr,Dog\n", 2, "repeats"),
        ("places365", "categories_places365.txt", "/a/airfield 0\n/a/airport 5\n", 2, "out of order"),
        ("places365", "categories_places365.txt", "/a/airfield 0\nairport 1\n", 2, "not a scene path"),
        ("sun397", "ClassName.txt", "/a/abbey\n/a/airport 1\n", 2, "expected '/x/scene'"),
        ("cifar-10", "batches.meta.txt", "airplane\nairplane\n", 2, "repeats line 1"),
        ("food-101", "classes.txt", "apple_pie\tx\n", 1, "one class name per line"),
        ("cifar-10", "batches.meta.txt", "\n", None, "no classes"),
    ],
)
def test_malformed_files_name_file_and_line(
    tmp_path: Path, name: str, filename: str, text: str, line: int | None, problem: str
) -> None:
    path = tmp_path / filename
    path.write_text(text)
    with pytest.raises(MalformedFile, match=problem) as err:
        create_loader(name).load(tmp_path)
    assert err.value.path == str(path) and err.value.line == line
    assert str(err.value).startswith(str(path))


def test_binary_file_is_malformed(tmp_path: Path) -> None:
    (tmp_path / "classes.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(MalformedFile, match="UTF-8"):
        create_loader("food-101").load(tmp_path)


REAL = [
    ("places365", "categories_places365.txt", 365),
    ("sun397", "tfds__sun397.txt", 397),
    ("openimages", "oidv6-class-descriptions.csv", 19994),
    ("cifar-10", "mmpretrain__cifar10_categories_10.txt", 10),
    ("cifar-100", "mmpretrain__cifar100_categories_100.txt", 100),
    ("food-101", "tfds__food101.txt", 101),
    ("pascal-voc", "mmdet__voc_20.txt", 20),
    ("cityscapes", "mmdet__cityscapes_8.txt", 8),
]


@pytest.mark.skipif(not LABELSETS.exists(), reason="../shared/data/labelsets not present")
@pytest.mark.parametrize(("name", "filename", "count"), REAL)
def test_real_files(name: str, filename: str, count: int, wordnet_nouns: WordNetNouns) -> None:
    ls = create_loader(name).load(LABELSETS / filename)
    assert len(ls.classes) == count
    mapper = ClassMapper([{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts])
    methods = [mapper.map(name, c).method for c in ls.classes]
    assert len(methods) == count  # every class is either mapped or pending, none dropped
    assert methods.count("lemma") > 0


@pytest.mark.skipif(not LABELSETS.exists(), reason="../shared/data/labelsets not present")
def test_real_openimages_hierarchy(tmp_path: Path) -> None:
    from bamboo.loaders.openimages import read_hierarchy

    parents = read_hierarchy(LABELSETS / "bbox_labels_600_hierarchy.json")
    assert len(parents) >= 600 - 1
    assert parents["/m/0bt9lr"] == "/m/01lrl"  # Dog -> Carnivore
