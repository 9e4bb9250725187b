"""The study's reports: how well the imagenet rectifier sorts the candidates, the markdown tables
(``table.md``) and the Fig. 6a-style figure (``fig6.png``), all from the results body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.training.study.arms import Arm
from bamboo.training.study.config import KINDS
from bamboo.training.study.pool import Candidates

__all__ = ["plot", "rectifier_quality", "summarise"]

Array = npt.NDArray[Any]


def rectifier_quality(cand: Candidates, keep: Array) -> dict[str, Any]:
    """Share of each kind of candidate the imagenet rectifier keeps, and of each class's in-distribution
    images.

    Args:
        cand: The candidates.
        keep: The rectifier's keep mask over them.

    Returns:
        ``{"kept_by_kind": {kind: share}, "in_distribution_kept_by_class": {class: share}}``.
    """
    kinds = {KINDS[k]: round(float(keep[cand.kind == k].mean()), 3) for k in range(len(KINDS))}
    valid = cand.kind == 0
    classes = {c: round(float(keep[valid & (cand.label == i)].mean()), 3) for i, c in enumerate(cand.classes)}
    return {"kept_by_kind": kinds, "in_distribution_kept_by_class": classes}


def _aggregate(body: dict[str, Any]) -> dict[Arm, dict[int, dict[str, tuple[float, float]]]]:
    """Per arm (in run order), round and measure: (mean, std) over seeds."""
    table: dict[Arm, dict[int, dict[str, list[float]]]] = {}
    for run in body["runs"]:
        per_round = table.setdefault(Arm(run["sampler"], run["rectifier"]), {})
        answers = annotated = 0.0
        for row in run["rounds"]:
            cell = per_round.setdefault(row["round"], {})
            for key in ("valid_acquired", "accepted_total", "accuracy", "valid_this_round", "annotated"):
                cell.setdefault(key, []).append(float(row[key]))
            if row.get("answers") is not None and answers >= 0:  # human answers per image so far
                answers, annotated = answers + row["answers"], annotated + row["annotated"]
                cell.setdefault("answers_per_image", []).append(answers / max(annotated, 1))
            else:
                answers = -1.0  # a round without a record: no cumulative figure from here on
            counts = np.asarray(row["labelled_per_class"], dtype=float)
            cell.setdefault("smallest_class_share", []).append(float(counts.min() / max(counts.sum(), 1)))
    return {
        arm: {
            r: {k: (float(np.mean(v)), float(np.std(v))) for k, v in cell.items()}
            for r, cell in rounds.items()
        }
        for arm, rounds in table.items()
    }


def _pm(cell: tuple[float, float], scale: float = 1.0, digits: int = 1) -> str:
    return f"{scale * cell[0]:.{digits}f} ± {scale * cell[1]:.{digits}f}"


def summarise(body: dict[str, Any]) -> str:
    """Markdown tables: per arm the round-1 and final numbers, then every round (mean ± std over seeds).

    Args:
        body: The study's results (as written to ``results.json``).

    Returns:
        The markdown text of ``table.md``.
    """
    agg = _aggregate(body)
    seeds = sorted({r["seed"] for r in body["runs"]})
    last = max(r for rounds in agg.values() for r in rounds)
    lines = [
        f"Source {body['source']}, seeds {seeds}, pool kinds {body['pool_kinds']}.",
        "",
        "| arm | valid in round 1 (S^L(1)) | valid acquired (final) | accepted (final) | smallest class share"
        " (final) | test accuracy round 1 | test accuracy (final) | human answers / image |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for arm, rounds in agg.items():
        r1, rl = rounds[1], rounds[last]
        cells = [
            _pm(r1["valid_this_round"]),
            _pm(rl["valid_acquired"]),
            _pm(rl["accepted_total"]),
            f"{100 * rl['smallest_class_share'][0]:.1f} %",
            _pm(r1["accuracy"], 100),
            _pm(rl["accuracy"], 100),
            _pm(rl["answers_per_image"], digits=2) if "answers_per_image" in rl else "-",
        ]
        lines.append(f"| {arm.name} | " + " | ".join(cells) + " |")
    quality = body.get("rectifier_quality")
    if quality:
        lines += [
            "",
            "imagenet rectifier, share kept: "
            + ", ".join(f"{k} {100 * v:.1f} %" for k, v in quality["kept_by_kind"].items())
            + "; in-distribution images kept per class: "
            + ", ".join(f"{k} {100 * v:.0f} %" for k, v in quality["in_distribution_kept_by_class"].items()),
        ]
    lines += ["", "Per round: valid acquired (cumulative) / test accuracy %, mean ± std over seeds.", ""]
    lines.append("| arm | " + " | ".join(f"round {r}" for r in range(last + 1)) + " |")
    lines.append("|---|" + "---|" * (last + 1))
    for arm, rounds in agg.items():
        cells = [
            f"{_pm(rounds[r]['valid_acquired'], digits=0)} / {_pm(rounds[r]['accuracy'], 100)}"
            for r in range(last + 1)
        ]
        lines.append(f"| {arm.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(body: dict[str, Any], path: Path) -> None:
    """Fig. 6a-style: valid images in the first active round per arm (bars), and valid images acquired
    and test accuracy per round (lines; dashed without rectification).

    Args:
        body: The study's results (as written to ``results.json``).
        path: The PNG file to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = _aggregate(body)
    samplers = list(dict.fromkeys(a.sampler for a in agg))
    colours = dict(zip(samplers, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.4))
    rects = list(dict.fromkeys(a.rectifier for a in agg))
    width = 0.8 / len(rects)
    for j, rect in enumerate(rects):
        means = [agg[Arm(s, rect)][1]["valid_this_round"][0] for s in samplers]
        stds = [agg[Arm(s, rect)][1]["valid_this_round"][1] for s in samplers]
        axes[0].bar(
            np.arange(len(samplers)) + (j - (len(rects) - 1) / 2) * width,
            means,
            width,
            yerr=stds,
            label="no rectification" if rect == "none" else f"OOD rect. ({rect})",
            color=("C7", "C2", "C1", "C4")[j % 4],
        )
    axes[0].set_xticks(np.arange(len(samplers)), samplers, rotation=20)
    axes[0].set_ylabel("valid images in round 1")
    axes[0].set_title("(a) valid images an AL batch acquires")
    axes[0].legend(fontsize=8, loc="lower right")
    for arm, rounds in agg.items():
        rs = sorted(rounds)
        style = {"none": "--", "imagenet": "-"}.get(arm.rectifier, ":")
        for ax, key, scale in ((axes[1], "valid_acquired", 1), (axes[2], "accuracy", 100)):
            m = np.array([rounds[r][key][0] for r in rs]) * scale
            s = np.array([rounds[r][key][1] for r in rs]) * scale
            ax.plot(rs, m, style, marker="o", ms=3, color=colours[arm.sampler], label=arm.name)
            ax.fill_between(rs, m - s, m + s, color=colours[arm.sampler], alpha=0.08)
    axes[1].set_title("valid images acquired")
    axes[2].set_title("test accuracy (%)")
    for ax in axes[1:]:
        ax.set_xlabel("round")
    handles, labels = axes[2].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle(
        f"{body['source']}: {len(body['config']['seeds'])} seeds, mean ± std "
        "(dashed: no rectification; solid: ImageNet top-5 rectifier; dotted: learner rectifier)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
