"""A folder of labelled photos for ``benchmarks/rectify.py --photos``: each photo's label is a WordNet id.

A photo's label is the WordNet noun id (``n`` and eight digits) that begins its file name or the name
of the folder holding it: ``n01440764_tench.JPEG`` or ``n01440764/any.jpg`` (the layout of
``github:EliSchwartz/imagenet-sample-images`` and of ImageNet-style class folders). Photos are
centre-cropped to a square and resized to ``side`` pixels once, so the benchmark's own resize to 64 or
128 px starts from the same kind of square input as for CIFAR-10. The folder stays outside the
repository (e.g. under ``~/.cache/bamboo/photos``).
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import numpy as np

__all__ = ["SUFFIXES", "label_of", "lay_out", "load_photo_folder", "read_class_ids"]

SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
_WNID = re.compile(r"^(n\d{8})(?:[_\-.]|$)")


def label_of(path: Path, root: Path) -> str | None:
    """The concept id (``wn:n########``) a photo is labelled with, or None when no name carries one."""
    for part in (path.name, *reversed(path.relative_to(root).parts[:-1])):
        m = _WNID.match(part)
        if m:
            return f"wn:{m.group(1)}"
    return None


def _square(path: Path, side: int) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        rgb = im.convert("RGB")
        w, h = rgb.size
        s = min(w, h)
        box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
        return np.asarray(rgb.crop(box).resize((side, side), Image.Resampling.BICUBIC), dtype=np.uint8)


def load_photo_folder(root: Path, side: int = 256) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(photos uint8 N x side x side x 3, labels, class concept ids)`` of a folder, in path order.

    Args:
        root: The folder; searched recursively for photos (``SUFFIXES``, any case).
        side: The side of the square each photo is centre-cropped and resized to.

    Raises:
        ValueError: When the folder holds no photo whose name carries a WordNet id.
    """
    root = Path(root)
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
        label = label_of(path, root)
        if label is not None:
            found.append((path, label))
    if not found:
        raise ValueError(
            f"no photo under {root} is labelled: name each photo or its folder by a WordNet noun id "
            "(n01440764_tench.JPEG or n01440764/photo.jpg)"
        )
    classes = sorted({label for _, label in found})
    index = {c: i for i, c in enumerate(classes)}
    images = np.stack([_square(path, side) for path, _ in found])
    labels = np.array([index[label] for _, label in found], dtype=np.int64)
    return images, labels, classes


def read_class_ids(path: Path) -> dict[str, str]:
    """``class folder -> WordNet id`` from a tab-separated table (``class``, ``n########``, anything after;
    ``#`` lines are comments)."""
    out: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, wnid, *_ = line.split("\t") + [""]
        if not _WNID.match(wnid.strip()):
            raise ValueError(f"{path}:{number}: {wnid!r} is not a WordNet noun id (n and eight digits)")
        out[name.strip()] = wnid.strip()
    return out


def lay_out(source: Path, classes: dict[str, str], dest: Path, per_class: int = 50) -> dict[str, int]:
    """Copy the first ``per_class`` photos (by file name) of each class folder under ``source`` that
    ``classes`` names to ``dest/<wnid>/<class>_<file>``; return the photos copied per class. Classes
    the table leaves out are skipped; a class it names that ``source`` lacks is an error."""
    missing = sorted(c for c in classes if not (Path(source) / c).is_dir())
    if missing:
        raise ValueError(f"{source} has no folder for {', '.join(missing[:5])}")
    counts: dict[str, int] = {}
    for name, wnid in sorted(classes.items()):
        photos = sorted(
            p for p in (Path(source) / name).iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES
        )[:per_class]
        target = Path(dest) / wnid
        target.mkdir(parents=True, exist_ok=True)
        for photo in photos:
            shutil.copyfile(photo, target / f"{name}_{photo.name}")
        counts[name] = len(photos)
    return counts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Lay a class-folder photo set out by WordNet id.")
    parser.add_argument("source", type=Path, help="folder of class folders (101_ObjectCategories)")
    parser.add_argument("table", type=Path, help="class -> WordNet id table (gold/caltech101-wnids.tsv)")
    parser.add_argument("dest", type=Path, help="where to write <wnid>/<class>_<file>")
    parser.add_argument("--per-class", type=int, default=50, help="photos per class, first by file name")
    args = parser.parse_args()
    copied = lay_out(args.source, read_class_ids(args.table), args.dest, args.per_class)
    print(f"{sum(copied.values())} photos of {len(copied)} classes under {args.dest}")
