"""Datasets whose official annotation JSON carries a COCO-style ``categories`` list.

``{"categories": [{"id": 1, "name": "person", "supercategory": "person"}, ...]}``: COCO, LVIS
(whose categories also name their WordNet ``synset``, e.g. ``dog.n.01``), Objects365, V3Det and
the iNaturalist 2017/2018/2021 competitions (``supercategory`` plus the taxonomy ranks, kingdom to
genus, in 2018's ``categories.json`` and 2021's annotations, kept as :attr:`RawClass.lineage`).
Class indices are the positions of the categories in ascending ``id`` order, the contiguous
labels detectors train on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bamboo.loaders.base import TAXON_RANKS, MalformedFile, RawClass, Task
from bamboo.loaders.file import FileLoader
from bamboo.loaders.registry import register_loader

__all__ = ["CocoCategoriesLoader", "read_json"]


def read_json(path: Path) -> Any:
    """A JSON document; invalid JSON is a :class:`MalformedFile` naming the line."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise MalformedFile(path, exc.lineno, f"invalid JSON: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise MalformedFile(path, None, f"not UTF-8 text ({exc})") from exc


@dataclass
class CocoCategoriesLoader(FileLoader):
    """Reads the ``categories`` of a COCO-format annotation file."""

    task: Task = "detection"

    def parse(self, path: Path) -> list[RawClass]:
        """The classes of a COCO annotation file's ``categories`` (or a bare list)."""
        doc = read_json(path)
        # An annotation file, or a bare categories list (iNaturalist 2018's ``categories.json``).
        cats = doc.get("categories") if isinstance(doc, dict) else doc if isinstance(doc, list) else None
        if not isinstance(cats, list) or not cats:
            raise MalformedFile(path, None, "no 'categories' list (is this a COCO-format annotation file?)")
        for n, cat in enumerate(cats):
            if not isinstance(cat, dict) or not isinstance(cat.get("id"), int) or not cat.get("name"):
                raise MalformedFile(
                    path, None, f"categories[{n}] needs an integer 'id' and a 'name': {str(cat)[:80]}"
                )
        ids = [c["id"] for c in cats]
        if len(set(ids)) != len(ids):
            raise MalformedFile(path, None, "category ids repeat")
        classes = []
        for index, cat in enumerate(sorted(cats, key=lambda c: c["id"])):
            parent = cat.get("genus") or cat.get("supercategory")
            name = cat.get("common_name") or (
                f"{cat['genus']} {cat['species']}" if cat.get("genus") and cat.get("species") else cat["name"]
            )
            lineage = tuple(
                (rank, str(cat[rank]).strip())
                for rank in TAXON_RANKS
                if isinstance(cat.get(rank), str) and cat[rank].strip()
            )
            classes.append(
                RawClass(
                    index=index,
                    raw_name=str(cat["name"]),
                    synset=cat.get("synset"),
                    parent=str(parent) if parent and parent != cat["name"] else None,
                    name=str(name).replace("_", " "),
                    lineage=lineage,
                    description=str(cat["def"]) if isinstance(cat.get("def"), str) else None,
                )
            )
        return classes


_COCO = "http://images.cocodataset.org/annotations/annotations_trainval2017.zip"
_INAT = "https://ml-inat-competition-datasets.s3.amazonaws.com/"
_KAGGLE = "https://www.kaggle.com/competitions/"
for _name, _file, _url, _task, _mirrors, _domain in (
    ("coco", "instances_val2017.json", _COCO, "detection", (("mmdet__coco_80.txt", "names"),), ()),
    ("lvis", "lvis_v1_val.json", "https://dl.fbaipublicfiles.com/LVIS/lvis_v1_val.json.zip", "detection",
     (("mmdet__lvis_1203.txt", "names"),), ()),
    ("objects365", "zhiyuan_objv2_val.json", "https://www.objects365.org/download.html", "detection",
     (("objects365_v2_names.tsv", "index-names"), ("mmdet__objects365v2_365.txt", "names")), ()),
    ("v3det", "v3det_2023_v1_val.json", "https://v3det.openxlab.org.cn/download", "detection",
     (("category_name_13204_v3det_2023_v1.txt", "names"),), ()),
    ("inaturalist-2017", "val2017.json", _INAT + "2017/val2017.zip", "classification",
     (("tfds__inaturalist2017_5089.txt", "names"),), ("organism.n.01",)),
    ("inaturalist-2018", "val2018.json", _INAT + "2018/val2018.json.tar.gz", "classification",
     (("inaturalist2018_categories.json", "official"), ("tfds__inaturalist2018_8142.txt", "names")),
     ("organism.n.01",)),
    ("inaturalist-2021", "val.json", _INAT + "2021/val.json.tar.gz", "classification", (),
     ("organism.n.01",)),
    ("herbarium-2021", "metadata.json", _KAGGLE + "herbarium-2021-fgvc8/data", "classification", (),
     ("plant.n.02",)),
    ("iwildcam-2020", "iwildcam2020_train_annotations.json",
     "https://lilablobssc.blob.core.windows.net/wcs/iwildcam2020/iwildcam2020_train_annotations.json",
     "classification", (), ()),
):  # fmt: skip
    register_loader(_name)(
        lambda n=_name, f=_file, u=_url, t=_task, m=_mirrors, d=_domain: CocoCategoriesLoader(  # type: ignore[misc]
            name=n, urls=(u,), filename=f, task=t, mirrors=m, domain=d
        )
    )
