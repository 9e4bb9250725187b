"""Every loader on a small fixture in its official format, its malformed-file errors, and the real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io

from bamboo.graph.mapping.datasets import ClassMapper
from bamboo.graph.taxonomy.wordnet import WordNetNouns
from bamboo.loaders import MalformedFile, create_loader, find_available, list_loaders
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

# One fixture per loader, in the dataset's official format: (file name, text | MATLAB arrays | folders).
FIXTURES: dict[str, tuple[str, str | dict[str, list[Any]] | list[str]]] = {
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
    "herbarium-2021": (
        "metadata.json",
        json.dumps(
            {
                "categories": [
                    {
                        "id": 0,
                        "name": "Aa calceata (Rchb.f.) Schltr.",
                        "family": "Orchidaceae",
                        "genus": "Aa",
                        "species": "calceata",
                    },
                    {
                        "id": 1,
                        "name": "Quercus alba L.",
                        "family": "Fagaceae",
                        "genus": "Quercus",
                        "species": "alba",
                    },
                ]
            }
        ),
    ),
    "iwildcam-2020": (
        "iwildcam2020_train_annotations.json",
        json.dumps({"categories": [{"id": 0, "name": "empty"}, {"id": 2, "name": "tayassu pecari"}]}),
    ),
    "oxford-pets": (
        "list.txt",
        "#Image CLASS-ID SPECIES BREED ID\n#ID: 1:37 Class ids\n"
        "Abyssinian_100 1 1 1\nAbyssinian_101 1 1 1\namerican_bulldog_100 2 2 1\nBengal_1 3 1 2\n",
    ),
    "flowers-102": ("cat_to_name.json", json.dumps({"2": "hard-leaved pocket orchid", "1": "pink primrose"})),
    "stanford-cars": (
        "cars_meta.mat",
        {"class_names": ["AM General Hummer SUV 2000", "Acura RL Sedan 2012"]},
    ),
    "fgvc-aircraft": ("variants.txt", "707-320\n727-200\nA300B4\n"),
    "dtd": ("train1.txt", "banded/banded_0002.jpg\nblotchy/blotchy_0003.jpg\nbanded/banded_0004.jpg\n"),
    "caltech-101": ("101_ObjectCategories", ["airplanes", "accordion", "BACKGROUND_Google"]),
    "stanford-dogs": (
        "file_list.mat",
        {
            "file_list": [
                "n02085620-Chihuahua/n02085620_10074.jpg",
                "n02085782-Japanese_spaniel/a.jpg",
                "n02085620-Chihuahua/n02085620_1.jpg",
            ],
            "labels": [1, 2, 1],
        },
    ),
    "cub-200": ("classes.txt", "1 001.Black_footed_Albatross\n2 002.Laysan_Albatross\n"),
    "tsinghua-dogs": (
        "train.lst",
        ".//low-resolution/5192-n02085620-Chihuahua/n107008.jpg\n"
        ".//low-resolution/1043-n000001-Shiba_Dog/n100023.jpg\n",
    ),
    "danish-fungi-2020": (
        "DF20-train_metadata.csv",
        "image_path,class_id,scientificName,species,genus,family\n"
        "a.JPG,1,Boletus edulis Bull.,Boletus edulis,Boletus,Boletaceae\n"
        "b.JPG,0,Amanita muscaria (L.) Lam.,Amanita muscaria,Amanita,Amanitaceae\n"
        "c.JPG,1,Boletus edulis Bull.,Boletus edulis,Boletus,Boletaceae\n",
    ),
    "foodx-251": ("class_list.txt", "0 macaron\n1 beignet\n"),
    "compcars": (
        "make_model_name.mat",
        {"make_names": ["ABT", "Acura"], "model_names": ["Audi A4L", "", "Acura RL"]},
    ),
}


def write_fixture(folder: Path, name: str) -> Path:
    """Write ``name``'s fixture into ``folder`` in its official format; returns its path."""
    filename, content = FIXTURES[name]
    path = folder / filename
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, list):
        for sub in content:
            (path / sub).mkdir(parents=True)
    else:
        scipy.io.savemat(
            path,
            {k: np.array(v, dtype=object if isinstance(v[0], str) else None) for k, v in content.items()},
        )
    return path


def test_every_loader_has_a_fixture() -> None:
    assert set(FIXTURES) == set(list_loaders())


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_loader_reads_its_official_format(name: str, tmp_path: Path) -> None:
    write_fixture(tmp_path, name)
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


def test_a_scene_view_has_its_place_as_dataset_parent(tmp_path: Path) -> None:
    (tmp_path / "ClassName.txt").write_text("/a/airfield\n/c/church/outdoor\n/t/theater/indoor_procenium\n")
    classes = create_loader("sun397").load(tmp_path).classes
    assert [(c.display_name, c.parent) for c in classes] == [
        ("airfield", None),
        ("church outdoor", "church"),
        ("theater indoor procenium", "theater"),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("oxford-pets", [(0, "Abyssinian", "cat"), (1, "american_bulldog", "dog"), (2, "Bengal", "cat")]),
        ("flowers-102", [(0, "pink primrose", None), (1, "hard-leaved pocket orchid", None)]),
        ("stanford-cars", [(0, "AM General Hummer SUV 2000", None), (1, "Acura RL Sedan 2012", None)]),
        ("dtd", [(0, "banded", None), (1, "blotchy", None)]),
        ("caltech-101", [(0, "BACKGROUND_Google", None), (1, "accordion", None), (2, "airplanes", None)]),
        ("stanford-dogs", [(0, "n02085620-Chihuahua", None), (1, "n02085782-Japanese_spaniel", None)]),
        ("cub-200", [(0, "001.Black_footed_Albatross", None), (1, "002.Laysan_Albatross", None)]),
        ("tsinghua-dogs", [(0, "1043-n000001-Shiba_Dog", None), (1, "5192-n02085620-Chihuahua", None)]),
        ("danish-fungi-2020", [(0, "Amanita muscaria", "Amanita"), (1, "Boletus edulis", "Boletus")]),
        ("foodx-251", [(0, "macaron", None), (1, "beignet", None)]),
        ("compcars", [(0, "Audi A4L", None), (1, "CompCars model 2", None), (2, "Acura RL", None)]),
        ("herbarium-2021", [(0, "Aa calceata (Rchb.f.) Schltr.", "Aa"), (1, "Quercus alba L.", "Quercus")]),
    ],
)
def test_fine_grained_classes(tmp_path: Path, name: str, expected: list[tuple[int, str, str | None]]) -> None:
    write_fixture(tmp_path, name)
    ls = create_loader(name).load(tmp_path)
    assert [(c.index, c.raw_name, c.parent) for c in ls.classes] == expected


def test_evidence_fields(tmp_path: Path) -> None:
    for name in ("stanford-dogs", "tsinghua-dogs", "cub-200", "herbarium-2021"):
        write_fixture(tmp_path, name)
    dogs = create_loader("stanford-dogs").load(tmp_path)
    assert [(c.wnid, c.display_name) for c in dogs.classes] == [
        ("n02085620", "Chihuahua"),
        ("n02085782", "Japanese spaniel"),
    ]
    assert dogs.domain == ("dog.n.01",)
    thu = create_loader("tsinghua-dogs").load(tmp_path)  # its own n000001 ids are not wnids
    assert [(c.wnid, c.display_name) for c in thu.classes] == [
        (None, "Shiba Dog"),
        ("n02085620", "Chihuahua"),
    ]
    assert create_loader("cub-200").load(tmp_path).classes[0].display_name == "Black footed Albatross"
    assert create_loader("herbarium-2021").load(tmp_path).classes[1].display_name == "Quercus alba"


def test_mirror_formats(tmp_path: Path) -> None:
    """A redistributed class list (tensorflow-datasets, mmdet, ...) is read in its own format."""
    (tmp_path / "mmdet__coco_80.txt").write_text("person\nbicycle\n")
    (tmp_path / "objects365_v2_names.tsv").write_text("index\tname\n0\tPerson\n1\tSneakers\n")
    (tmp_path / "openimages_boxable_601_mid_to_name.tsv").write_text("/m/0bt9lr\tDog\n/m/01yrx\tCat\n")
    coco = create_loader("coco").load(tmp_path)
    assert [c.raw_name for c in coco.classes] == ["person", "bicycle"]
    assert coco.source == str(tmp_path / "mmdet__coco_80.txt")
    assert [c.raw_name for c in create_loader("objects365").load(tmp_path).classes] == ["Person", "Sneakers"]
    oid = create_loader("openimages-boxable").load(tmp_path)
    assert [(c.mid, c.raw_name) for c in oid.classes] == [("/m/0bt9lr", "Dog"), ("/m/01yrx", "Cat")]
    (tmp_path / "instances_val2017.json").write_text(json.dumps(COCO_JSON))  # the official file wins
    assert len(create_loader("coco").load(tmp_path).classes) == 3
    with pytest.raises(FileNotFoundError, match="no lvis_v1_val.json in"):
        create_loader("lvis").load(tmp_path)


def test_openimages_hierarchy_gives_parents_and_parts(tmp_path: Path) -> None:
    hierarchy = {
        "LabelName": "/m/0bl9f",
        "Subcategory": [
            {"LabelName": "/m/01lrl", "Subcategory": [{"LabelName": "/m/0bt9lr"}, {"LabelName": "/m/01yrx"}]},
            {"LabelName": "/m/04yx4", "Part": [{"LabelName": "/m/014sv8"}]},
        ],
    }
    (tmp_path / "bbox_labels_600_hierarchy.json").write_text(json.dumps(hierarchy))
    (tmp_path / "class-descriptions-boxable.csv").write_text(
        "/m/01lrl,Carnivore\n/m/0bt9lr,Dog\n/m/01yrx,Cat\n/m/04yx4,Man\n/m/014sv8,Human eye\n"
    )
    ls = create_loader("openimages-boxable").load(tmp_path)
    assert {c.raw_name: (c.parent, c.part_of) for c in ls.classes} == {
        "Carnivore": ("/m/0bl9f", ()),
        "Dog": ("/m/01lrl", ()),
        "Cat": ("/m/01lrl", ()),
        "Man": ("/m/0bl9f", ()),
        "Human eye": (None, ("/m/04yx4",)),
    }


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
        ("food-101", "classes.txt", "apple_pie\tx\n", 1, "one class name per line"),
        ("cifar-10", "batches.meta.txt", "\n", None, "no classes"),
        ("oxford-pets", "list.txt", "#c\nAbyssinian_1 1 1 1\nBeagle_1 2 3 1\n", 3, "species must be 1"),
        ("oxford-pets", "list.txt", "Abyssinian_1 1 1 1\nBeagle_1 1 2 1\n", 2, "class 1 is Abyssinian"),
        ("oxford-pets", "list.txt", "Abyssinian_1 2 1 1\n", None, "class ids are not 1..1"),
        ("oxford-pets", "list.txt", "Abyssinian_1 1 1\n", 1, "expected 'Image CLASS-ID"),
        ("flowers-102", "cat_to_name.json", '{"1": "a",\n "3": "b"}', None, "labels are not 1..2"),
        ("flowers-102", "cat_to_name.json", '{"1": "a",\n "2" "b"}', 2, "invalid JSON"),
        ("stanford-cars", "cars_meta.mat", "not a mat file", None, "not a readable MATLAB file"),
        ("dtd", "train1.txt", "banded/banded_1.jpg\nblotchy.jpg\n", 2, "expected 'category/image.jpg'"),
        ("cub-200", "classes.txt", "1 001.A\n3 003.C\n", 2, "out of order"),
        ("cub-200", "classes.txt", "1 001.A\n2 003.C\n", 2, "matching numbers"),
        ("tsinghua-dogs", "train.lst", "./low/5192-n02085620-Chihuahua/a.jpg\nb.jpg\n", 2, "ID-nID-Name"),
        ("danish-fungi-2020", "DF20-train_metadata.csv", "image_path,species\na.JPG,x\n", 1, "class_id"),
        (
            "danish-fungi-2020",
            "DF20-train_metadata.csv",
            "class_id,scientificName\n0,Boletus edulis\n0,Amanita muscaria\n",
            3,
            "class 0 is 'Boletus edulis'",
        ),
        ("foodx-251", "class_list.txt", "0 macaron\nbeignet\n", 2, "expected 'INDEX NAME'"),
        ("objects365", "objects365_v2_names.tsv", "index\tname\n0\tPerson\n2\tCar\n", 3, "expected '1<TAB>"),
        ("objects365", "objects365_v2_names.tsv", "0\tPerson\n", 1, "header"),
        (
            "openimages-boxable",
            "openimages_boxable_601_mid_to_name.tsv",
            "Dog\t/m/0bt9lr\n",
            1,
            "MID<TAB>name",
        ),
        ("imagenet-1k", "timm__imagenet_synsets.txt", "n02084071\ndog\n", 2, "expected a WordNet id"),
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


# Real class lists (official files, or redistributions of them) in ../shared: (dataset, classes).
REAL = {
    "caltech-101": 102, "cifar-10": 10, "cifar-100": 100, "cityscapes": 8, "coco": 80, "cub-200": 200,
    "dtd": 47, "fgvc-aircraft": 100, "flowers-102": 102, "food-101": 101, "imagenet-12k": 11821,
    "imagenet-1k": 1000, "imagenet-21k": 21843, "imagenet-22k": 21841, "inaturalist-2017": 5089,
    "inaturalist-2018": 8142, "lvis": 1203, "objects365": 365, "openimages": 19994,
    "openimages-boxable": 601, "oxford-pets": 37, "pascal-voc": 20, "places365": 365,
    "stanford-cars": 196, "sun397": 397, "v3det": 13204,
}  # fmt: skip


@pytest.mark.shared_data("labelsets")
def test_real_files_are_found_and_read(wordnet_nouns: WordNetNouns) -> None:
    found = find_available([LABELSETS])
    assert {n: len(create_loader(n).load(p).classes) for n, p in found.items()} == REAL
    mapper = ClassMapper([{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts], wordnet_nouns.edges)
    for name, path in found.items():
        ls = create_loader(name).load(path)
        methods = [mapper.map(name, c).method for c in ls.classes]
        assert len(methods) == REAL[name]  # every class is mapped or a new concept, none dropped
        assert set(methods) <= {"wnid", "synset", "lemma", "sense", "new"}


@pytest.mark.shared_data("labelsets")
def test_real_openimages_hierarchy() -> None:
    from bamboo.loaders.openimages import read_hierarchy

    h = read_hierarchy(LABELSETS / "bbox_labels_600_hierarchy.json")
    assert len(h.parents) >= 600 - 1
    assert h.parents["/m/0bt9lr"] == "/m/01lrl"  # Dog -> Carnivore
    assert h.parts["/m/014sv8"] == ["/m/02p0tk3"]  # Human eye is a Part of Human body
    assert h.parts["/m/01bqk0"] == ["/m/0199g"]  # Bicycle wheel is a Part of Bicycle


def test_a_users_csv_in_open_images_layout_keeps_its_freebase_ids(tmp_path: Path) -> None:
    """``bamboo import`` of Open Images' own ``MID,DisplayName`` file (no header, or a
    ``LabelName,DisplayName`` one) reads the names and keeps the ids, which the Wikidata step looks up;
    a row that breaks the layout, or a repeated id, is refused with its line. A ``name,description``
    CSV reads as before."""
    from bamboo.loaders.formats import parse_csv

    official = tmp_path / "oidv6-class-descriptions.csv"
    official.write_text('/m/011k07,Tortoise\n/m/0bt9lr,Dog\n/g/11bc5zw5_8,"Ford falcon (XA)"\n')
    rows = [(c.index, c.raw_name, c.mid) for c in parse_csv(official)]
    assert rows == [
        (0, "Tortoise", "/m/011k07"),
        (1, "Dog", "/m/0bt9lr"),
        (2, "Ford falcon (XA)", "/g/11bc5zw5_8"),
    ]
    headed = tmp_path / "v7.csv"
    headed.write_text("LabelName,DisplayName\n/m/0bt9lr,Dog\n")
    assert [(c.raw_name, c.mid) for c in parse_csv(headed)] == [("Dog", "/m/0bt9lr")]
    for text, line, why in (
        ("/m/0bt9lr,Dog\nCat,a cat\n", 2, "expected 'MID,DisplayName'"),
        ("/m/0bt9lr,Dog\n/m/0bt9lr,Hound\n", 2, "repeats line 1"),
        ("/m/0bt9lr,Dog\n/m/0k4j,\n", 2, "expected 'MID,DisplayName'"),
        ("/m/0bt9lr,Dog\n/m/0k4j,Cat\u202e\n", 2, "invisible formatting character"),  # a bidi override
        ("/m/0bt9lr,Dog\n/m/0k4j," + "x" * 300 + "\n", 2, "at most 200"),
        ('/m/0bt9lr,"Dog\n', 1, "not a CSV row"),  # a quoted field left open
    ):
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(MalformedFile, match=why) as caught:
            parse_csv(bad)
        assert caught.value.line == line
    # a first field not shaped like an id is a name, kept as text: it never becomes an id a query carries
    injected = tmp_path / "injected.csv"
    injected.write_text('/m/0a" } ?s ?p ?o {,Dog\n')
    (odd,) = parse_csv(injected)
    assert odd.mid is None and odd.description == "Dog"
    plain = tmp_path / "plain.csv"
    plain.write_text("name,description\nDog,a domestic canine\n")
    (dog,) = parse_csv(plain)
    assert (dog.raw_name, dog.description, dog.mid) == ("Dog", "a domestic canine", None)
