"""Fine-grained classification datasets and the pre-training sets the Bamboo paper lists.

Each loader reads the dataset's own release format:

- Oxford-IIIT Pets ``annotations/list.txt``: ``Abyssinian_100 1 1 1`` (image, class id, species 1 cat
  / 2 dog, breed id), ``#`` comments.
- Oxford Flowers-102: the release numbers classes (``imagelabels.mat``) without names; the names the
  dataset page shows are distributed as ``cat_to_name.json`` (``{"1": "pink primrose", ...}``).
- Stanford Cars ``devkit/cars_meta.mat`` (``class_names``); CompCars ``misc/make_model_name.mat``
  (``make_names``, ``model_names``; classes are models, index = model id - 1).
- FGVC-Aircraft ``data/variants.txt``, one variant per line.
- DTD ``labels/train1.txt``: ``banded/banded_0002.jpg``; classes are the sorted category folders.
- Caltech-101: the ``101_ObjectCategories`` folder, one sub-folder per class, sorted.
- Stanford Dogs ``lists/file_list.mat``: ``file_list`` ``n02085620-Chihuahua/n02085620_10074.jpg``
  with 1-based ``labels``; the folder carries the ImageNet wnid.
- CUB-200-2011 ``classes.txt``: ``1 001.Black_footed_Albatross``.
- Tsinghua Dogs ``TrainAndValList/train.lst``: ``.//low-resolution/5192-n02085620-Chihuahua/x.jpg``;
  classes are the sorted category folders, whose ``n`` + 8 digit ids are ImageNet wnids.
- Danish Fungi 2020 ``DF20-train_metadata.csv``: one row per image with ``class_id``,
  ``scientificName``, ``species``, ``genus``.
- FoodX-251 ``class_list.txt``: ``0 macaron``.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from bamboo.loaders.base import MalformedFile, RawClass, read_lines
from bamboo.loaders.file import FileLoader
from bamboo.loaders.formats import parse_names
from bamboo.loaders.registry import register_loader

__all__ = ["FineGrainedLoader", "read_mat"]

_FOLDER = re.compile(r"^(?:\d+-)?(n\d{6,8})-(.+)$")


def read_mat(path: Path, *keys: str) -> list[list[str]]:
    """String cell arrays ``keys`` from a MATLAB file (empty cells become ``""``)."""
    try:
        mat = scipy.io.loadmat(path)
    except Exception as exc:  # scipy raises ValueError, TypeError, OSError... on a damaged file
        raise MalformedFile(path, None, f"not a readable MATLAB file ({exc})") from exc
    out = []
    for key in keys:
        if key not in mat:
            raise MalformedFile(path, None, f"no {key!r} array in the file")
        out.append([_cell_text(path, key, cell) for cell in np.asarray(mat[key], dtype=object).ravel()])
    return out


def _cell_text(path: Path, key: str, cell: Any) -> str:
    values = np.asarray(cell).ravel()
    if values.size == 0:
        return ""
    if values.size != 1 or not isinstance(values[0], str):
        raise MalformedFile(path, None, f"{key!r} holds a non-string cell: {str(cell)[:60]}")
    return str(values[0]).strip()


def _indexed(path: Path, number: int, line: str) -> tuple[int, str]:
    """``INDEX NAME`` lines."""
    index, _, name = line.strip().partition(" ")
    if not index.isdigit() or not name.strip():
        raise MalformedFile(path, number, f"expected 'INDEX NAME', got {line[:80]!r}")
    return int(index), name.strip()


def _in_order(path: Path, pairs: list[tuple[int, int, str]], base: int) -> list[RawClass]:
    """Classes from (line, index, name) with indices ``base, base+1, ...`` in order."""
    classes: list[RawClass] = []
    for number, index, name in pairs:
        if index - base != len(classes):
            raise MalformedFile(
                path, number, f"class index {index} out of order (expected {len(classes) + base})"
            )
        classes.append(RawClass(index=len(classes), raw_name=name))
    return classes


def _folder_class(index: int, folder: str) -> RawClass:
    m = _FOLDER.match(folder)
    if not m:
        return RawClass(index=index, raw_name=folder, name=folder.replace("_", " "))
    wnid = m.group(1) if len(m.group(1)) == 9 else None
    return RawClass(index=index, raw_name=folder, wnid=wnid, name=m.group(2).replace("_", " "))


def parse_pets(path: Path) -> list[RawClass]:
    """Oxford-IIIT Pets classes from ``list.txt``."""
    found: dict[int, tuple[str, str]] = {}
    for number, line in read_lines(path):
        if line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 4 or not all(p.isdigit() for p in parts[1:]) or "_" not in parts[0]:
            raise MalformedFile(
                path, number, f"expected 'Image CLASS-ID SPECIES BREED-ID', got {line[:80]!r}"
            )
        breed = parts[0].rsplit("_", 1)[0]
        species = {"1": "cat", "2": "dog"}.get(parts[2])
        if species is None:
            raise MalformedFile(path, number, f"species must be 1 (cat) or 2 (dog), got {parts[2]}")
        class_id = int(parts[1])
        if found.setdefault(class_id, (breed, species)) != (breed, species):
            raise MalformedFile(path, number, f"class {class_id} is {found[class_id][0]}, not {breed}")
    ids = sorted(found)
    if ids != list(range(1, len(ids) + 1)):
        raise MalformedFile(path, None, f"class ids are not 1..{len(ids)}")
    return [
        RawClass(index=i - 1, raw_name=found[i][0], parent=found[i][1], name=found[i][0].replace("_", " "))
        for i in ids
    ]


def parse_flowers(path: Path) -> list[RawClass]:
    """Flowers-102 classes from ``cat_to_name.json``."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MalformedFile(path, exc.lineno, f"invalid JSON: {exc.msg}") from exc
    if not isinstance(doc, dict) or not all(str(k).isdigit() and isinstance(v, str) for k, v in doc.items()):
        raise MalformedFile(path, None, 'expected {"label": "name", ...} with numeric labels')
    labels = sorted(int(k) for k in doc)
    if labels != list(range(1, len(labels) + 1)):
        raise MalformedFile(path, None, f"labels are not 1..{len(labels)}")
    return [RawClass(index=i - 1, raw_name=doc[str(i)].strip()) for i in labels]


def parse_cars(path: Path) -> list[RawClass]:
    """Stanford Cars classes from ``cars_meta.mat``."""
    (names,) = read_mat(path, "class_names")
    if not all(names):
        raise MalformedFile(path, None, f"class {names.index('') + 1} has no name")
    return [RawClass(index=i, raw_name=n) for i, n in enumerate(names)]


def parse_compcars(path: Path) -> list[RawClass]:
    """CompCars model names."""
    makes, models = read_mat(path, "make_names", "model_names")
    if not any(models):
        raise MalformedFile(path, None, "no model names")
    # CompCars leaves some model ids unnamed: keep them (indices must stay) under an explicit name.
    return [RawClass(index=i, raw_name=m or f"CompCars model {i + 1}") for i, m in enumerate(models)]


def parse_dtd(path: Path) -> list[RawClass]:
    """DTD texture classes from a ``category/image.jpg`` split list."""
    folders = set()
    for number, line in read_lines(path):
        folder, sep, image = line.strip().partition("/")
        if not sep or not folder or not image or "/" in image:
            raise MalformedFile(path, number, f"expected 'category/image.jpg', got {line[:80]!r}")
        folders.add(folder)
    return [RawClass(index=i, raw_name=f) for i, f in enumerate(sorted(folders))]


def parse_caltech(path: Path) -> list[RawClass]:
    """Caltech-101 classes from the ``101_ObjectCategories`` folders."""
    if not path.is_dir():
        raise MalformedFile(path, None, "expected the 101_ObjectCategories folder (one folder per class)")
    folders = sorted(p.name for p in path.iterdir() if p.is_dir())
    return [RawClass(index=i, raw_name=f) for i, f in enumerate(folders)]


def parse_stanford_dogs(path: Path) -> list[RawClass]:
    """Stanford Dogs breeds from ``file_list.mat``."""
    files, labels = _mat_files_labels(path)
    by_label: dict[int, str] = {}
    for n, (file, label) in enumerate(zip(files, labels, strict=True)):
        folder = file.split("/")[0]
        if not _FOLDER.match(folder) or by_label.setdefault(label, folder) != folder:
            raise MalformedFile(path, None, f"file_list[{n}] {file!r} does not fit label {label}")
    if sorted(by_label) != list(range(1, len(by_label) + 1)):
        raise MalformedFile(path, None, f"labels are not 1..{len(by_label)}")
    return [_folder_class(i - 1, by_label[i]) for i in sorted(by_label)]


def _mat_files_labels(path: Path) -> tuple[list[str], list[int]]:
    (files,) = read_mat(path, "file_list")
    try:
        labels = [int(v) for v in np.asarray(scipy.io.loadmat(path)["labels"]).ravel()]
    except (KeyError, ValueError, TypeError) as exc:
        raise MalformedFile(path, None, f"no integer 'labels' array ({exc})") from exc
    if len(labels) != len(files):
        raise MalformedFile(path, None, f"{len(files)} files but {len(labels)} labels")
    return files, labels


def parse_cub(path: Path) -> list[RawClass]:
    """CUB-200 bird species from ``classes.txt``."""
    pairs = []
    for number, line in read_lines(path):
        index, name = _indexed(path, number, line)
        folder_index, dot, species = name.partition(".")
        if not dot or not folder_index.isdigit() or int(folder_index) != index or not species:
            raise MalformedFile(
                path, number, f"expected 'N NNN.Name' with matching numbers, got {line[:80]!r}"
            )
        pairs.append((number, index, name))
    classes = _in_order(path, pairs, base=1)
    return [
        RawClass(index=c.index, raw_name=c.raw_name, name=c.raw_name.partition(".")[2].replace("_", " "))
        for c in classes
    ]


def parse_tsinghua_dogs(path: Path) -> list[RawClass]:
    """Tsinghua Dogs breeds from ``train.lst``."""
    folders = set()
    for number, line in read_lines(path):
        parts = [p for p in line.strip().split("/") if p not in ("", ".")]
        if len(parts) < 2 or not _FOLDER.match(parts[-2]):
            raise MalformedFile(path, number, f"expected '.../ID-nID-Name/image.jpg', got {line[:80]!r}")
        folders.add(parts[-2])
    return [_folder_class(i, f) for i, f in enumerate(sorted(folders))]


def parse_fungi(path: Path) -> list[RawClass]:
    """Danish Fungi species from the training metadata CSV."""
    by_id: dict[int, tuple[str, str | None]] = {}
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"class_id", "scientificName"} - set(reader.fieldnames or [])
            if missing:
                raise MalformedFile(path, 1, f"missing column(s) {', '.join(sorted(missing))}")
            for row in reader:
                number = reader.line_num
                if not (row.get("class_id") or "").isdigit() or not row.get("scientificName"):
                    raise MalformedFile(path, number, f"bad class_id/scientificName: {str(row)[:80]}")
                name = (row.get("species") or row["scientificName"]).strip()
                seen = by_id.setdefault(int(row["class_id"]), (name, row.get("genus") or None))
                if seen[0] != name:
                    raise MalformedFile(path, number, f"class {row['class_id']} is {seen[0]!r}, not {name!r}")
    except UnicodeDecodeError as exc:
        raise MalformedFile(path, None, f"not UTF-8 text ({exc})") from exc
    ids = sorted(by_id)
    if ids != list(range(len(ids))):
        raise MalformedFile(path, None, f"class ids are not 0..{len(ids) - 1}")
    return [RawClass(index=i, raw_name=by_id[i][0], parent=by_id[i][1]) for i in ids]


def parse_foodx(path: Path) -> list[RawClass]:
    """FoodX-251 classes from ``class_list.txt``."""
    pairs = [(number, *_indexed(path, number, line)) for number, line in read_lines(path)]
    return _in_order(path, pairs, base=0)


@dataclass
class FineGrainedLoader(FileLoader):
    """A loader whose official format is parsed by ``parser``."""

    parser: Callable[[Path], list[RawClass]] = parse_names

    def parse(self, path: Path) -> list[RawClass]:
        """The classes, read by this dataset's parser."""
        return self.parser(path)


_VGG = "https://www.robots.ox.ac.uk/~vgg/data/"
_Parser = Callable[[Path], list[RawClass]]
_SPECS: tuple[tuple[str, str, str, _Parser, tuple[tuple[str, str], ...], tuple[str, ...]], ...] = (
    ("oxford-pets", "list.txt", _VGG + "pets/data/annotations.tar.gz", parse_pets,
     (("tfds__oxford_iiit_pet37.txt", "names"),), ("carnivore.n.01",)),
    ("flowers-102", "cat_to_name.json", _VGG + "flowers/102/", parse_flowers,
     (("tfds__oxford_flowers102.txt", "names"),), ("flower.n.01", "plant.n.02")),
    ("stanford-cars", "cars_meta.mat", "https://ai.stanford.edu/~jkrause/cars/car_devkit.tgz", parse_cars,
     (("tfds__stanford_cars196.txt", "names"),), ("car.n.01",)),
    ("fgvc-aircraft", "variants.txt",
     _VGG + "fgvc-aircraft/archives/fgvc-aircraft-2013b.tar.gz", parse_names,
     (("mmpretrain__fgvcaircraft_categories_100.txt", "names"),), ("aircraft.n.01",)),
    ("dtd", "train1.txt", _VGG + "dtd/download/dtd-r1.0.1.tar.gz", parse_dtd,
     (("tfds__dtd47.txt", "names"),), ("texture.n.04",)),
    ("caltech-101", "101_ObjectCategories", "https://data.caltech.edu/records/mzrjq-6wc02", parse_caltech,
     (("tfds__caltech101.txt", "names"),), ()),
    ("stanford-dogs", "file_list.mat", "http://vision.stanford.edu/aditya86/ImageNetDogs/lists.tar",
     parse_stanford_dogs, (), ("dog.n.01",)),
    ("cub-200", "classes.txt", "https://data.caltech.edu/records/65de6-vp158", parse_cub,
     (("mmpretrain__cub_categories_200.txt", "names"),), ("bird.n.01",)),
    ("tsinghua-dogs", "train.lst", "https://cg.cs.tsinghua.edu.cn/ThuDogs/", parse_tsinghua_dogs,
     (), ("dog.n.01",)),
    ("danish-fungi-2020", "DF20-train_metadata.csv",
     "http://ptak.felk.cvut.cz/plants/DanishFungiDataset/DF20-train_metadata_PROD.csv", parse_fungi,
     (), ("fungus.n.01",)),
    ("foodx-251", "class_list.txt", "https://github.com/karansikka1/iFood_2019", parse_foodx,
     (), ("food.n.02", "food.n.01")),
    ("compcars", "make_model_name.mat",
     "http://mmlab.ie.cuhk.edu.hk/datasets/comp_cars/", parse_compcars, (), ("car.n.01",)),
)  # fmt: skip

for _name, _file, _url, _parser, _mirrors, _domain in _SPECS:
    register_loader(_name)(
        lambda n=_name, f=_file, u=_url, p=_parser, m=_mirrors, d=_domain: FineGrainedLoader(  # type: ignore[misc]
            name=n, urls=(u,), filename=f, parser=p, mirrors=m, domain=d
        )
    )
