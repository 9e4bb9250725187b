"""Detection (paper §6.1.1): export the labelled detection pool to COCO JSON over the common-concept
label space, and generate an mmdet 3.x Faster R-CNN R50-FPN config with the paper's schedule.

Paper schedule (48 GPUs, total batch 384): SGD momentum 0.9, weight decay 1e-4, total learning
rate 0.4 (scaled linearly to the batch here), linear warm-up from 4e-4 for one epoch, multi-step
decay x0.1 at epochs 16 and 22, 26 epochs. Training runs through mmengine's ``Runner`` (mmcv with
its compiled ops is needed; see DEVELOPERS.md for the build recipe where no wheel exists).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bamboo.atomic import write_text_atomic
from bamboo.errors import ConfigurationError, MalformedFile

__all__ = [
    "Box",
    "DetImage",
    "BoxedImage",
    "ConceptBox",
    "det_label_space",
    "require_mmdet",
    "faster_rcnn_config",
    "read_det_pool",
    "to_det_images",
    "train_det",
    "write_coco",
]


@dataclass(frozen=True)
class Box:
    """A box in pixels with its class.

    Attributes:
        x: Left edge.
        y: Top edge.
        w: Width.
        h: Height.
        label: Index into the label space.
    """

    x: float
    y: float
    w: float
    h: float
    label: int  # index into the label space


@dataclass(frozen=True)
class DetImage:
    """One detection training image with its boxes (classes as label-space indices).

    Attributes:
        path: The image file.
        width: Width in pixels.
        height: Height in pixels.
        boxes: Its boxes.
    """

    path: str
    width: int
    height: int
    boxes: tuple[Box, ...]


@dataclass(frozen=True)
class ConceptBox:
    """A box named by concept id.

    Attributes:
        concept: The concept id of the boxed object.
        bbox: ``(x, y, w, h)`` in pixels.
    """

    concept: str
    bbox: tuple[float, float, float, float]  # x, y, w, h in pixels


@dataclass(frozen=True)
class BoxedImage:
    """One labelled image of the detection pool, boxes named by concept id."""

    path: str
    width: int
    height: int
    boxes: tuple[ConceptBox, ...]


def read_det_pool(path: str | Path, image_root: str | Path | None = None) -> list[BoxedImage]:
    """The labelled detection pool: JSON lines ``{"image": path, "boxes": [{"concept": id, "bbox":
    [x, y, w, h]}], "width": w, "height": h}`` (sizes read from the image when left out; relative
    image paths resolve against ``image_root``, default the pool file's folder).

    Args:
        path: The pool file (JSON lines).
        image_root: Folder relative image paths resolve against; None for the pool file's folder.

    Returns:
        The pool's images with their boxes.

    Raises:
        ConfigurationError: the file does not exist.
        MalformedFile: a line that is not such an object (file and line named), or an unreadable image.
    """
    from PIL import Image, UnidentifiedImageError

    source = Path(path)
    if not source.is_file():
        raise ConfigurationError(f"detection pool {source} does not exist")
    root = Path(image_root) if image_root is not None else source.parent
    images: list[BoxedImage] = []
    with source.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                boxes = tuple(
                    ConceptBox(str(b["concept"]), tuple(float(v) for v in b["bbox"]))  # type: ignore[arg-type]
                    for b in row["boxes"]
                )
                image = str(row["image"])
            except (ValueError, KeyError, TypeError) as exc:
                raise MalformedFile(source, n, f"not a pool line ({type(exc).__name__}: {exc})") from None
            if any(len(b.bbox) != 4 for b in boxes):
                raise MalformedFile(source, n, "a bbox is [x, y, w, h]")
            width, height = row.get("width"), row.get("height")
            if not (isinstance(width, int) and isinstance(height, int)):
                file = Path(image) if Path(image).is_absolute() else root / image
                try:
                    with Image.open(file) as im:
                        width, height = im.size
                except (OSError, UnidentifiedImageError) as exc:
                    raise MalformedFile(source, n, f"cannot read image {file}: {exc}") from None
            images.append(BoxedImage(image, int(width), int(height), boxes))
    return images


def det_label_space(
    pool: Sequence[BoxedImage],
    *,
    names: Mapping[str, str] | None = None,
    keep: Callable[[str], bool] | None = None,
    min_boxes: int = 1,
) -> list[tuple[str, str]]:
    """The label space: the concepts with at least ``min_boxes`` boxes that ``keep`` accepts.

    Args:
        pool: The detection pool.
        names: Concept id -> display name; a concept without one is named by its id.
        keep: Which concepts may enter (e.g. concepts tagged *common*); None for all.
        min_boxes: Boxes a concept needs in the pool.

    Returns:
        ``(concept id, name)`` pairs, sorted by concept id for a stable order.

    >>> boxes = (ConceptBox("wn:b", (0, 0, 5, 5)), ConceptBox("wn:a", (1, 1, 2, 2)))
    >>> pool = [BoxedImage("a.jpg", 10, 10, boxes)]
    >>> det_label_space(pool, names={"wn:a": "cat"})
    [('wn:a', 'cat'), ('wn:b', 'wn:b')]
    """
    counts: dict[str, int] = {}
    for im in pool:
        for b in im.boxes:
            counts[b.concept] = counts.get(b.concept, 0) + 1
    kept = sorted(c for c, k in counts.items() if k >= min_boxes and (keep is None or keep(c)))
    return [(c, (names or {}).get(c, c)) for c in kept]


def to_det_images(pool: Sequence[BoxedImage], classes: Sequence[tuple[str, str]]) -> list[DetImage]:
    """Pool images with their boxes as label-space indices.

    Boxes of concepts outside the space are dropped, and images left with no box are left out.

    Args:
        pool: The detection pool.
        classes: The label space, ``(concept id, name)`` in order (:func:`det_label_space`).

    Returns:
        The training images.
    """
    index = {c: i for i, (c, _) in enumerate(classes)}
    out = []
    for im in pool:
        boxes = tuple(Box(*b.bbox, index[b.concept]) for b in im.boxes if b.concept in index)
        if boxes:
            out.append(DetImage(im.path, im.width, im.height, boxes))
    return out


def write_coco(path: str | Path, images: Sequence[DetImage], classes: Sequence[tuple[str, str]]) -> Path:
    """Write the images as COCO JSON (category id = label-space index + 1), atomically.

    Args:
        path: The JSON file to write.
        images: Training images (:func:`to_det_images`).
        classes: The label space, ``(concept id, name)`` in order.

    Returns:
        The path written.

    Raises:
        ConfigurationError: a box outside its image, with no area, or of an unknown class.
    """
    out_images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for i, im in enumerate(images, 1):
        out_images.append({"id": i, "file_name": im.path, "width": im.width, "height": im.height})
        for b in im.boxes:
            if not 0 <= b.label < len(classes):
                raise ConfigurationError(
                    f"{im.path}: class {b.label} is not in the {len(classes)}-class space"
                )
            if b.w <= 0 or b.h <= 0 or b.x < 0 or b.y < 0 or b.x + b.w > im.width or b.y + b.h > im.height:
                raise ConfigurationError(
                    f"{im.path}: box {b} is empty or outside the {im.width}x{im.height} image"
                )
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i,
                    "category_id": b.label + 1,
                    "bbox": [b.x, b.y, b.w, b.h],
                    "area": b.w * b.h,
                    "iscrowd": 0,
                }
            )
    body = {
        "images": out_images,
        "annotations": annotations,
        "categories": [{"id": j + 1, "name": name, "concept": cid} for j, (cid, name) in enumerate(classes)],
    }
    return write_text_atomic(path, json.dumps(body))


def require_mmdet(*, ops: bool = True) -> None:
    """Check that mmdet, mmengine and mmcv with its compiled ops import (call it before writing
    anything for a run). With ``ops=False`` (a dry run, which only writes the export and the
    config) mmengine alone is needed: it writes the config.

    Raises:
        ConfigurationError: When one of them is missing, with what to do.
    """
    try:
        import mmengine  # noqa: F401

        if ops:
            import mmcv.ops  # noqa: F401  (the compiled ops the detectors need)
            import mmdet  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            f"detection needs mmdet 3.3 and mmcv 2.1 with its compiled ops ({exc}); "
            "see DEVELOPERS.md or run `make detect`"
        ) from None


def train_det(cfg: Mapping[str, Any], *, run: bool = True) -> dict[str, Any]:
    """Save ``cfg`` as ``<work_dir>/config.py`` and, with ``run``, train through mmengine's Runner.

    Args:
        cfg: An mmdet config dict (:func:`faster_rcnn_config`).
        run: Train; False only writes the config.

    Returns:
        ``{"config": path, "iterations": n, "checkpoint": path or None}``.

    Raises:
        ConfigurationError: mmdet/mmcv (with its compiled ops) is not installed (for ``run``; the
            config alone needs mmengine).
    """
    require_mmdet(ops=run)
    from mmengine.config import Config

    config = Config(dict(cfg))
    work = Path(config.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    config.dump(str(work / "config.py"))
    result: dict[str, Any] = {"config": str(work / "config.py"), "iterations": 0, "checkpoint": None}
    if run:
        from mmengine.runner import Runner

        runner = Runner.from_cfg(config)
        runner.train()
        last = work / "last_checkpoint"
        result["iterations"] = runner.iter
        result["checkpoint"] = last.read_text().strip() if last.exists() else None
    return result


def faster_rcnn_config(
    *,
    train_json: str,
    image_root: str,
    classes: Sequence[str],
    work_dir: str,
    batch_size: int = 2,
    epochs: int = 26,
    milestones: tuple[int, int] = (16, 22),
    total_batch_ref: int = 384,
    lr_ref: float = 0.4,
    max_iters: int | None = None,
    img_scale: tuple[int, int] = (1333, 800),
    pretrained_backbone: bool = True,
    dist_backend: str = "nccl",
    seed: int = 0,
) -> dict[str, Any]:
    """An mmdet 3.x config dict (``mmengine.Config(cfg)``) for Faster R-CNN R50-FPN.

    The learning rate is ``lr_ref`` scaled linearly from ``total_batch_ref`` to ``batch_size``.

    Args:
        train_json: COCO JSON of the training images (:func:`write_coco`).
        image_root: Folder the JSON's image paths are relative to.
        classes: Class names in label-space order.
        work_dir: mmengine's work folder (config, logs, checkpoints).
        batch_size: Images per GPU (or process).
        epochs: Training epochs.
        milestones: Epochs at which the learning rate drops x0.1.
        total_batch_ref: The paper's total batch, for the linear scaling.
        lr_ref: The paper's learning rate at ``total_batch_ref``.
        max_iters: Switches to an iteration-based loop of that many iterations (smoke runs: one on CPU).
        img_scale: ``(width, height)`` images are resized to fit.
        pretrained_backbone: Start the ResNet-50 from ImageNet weights.
        dist_backend: ``nccl`` on GPUs, ``gloo`` on CPU.
        seed: mmengine's random seed.

    Returns:
        The config dict.
    """
    lr = lr_ref * batch_size / total_batch_ref
    loop: dict[str, Any] = (
        {"type": "IterBasedTrainLoop", "max_iters": max_iters, "val_interval": max_iters + 1}
        if max_iters
        else {"type": "EpochBasedTrainLoop", "max_epochs": epochs, "val_interval": epochs + 1}
    )
    return {
        "default_scope": "mmdet",
        "work_dir": work_dir,
        "model": _faster_rcnn_model(len(classes), pretrained_backbone),
        "train_dataloader": _train_dataloader(train_json, image_root, classes, batch_size, img_scale),
        "train_cfg": loop,
        "optim_wrapper": {
            "type": "OptimWrapper",
            "optimizer": {"type": "SGD", "lr": lr, "momentum": 0.9, "weight_decay": 1e-4},
        },
        "param_scheduler": _schedule(lr, lr_ref, epochs, milestones, max_iters),
        **_runtime(max_iters, dist_backend, seed),
    }


def _faster_rcnn_model(num_classes: int, pretrained_backbone: bool) -> dict[str, Any]:
    """The detector: ResNet-50 with FPN, the RPN and the RoI head, as mmdet's ``faster-rcnn_r50_fpn``."""
    return {
        "type": "FasterRCNN",
        "data_preprocessor": {
            "type": "DetDataPreprocessor",
            "mean": [123.675, 116.28, 103.53],
            "std": [58.395, 57.12, 57.375],
            "bgr_to_rgb": True,
            "pad_size_divisor": 32,
        },
        "backbone": {
            "type": "ResNet",
            "depth": 50,
            "num_stages": 4,
            "out_indices": (0, 1, 2, 3),
            "frozen_stages": 1,
            "norm_cfg": {"type": "BN", "requires_grad": True},
            "norm_eval": True,
            "style": "pytorch",
            "init_cfg": {"type": "Pretrained", "checkpoint": "torchvision://resnet50"}
            if pretrained_backbone
            else None,
        },
        "neck": {
            "type": "FPN",
            "in_channels": [256, 512, 1024, 2048],
            "out_channels": 256,
            "num_outs": 5,
        },
        "rpn_head": _rpn_head(),
        "roi_head": _roi_head(num_classes),
        "train_cfg": _model_train_cfg(),
        "test_cfg": _model_test_cfg(),
    }


def _rpn_head() -> dict[str, Any]:
    """The region proposal head: 3 anchor ratios at one scale per FPN level."""
    return {
        "type": "RPNHead",
        "in_channels": 256,
        "feat_channels": 256,
        "anchor_generator": {
            "type": "AnchorGenerator",
            "scales": [8],
            "ratios": [0.5, 1.0, 2.0],
            "strides": [4, 8, 16, 32, 64],
        },
        "bbox_coder": {
            "type": "DeltaXYWHBBoxCoder",
            "target_means": [0.0, 0.0, 0.0, 0.0],
            "target_stds": [1.0, 1.0, 1.0, 1.0],
        },
        "loss_cls": {"type": "CrossEntropyLoss", "use_sigmoid": True, "loss_weight": 1.0},
        "loss_bbox": {"type": "L1Loss", "loss_weight": 1.0},
    }


def _roi_head(num_classes: int) -> dict[str, Any]:
    """The box head: RoIAlign features, two shared FC layers, a class and a box per class."""
    return {
        "type": "StandardRoIHead",
        "bbox_roi_extractor": {
            "type": "SingleRoIExtractor",
            "roi_layer": {"type": "RoIAlign", "output_size": 7, "sampling_ratio": 0},
            "out_channels": 256,
            "featmap_strides": [4, 8, 16, 32],
        },
        "bbox_head": {
            "type": "Shared2FCBBoxHead",
            "in_channels": 256,
            "fc_out_channels": 1024,
            "roi_feat_size": 7,
            "num_classes": num_classes,
            "bbox_coder": {
                "type": "DeltaXYWHBBoxCoder",
                "target_means": [0.0, 0.0, 0.0, 0.0],
                "target_stds": [0.1, 0.1, 0.2, 0.2],
            },
            "reg_class_agnostic": False,
            "loss_cls": {"type": "CrossEntropyLoss", "use_sigmoid": False, "loss_weight": 1.0},
            "loss_bbox": {"type": "SmoothL1Loss", "beta": 1.0, "loss_weight": 1.0},
        },
    }


def _model_train_cfg() -> dict[str, Any]:
    """How the RPN and the RoI head pick their positive and negative samples while training."""
    return {
        "rpn": {
            "assigner": {
                "type": "MaxIoUAssigner",
                "pos_iou_thr": 0.7,
                "neg_iou_thr": 0.3,
                "min_pos_iou": 0.3,
                "match_low_quality": True,
                "ignore_iof_thr": -1,
            },
            "sampler": {
                "type": "RandomSampler",
                "num": 256,
                "pos_fraction": 0.5,
                "neg_pos_ub": -1,
                "add_gt_as_proposals": False,
            },
            "allowed_border": -1,
            "pos_weight": -1,
            "debug": False,
        },
        "rpn_proposal": {
            "nms_pre": 2000,
            "max_per_img": 1000,
            "nms": {"type": "nms", "iou_threshold": 0.7},
            "min_bbox_size": 0,
        },
        "rcnn": {
            "assigner": {
                "type": "MaxIoUAssigner",
                "pos_iou_thr": 0.5,
                "neg_iou_thr": 0.5,
                "min_pos_iou": 0.5,
                "match_low_quality": False,
                "ignore_iof_thr": -1,
            },
            "sampler": {
                "type": "RandomSampler",
                "num": 512,
                "pos_fraction": 0.25,
                "neg_pos_ub": -1,
                "add_gt_as_proposals": True,
            },
            "pos_weight": -1,
            "debug": False,
        },
    }


def _model_test_cfg() -> dict[str, Any]:
    """Proposals and detections kept at test time."""
    return {
        "rpn": {
            "nms_pre": 1000,
            "max_per_img": 1000,
            "nms": {"type": "nms", "iou_threshold": 0.7},
            "min_bbox_size": 0,
        },
        "rcnn": {"score_thr": 0.05, "nms": {"type": "nms", "iou_threshold": 0.5}, "max_per_img": 100},
    }


def _train_dataloader(
    train_json: str, image_root: str, classes: Sequence[str], batch_size: int, img_scale: tuple[int, int]
) -> dict[str, Any]:
    """The COCO-format training data, resized to fit ``img_scale`` and flipped at random."""
    pipeline = [
        {"type": "LoadImageFromFile"},
        {"type": "LoadAnnotations", "with_bbox": True},
        {"type": "Resize", "scale": img_scale, "keep_ratio": True},
        {"type": "RandomFlip", "prob": 0.5},
        {"type": "PackDetInputs"},
    ]
    return {
        "batch_size": batch_size,
        "num_workers": 0,
        "persistent_workers": False,
        "sampler": {"type": "DefaultSampler", "shuffle": True},
        "batch_sampler": {"type": "AspectRatioBatchSampler"},
        "dataset": {
            "type": "CocoDataset",
            "data_root": "",
            "ann_file": train_json,
            "data_prefix": {"img": image_root},
            "metainfo": {"classes": tuple(classes)},
            "filter_cfg": {"filter_empty_gt": True, "min_size": 1},
            "pipeline": pipeline,
        },
    }


def _schedule(
    lr: float, lr_ref: float, epochs: int, milestones: tuple[int, int], max_iters: int | None
) -> list[dict[str, Any]]:
    """Warm-up, then the learning rate x0.1 at each milestone."""
    return [
        # linear warm-up from 4e-4 (the paper's value at its total lr 0.4) over one epoch, or
        # over the first half of a short iteration-based run
        {
            "type": "LinearLR",
            "start_factor": min(0.0004 / lr_ref, 1.0),
            "by_epoch": False,
            "begin": 0,
            "end": max(1, max_iters // 2) if max_iters else 1,
            **({} if max_iters else {"by_epoch": True, "convert_to_iter_based": True}),
        },
        {
            "type": "MultiStepLR",
            "by_epoch": not max_iters,
            "milestones": list(milestones),
            "gamma": 0.1,
            "begin": 0,
            "end": max_iters or epochs,
        },
    ]


def _runtime(max_iters: int | None, dist_backend: str, seed: int) -> dict[str, Any]:
    """Hooks (a checkpoint per epoch, or per iteration in an iteration-based run), environment, seed."""
    return {
        "default_hooks": {
            "timer": {"type": "IterTimerHook"},
            "logger": {"type": "LoggerHook", "interval": 1},
            "param_scheduler": {"type": "ParamSchedulerHook"},
            "checkpoint": {"type": "CheckpointHook", "interval": 1, "by_epoch": not max_iters},
            "sampler_seed": {"type": "DistSamplerSeedHook"},
        },
        "env_cfg": {
            "cudnn_benchmark": False,
            "mp_cfg": {"mp_start_method": "fork"},
            "dist_cfg": {"backend": dist_backend},
        },
        "randomness": {"seed": seed, "deterministic": False},
        "log_level": "INFO",
        "load_from": None,
        "resume": False,
    }
