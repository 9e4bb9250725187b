"""Detection: COCO export and one real mmdet training iteration on CPU (mmcv with its compiled ops;
skipped with the reason when mmcv is not installed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as photos

from bamboo.errors import ConfigurationError
from bamboo.training.det import Box, DetImage, faster_rcnn_config, write_coco

CLASSES = [("wn:n02121620", "cat"), ("wn:n03063599", "coffee mug")]


def _export(tmp_path: Path) -> Path:
    images = []
    for name, pixels, box in [
        ("cat.jpg", photos.chelsea(), Box(100, 20, 250, 250, 0)),
        ("coffee.jpg", photos.coffee(), Box(120, 60, 300, 250, 1)),
    ]:
        Image.fromarray(np.asarray(pixels)).save(tmp_path / name)
        h, w = np.asarray(pixels).shape[:2]
        images.append(DetImage(name, w, h, (box,)))
    return write_coco(tmp_path / "train.json", images, CLASSES)


def test_coco_export(tmp_path: Path) -> None:
    body = json.loads(_export(tmp_path).read_text())
    assert [c["name"] for c in body["categories"]] == ["cat", "coffee mug"]
    assert body["annotations"][1] == {"id": 2, "image_id": 2, "category_id": 2, "bbox": [120, 60, 300, 250],
                                      "area": 75000, "iscrowd": 0}
    with pytest.raises(ConfigurationError, match="outside"):
        write_coco(tmp_path / "bad.json", [DetImage("x.jpg", 10, 10, (Box(5, 5, 10, 10, 0),))], CLASSES)
    with pytest.raises(ConfigurationError, match="not in the 2-class space"):
        write_coco(tmp_path / "bad.json", [DetImage("x.jpg", 10, 10, (Box(1, 1, 2, 2, 5),))], CLASSES)


# mmcv/mmengine warn on import and at run time about their own deprecations; not ours to fix.
@pytest.mark.filterwarnings("ignore::ImportWarning", "ignore::DeprecationWarning", "ignore::UserWarning",
                            "ignore::FutureWarning")
def test_one_mmdet_iteration_on_cpu(tmp_path: Path) -> None:
    pytest.importorskip("mmcv.ops", reason="mmcv with compiled ops is not installed (see DEVELOPERS.md)")
    from mmengine.config import Config
    from mmengine.runner import Runner

    ann = _export(tmp_path)
    cfg = faster_rcnn_config(
        train_json=str(ann), image_root=str(tmp_path) + "/", classes=[n for _, n in CLASSES],
        work_dir=str(tmp_path / "work"), batch_size=2, max_iters=1, img_scale=(320, 240), pretrained_backbone=False,
    )
    runner = Runner.from_cfg(Config(cfg))
    runner.train()
    assert runner.iter == 1
    assert list((tmp_path / "work").glob("iter_1.pth"))
