"""The open-set study's reports: final test accuracy per arm and mismatch ratio with 95 % confidence
intervals over seeds, the paired effect of rectification, the published numbers beside them, a verdict
computed from the numbers, and the figure (accuracy against mismatch ratio)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bamboo.training.study.arms import NO_RECTIFIER, Arm

__all__ = ["PUBLISHED", "aggregate", "ci95", "plot", "summarise", "verdict"]

#: Published CIFAR-10 accuracies (%) after the 10th round by open-set noise ratio, read by eye (about
#: +/- 0.5 point) off MQ-Net's accuracy-over-rounds figure for the split setup (Park et al., NeurIPS
#: 2022; ``figures/Overall_accuracy_split.png`` in github.com/kaist-dmlab/MQNet, README "Result"):
#: 4 of 10 classes known, 10 rounds of 500, ResNet-18 from scratch. Their table's exact values were
#: not available offline.
PUBLISHED: dict[str, dict[float, float]] = {
    "random": {0.2: 89.0, 0.4: 87.6, 0.6: 85.6},
    "uncertainty (CONF)": {0.2: 91.8, 0.4: 89.0, 0.6: 85.5},
    "coreset": {0.2: 90.5, 0.4: 89.0, 0.6: 85.5},
    "CCAL": {0.2: 90.0, 0.4: 88.5, 0.6: 87.3},
    "MQ-Net": {0.2: 92.4, 0.4: 91.4, 0.6: 89.8},
}


def ci95(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % confidence interval (Student's t over the values; nan for one).

    >>> m, h = ci95([1.0, 2.0, 3.0]); round(m, 2), round(h, 2)
    (2.0, 2.48)
    """
    from scipy import stats

    a = np.asarray(values, dtype=float)
    if len(a) < 2:
        return float(a.mean()), float("nan")
    return float(a.mean()), float(stats.t.ppf(0.975, len(a) - 1) * a.std(ddof=1) / np.sqrt(len(a)))


def _final(body: dict[str, Any]) -> dict[tuple[str, float, Arm], dict[int, dict[str, float]]]:
    """(learner, ratio, arm) -> seed -> final accuracy and valid images acquired."""
    out: dict[tuple[str, float, Arm], dict[int, dict[str, float]]] = {}
    for run in body["runs"]:
        last = run["rounds"][-1]
        out.setdefault((run["learner"], run["ratio"], Arm(run["sampler"], run["rectifier"])), {})[
            run["seed"]
        ] = {
            "accuracy": 100 * last["accuracy"],
            "valid": last["valid_acquired"],
            "accepted": last["accepted_total"],
        }
    return out


def aggregate(body: dict[str, Any]) -> dict[tuple[str, float, Arm], dict[str, tuple[float, float]]]:
    """(learner, ratio, arm) -> measure -> (mean, 95 % CI half-width) over seeds."""
    return {
        key: {m: ci95([s[m] for s in seeds.values()]) for m in ("accuracy", "valid", "accepted")}
        for key, seeds in _final(body).items()
    }


def _paired(
    body: dict[str, Any], learner: str, ratio: float, arm: Arm, base: Arm
) -> tuple[float, float] | None:
    """Mean and 95 % CI of ``arm`` - ``base`` in final accuracy, paired by seed (same pool)."""
    final = _final(body)
    a, b = final.get((learner, ratio, arm)), final.get((learner, ratio, base))
    if not a or not b:
        return None
    seeds = sorted(set(a) & set(b))
    return ci95([a[s]["accuracy"] - b[s]["accuracy"] for s in seeds]) if seeds else None


def _pm(cell: tuple[float, float], digits: int = 1) -> str:
    return f"{cell[0]:.{digits}f} ± {cell[1]:.{digits}f}" if np.isfinite(cell[1]) else f"{cell[0]:.{digits}f}"


def _layout(body: dict[str, Any]) -> tuple[list[str], list[float], list[Arm]]:
    learners = list(dict.fromkeys(r["learner"] for r in body["runs"]))
    ratios = sorted({r["ratio"] for r in body["runs"]})
    arms_ = list(dict.fromkeys(Arm(r["sampler"], r["rectifier"]) for r in body["runs"]))
    return learners, ratios, arms_


def verdict(body: dict[str, Any]) -> str:
    """One paragraph on the paper's claim (rectification makes every AL method beat random sampling),
    computed from the paired 95 % intervals: per learner and ratio, how many samplers rectification
    helps, hurts or leaves undecided, and how many rectified AL arms beat plain random sampling."""
    learners, ratios, arms_ = _layout(body)
    rects = [r for r in dict.fromkeys(a.rectifier for a in arms_) if r != NO_RECTIFIER]
    samplers = list(dict.fromkeys(a.sampler for a in arms_))
    n_seeds = len({r["seed"] for r in body["runs"]})
    parts, holds, fails = [], 0, 0
    for learner in learners:
        for rect in rects:
            for ratio in ratios:
                up = down = beat = lose = 0
                diffs = []
                for s in samplers:
                    d = _paired(body, learner, ratio, Arm(s, rect), Arm(s))
                    if d is None:
                        continue
                    diffs.append(d[0])
                    up += d[0] - d[1] > 0
                    down += d[0] + d[1] < 0
                    if s != "random":
                        v = _paired(body, learner, ratio, Arm(s, rect), Arm("random"))
                        if v is not None:
                            beat += v[0] - v[1] > 0
                            lose += v[0] + v[1] < 0
                al = sum(1 for s in samplers if s != "random")
                holds += up == len(diffs) and beat == al
                fails += down > 0 or lose > 0
                parts.append(
                    f"{learner} learner, {rect} rectifier, {ratio:.0%} mismatch: rectification raised "
                    f"accuracy beyond the interval for {up} of {len(diffs)} samplers and lowered it for "
                    f"{down} (mean change {np.mean(diffs):+.1f} points); {beat} of {al} rectified AL "
                    f"samplers beat plain random sampling, {lose} fell below it"
                )
    cells = len(learners) * len(rects) * len(ratios)
    if cells == 0:
        return "No rectified arm was run: no verdict."
    if holds == cells:
        head = "The paper's claim holds here"
    elif fails == 0:
        head = "The paper's claim is not supported beyond the intervals here (no cell contradicts it either)"
    elif holds == 0:
        head = "The paper's claim does not hold here"
    else:
        head = "The paper's claim holds only in part here"
    return (
        f"{head}: in {holds} of {cells} settings rectification raised every sampler and made every "
        f"rectified AL sampler beat random sampling, and in {fails} some arm was significantly worse "
        f"(paired differences by seed, 95 % t-intervals over {n_seeds} seeds). " + "; ".join(parts) + "."
    )


def summarise(body: dict[str, Any]) -> str:
    """Markdown: per learner, final accuracy per arm and ratio, the paired effect of rectification, the
    rectifier's keep rates, the published numbers and the verdict."""
    agg = aggregate(body)
    learners, ratios, arms_ = _layout(body)
    seeds = sorted({r["seed"] for r in body["runs"]})
    cols = " | ".join(f"{r:.0%}" for r in ratios)
    lines = [f"Seeds {seeds}; final-round test accuracy %, mean ± 95 % CI (t) over seeds.", ""]
    for learner in learners:
        lines += [f"**{learner} learner**", "", f"| arm | {cols} |", "|---|" + "---|" * len(ratios)]
        for arm in arms_:
            cells = [
                _pm(agg[(learner, r, arm)]["accuracy"]) if (learner, r, arm) in agg else "-" for r in ratios
            ]
            lines.append(f"| {arm.name} | " + " | ".join(cells) + " |")
        lines += ["", "Rectified minus not (paired by seed), points:", "", f"| arm | {cols} |"]
        lines.append("|---|" + "---|" * len(ratios))
        for arm in arms_:
            if not arm.rectified:
                continue
            cells = []
            for r in ratios:
                d = _paired(body, learner, r, arm, Arm(arm.sampler))
                cells.append("-" if d is None else _pm(d))
            lines.append(f"| {arm.name} | " + " | ".join(cells) + " |")
        lines += ["", "Valid images acquired (final), mean ± 95 % CI:", "", f"| arm | {cols} |"]
        lines.append("|---|" + "---|" * len(ratios))
        for arm in arms_:
            cells = [
                _pm(agg[(learner, r, arm)]["valid"], 0) if (learner, r, arm) in agg else "-" for r in ratios
            ]
            lines.append(f"| {arm.name} | " + " | ".join(cells) + " |")
        lines.append("")
    for rule, q in body.get("rectifier", {}).items():
        lines.append(
            f"ImageNet rectifier ({rule}): keeps {100 * q['task_kept']:.1f} % of task images and "
            f"{100 * q['non_task_kept']:.1f} % of non-task images; task images kept per class: "
            + ", ".join(f"{c} {100 * v:.0f} %" for c, v in q["task_kept_by_class"].items())
        )
    lines += ["", "Published (CIFAR-10, round 10, read off MQ-Net's split-setup figure, ±0.5 point): "]
    lines += [
        "; ".join(
            f"{name} " + ", ".join(f"{k:.0%} {v:.1f}" for k, v in row.items())
            for name, row in PUBLISHED.items()
        )
    ]
    lines += ["", "Verdict: " + verdict(body)]
    return "\n".join(lines) + "\n"


def plot(body: dict[str, Any], path: Path) -> None:
    """Final test accuracy against mismatch ratio, one panel per learner; a colour per sampler, dashed
    without rectification, solid with it; bars are 95 % CIs over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = aggregate(body)
    learners, ratios, arms_ = _layout(body)
    samplers = list(dict.fromkeys(a.sampler for a in arms_))
    colours = dict(zip(samplers, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    fig, axes = plt.subplots(1, len(learners), figsize=(max(8, 6 * len(learners)), 5.6), squeeze=False)
    for ax, learner in zip(axes[0], learners, strict=True):
        for j, arm in enumerate(arms_):
            pts = [(r, agg[(learner, r, arm)]["accuracy"]) for r in ratios if (learner, r, arm) in agg]
            if not pts:
                continue
            x = np.array([100 * r for r, _ in pts]) + (j - len(arms_) / 2) * 0.25
            m = np.array([c[0] for _, c in pts])
            h = np.nan_to_num(np.array([c[1] for _, c in pts]))
            style = {"none": "--", "imagenet": "-"}.get(arm.rectifier, ":")
            ax.errorbar(
                x,
                m,
                yerr=h,
                fmt=style,
                marker="o",
                ms=3,
                capsize=2,
                color=colours[arm.sampler],
                label=arm.name,
            )
        ax.set_xlabel("mismatch ratio (%)")
        ax.set_ylabel("final test accuracy (%)")
        ax.set_title(f"{learner} learner")
        ax.set_xticks([100 * r for r in ratios])
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    fig.suptitle(
        "Open-set crawl: dashed no rectification, solid ImageNet per-query rectifier; 95 % CI", fontsize=9
    )
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    fig.savefig(path, dpi=80)
    plt.close(fig)
