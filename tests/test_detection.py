"""Detection: the labelled pool, its common-concept label space, the COCO export, and one real mmdet
training iteration on CPU through ``bamboo train det`` (mmcv with its compiled ops; CI installs it,
see DEVELOPERS.md)."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import neo4j
import numpy as np
import pytest
from PIL import Image
from skimage import data as photos

from bamboo.errors import ConfigurationError
from bamboo.graph.store.graph_store import GraphStore
from bamboo.loaders.base import MalformedFile
from bamboo.training.det import (
    Box,
    DetImage,
    det_label_space,
    read_det_pool,
    to_det_images,
    write_coco,
)
from tests.conftest import ServerInfo, run_cli

CAT, MUG, SHIP = "wn:n02121620", "wn:n03063599", "wn:n04194289"
CLASSES = [(CAT, "cat"), (MUG, "coffee mug")]


def _pool(tmp_path: Path) -> Path:
    """Two real photos (skimage) with hand-drawn boxes; the mug line leaves its size to the reader."""
    Image.fromarray(np.asarray(photos.chelsea())).save(tmp_path / "cat.jpg")
    Image.fromarray(np.asarray(photos.coffee())).save(tmp_path / "coffee.jpg")
    lines = [
        {
            "image": "cat.jpg",
            "width": 451,
            "height": 300,
            "boxes": [{"concept": CAT, "bbox": [100, 20, 250, 250]}, {"concept": SHIP, "bbox": [0, 0, 5, 5]}],
        },
        {"image": "coffee.jpg", "boxes": [{"concept": MUG, "bbox": [120, 60, 300, 250]}]},
    ]
    path = tmp_path / "pool.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return path


def test_pool_label_space_and_coco_export(tmp_path: Path) -> None:
    pool = read_det_pool(_pool(tmp_path))
    assert (pool[1].width, pool[1].height) == (600, 400)  # read from the image
    space = det_label_space(pool, names=dict(CLASSES), keep=lambda c: c != SHIP)
    assert space == CLASSES
    assert det_label_space(pool, min_boxes=2) == []
    images = to_det_images(pool, space)
    assert [len(im.boxes) for im in images] == [1, 1]  # the ship box is outside the space
    body = json.loads(write_coco(tmp_path / "train.json", images, space).read_text())
    assert [c["name"] for c in body["categories"]] == ["cat", "coffee mug"]
    assert body["annotations"][1] == {
        "id": 2,
        "image_id": 2,
        "category_id": 2,
        "bbox": [120, 60, 300, 250],
        "area": 75000,
        "iscrowd": 0,
    }
    with pytest.raises(ConfigurationError, match="outside"):
        write_coco(tmp_path / "bad.json", [DetImage("x.jpg", 10, 10, (Box(5, 5, 10, 10, 0),))], CLASSES)
    with pytest.raises(ConfigurationError, match="not in the 2-class space"):
        write_coco(tmp_path / "bad.json", [DetImage("x.jpg", 10, 10, (Box(1, 1, 2, 2, 5),))], CLASSES)
    assert not (tmp_path / "bad.json").exists()


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not a pool line"),
        ('{"image": "a.jpg"}', "not a pool line"),
        (
            '{"image": "a.jpg", "width": 9, "height": 9, "boxes": [{"concept": "x", "bbox": [1, 2]}]}',
            "x, y, w, h",
        ),
        ('{"image": "missing.jpg", "boxes": []}', "cannot read image"),
    ],
)
def test_malformed_pool_lines_name_file_and_line(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "pool.jsonl"
    path.write_text('{"image": "a.jpg", "width": 9, "height": 9, "boxes": []}\n' + line + "\n")
    with pytest.raises(MalformedFile, match=f"pool.jsonl:2: .*{problem}"):
        read_det_pool(path)
    with pytest.raises(ConfigurationError, match="does not exist"):
        read_det_pool(tmp_path / "nope.jsonl")


def test_common_concepts_come_from_the_graph(
    tmp_path: Path, server: ServerInfo, driver: neo4j.Driver, rw_database: str
) -> None:
    """By default the label space is the pool's concepts tagged common by 3 of 5 votes in the graph."""
    pool = _pool(tmp_path)
    out = tmp_path / "run"
    args = ("train", "det", str(pool), "--out", str(out), "--dry-run")
    none = run_cli(server, *args, BAMBOO_GRAPH_DATABASE=rw_database)
    assert none.returncode == 2
    assert "none is tagged common" in none.stderr
    store = GraphStore(driver, rw_database)
    at = datetime.now(UTC).isoformat()
    for tag in ("visual", "common"):
        for who in ("a1", "a2", "a3"):
            store.cast_vote(annotator=f"det-{who}", concept=CAT, tag=tag, value=True, at=at)  # type: ignore[arg-type]
    done = run_cli(server, *args, BAMBOO_GRAPH_DATABASE=rw_database)
    assert done.returncode == 0, done.stderr
    body = json.loads((out / "train.json").read_text())
    assert [(c["concept"], c["name"]) for c in body["categories"]] == [(CAT, "cat")]
    assert len(body["images"]) == 1  # the mug photo has no box in the space
    assert (out / "config.py").exists() and not list(out.glob("*.pth"))


# mmcv/mmengine warn on import and at run time about their own deprecations; not ours to fix.
@pytest.mark.filterwarnings(
    "ignore::ImportWarning", "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)
def test_one_mmdet_iteration_on_cpu(tmp_path: Path, server: ServerInfo) -> None:
    if not os.environ.get("CI"):
        pytest.importorskip("mmcv.ops", reason="mmcv with compiled ops is not installed (see DEVELOPERS.md)")
    out = tmp_path / "run"
    result = run_cli(
        server,
        "train",
        "det",
        str(_pool(tmp_path)),
        "--out",
        str(out),
        "--all-concepts",
        "--max-iters",
        "1",
        "--batch-size",
        "2",
        "--img-scale",
        "320,240",
        "--no-pretrained-backbone",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["iterations"] == 1 and summary["classes"] == 3
    assert Path(summary["checkpoint"]).name == "iter_1.pth" and Path(summary["checkpoint"]).exists()
    log = next(out.rglob("*.log")).read_text()
    assert "loss_rpn_cls" in log and "loss_bbox" in log  # a real forward/backward with the RPN and RoI losses


def test_a_dry_run_needs_no_compiled_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dry run writes the export and the config (mmengine); mmcv's compiled ops are for training."""
    from bamboo.training.det import require_mmdet

    pytest.importorskip("mmengine")
    monkeypatch.setitem(sys.modules, "mmcv.ops", None)  # as if mmcv had no compiled ops
    require_mmdet(ops=False)
    with pytest.raises(ConfigurationError, match="compiled ops"):
        require_mmdet()
