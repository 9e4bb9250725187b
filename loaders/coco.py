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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bamboo.errors import printable
from bamboo.loaders.base import TAXON_RANKS, MalformedFile, RawClass, Task, read_text
from bamboo.loaders.file import FileLoader
from bamboo.loaders.registry import register_loader
from bamboo.loaders.validate import check_count, clean_name, clean_text

__all__ = ["CocoCategoriesLoader", "read_json"]


def read_json(path: Path) -> Any:
    """A JSON document; invalid JSON is a :class:`MalformedFile` naming the line where it can.

    Raises:
        MalformedFile: not UTF-8, not JSON, nested deeper than Python's recursion limit (about a
            thousand arrays or objects inside each other), or an integer of more digits than Python
            converts.
    """
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedFile(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise MalformedFile(
            path, None, "JSON nested too deeply (arrays or objects inside each other)"
        ) from None
    except ValueError as exc:  # e.g. an integer past int_max_str_digits
        raise MalformedFile(path, None, f"invalid JSON: {exc}") from None


def _optional_name(cat: dict[str, Any], key: str, path: Path, where: str) -> str | None:
    """A category's optional name field (``supercategory``, ``genus`` ...): absent, null or empty
    is none; anything else must be a valid name."""
    value = cat.get(key)
    if value is None or value == "":
        return None
    return clean_name(value, path, None, where=where, what=repr(key))


@dataclass
class CocoCategoriesLoader(FileLoader):
    """Reads the ``categories`` of a COCO-format annotation file."""

    task: Task = "detection"

    def parse(self, path: Path) -> list[RawClass]:
        """The classes of a COCO annotation file's ``categories`` (or a bare list); JSON has no line
        per value, so a bad category is named by its position and id (``categories[3] (id 7)``)."""
        doc = read_json(path)
        # An annotation file, or a bare categories list (iNaturalist 2018's ``categories.json``).
        cats = doc.get("categories") if isinstance(doc, dict) else doc if isinstance(doc, list) else None
        if not isinstance(cats, list) or not cats:
            raise MalformedFile(path, None, "no 'categories' list (is this a COCO-format annotation file?)")
        check_count(path, len(cats))
        found: list[tuple[int, RawClass]] = []
        seen: dict[int, int] = {}
        for n, cat in enumerate(cats):
            cid = cat.get("id") if isinstance(cat, dict) else None
            if not isinstance(cat, dict) or type(cid) is not int or "name" not in cat:
                shown = printable(repr(cat), 80) if not isinstance(cat, (dict, list)) else type(cat).__name__
                raise MalformedFile(
                    path, None, f"categories[{n}] needs an integer 'id' and a 'name': {shown}"
                )
            if cid in seen:
                raise MalformedFile(path, None, f"categories[{n}]: id {cid} repeats categories[{seen[cid]}]")
            seen[cid] = n
            where = f"categories[{n}] (id {cid})"
            raw_name = clean_name(cat["name"], path, None, where=where)
            names = {k: _optional_name(cat, k, path, where) for k in ("supercategory", "genus", "species")}
            common = _optional_name(cat, "common_name", path, where)
            lineage = tuple(
                (rank, v) for rank in TAXON_RANKS if (v := _optional_name(cat, rank, path, where))
            )
            synset = _optional_name(cat, "synset", path, where)
            description = (
                clean_text(cat["def"], path, None, where=where) if cat.get("def") is not None else None
            )
            parent = names["genus"] or names["supercategory"]
            name = common or (
                f"{names['genus']} {names['species']}" if names["genus"] and names["species"] else raw_name
            )
            raw = RawClass(
                index=0,
                raw_name=raw_name,
                synset=synset,
                parent=parent if parent and parent != raw_name else None,
                name=name.replace("_", " "),
                lineage=lineage,
                description=description,
            )
            found.append((cid, raw))
        found.sort(key=lambda pair: pair[0])
        return [replace(raw, index=index) for index, (_, raw) in enumerate(found)]


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
