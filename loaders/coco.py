"""Datasets whose official annotation JSON carries a COCO-style ``categories`` list.

``{"categories": [{"id": 1, "name": "person", "supercategory": "person"}, ...]}``: COCO, LVIS
(whose categories also name their WordNet ``synset``, e.g. ``dog.n.01``), Objects365, V3Det and
the iNaturalist 2017/2018/2021 competitions (``supercategory`` plus, in 2021, the taxonomy ranks).
Class indices are the positions of the categories in ascending ``id`` order, the contiguous
labels detectors train on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bamboo.loaders.base import FileLoader, LabelSet, MalformedFile, RawClass, Task
from bamboo.loaders.registry import register_loader

__all__ = ["CocoCategoriesLoader"]


def _read_json(path: Path) -> Any:
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

    def load(self, path: Path) -> LabelSet:
        path = self.resolve(path)
        doc = _read_json(path)
        cats = doc.get("categories") if isinstance(doc, dict) else None
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
            parent = cat.get("supercategory") or cat.get("genus")
            classes.append(
                RawClass(
                    index=index,
                    raw_name=str(cat["name"]),
                    synset=cat.get("synset"),
                    parent=str(parent) if parent and parent != cat["name"] else None,
                    name=str(cat.get("common_name") or cat["name"]).replace("_", " "),
                )
            )
        return self.label_set(path, classes)


_COCO = "http://images.cocodataset.org/annotations/annotations_trainval2017.zip"
_INAT = "https://ml-inat-competition-datasets.s3.amazonaws.com/"
for _name, _file, _url, _task in (
    ("coco", "instances_val2017.json", _COCO, "detection"),
    ("lvis", "lvis_v1_val.json", "https://dl.fbaipublicfiles.com/LVIS/lvis_v1_val.json.zip", "detection"),
    ("objects365", "zhiyuan_objv2_val.json", "https://www.objects365.org/download.html", "detection"),
    ("v3det", "v3det_2023_v1_val.json", "https://v3det.openxlab.org.cn/download", "detection"),
    ("inaturalist-2017", "val2017.json", _INAT + "2017/val2017.zip", "classification"),
    ("inaturalist-2018", "val2018.json", _INAT + "2018/val2018.json.tar.gz", "classification"),
    ("inaturalist-2021", "val.json", _INAT + "2021/val.json.tar.gz", "classification"),
):
    register_loader(_name)(
        lambda n=_name, f=_file, u=_url, t=_task: CocoCategoriesLoader(  # type: ignore[misc]
            name=n, urls=(u,), filename=f, task=t
        )
    )
