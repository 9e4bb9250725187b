"""``bamboo grow`` and ``bamboo retrieve``: dataset growth and concept retrieval over embedding files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.console import Console

from bamboo.cli._app import app
from bamboo.errors import ConfigurationError

if TYPE_CHECKING:
    from bamboo.sdk.growth import DatasetGrowth

__all__ = ["grow", "retrieve"]

console = Console(soft_wrap=True)


def _arrays(path: Path) -> dict[str, Any]:
    """An ``.npy`` (embeddings only) or ``.npz`` (``embeddings`` and optional columns) file."""
    if not path.exists():
        raise ConfigurationError(f"{path} does not exist")
    if path.suffix == ".npy":
        return {"embeddings": np.load(path, mmap_mode="r")}
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    if "embeddings" not in arrays:
        raise ConfigurationError(f"{path} has no 'embeddings' array (it has {', '.join(arrays) or 'none'})")
    return arrays


@app.command()
def grow(
    embeddings: Annotated[
        Path, typer.Argument(help="The stream: .npy, or .npz with embeddings[, labels, ids].")
    ],
    state: Annotated[Path, typer.Option(help="State folder; an existing one is resumed.")],
    out: Annotated[Path, typer.Option(help="Decisions file (.npz) written at the end.")],
    keep: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of the stream to keep, at most: noise and redundant samples are never kept, "
            "so less is kept when fewer clean, new ones arrive (the summary says how much and why).",
        ),
    ] = 0.5,
    sampling: Annotated[str, typer.Option(help="static or dynamic.")] = "static",
    correction: Annotated[str, typer.Option(help="filter, relabel or none.")] = "filter",
    cleaner: Annotated[
        str, typer.Option(help="Label scores from labels alone: lda (out-of-sample), lda+knn or prototype.")
    ] = "lda",
    noise_rule: Annotated[
        str, typer.Option(help="confident (per-class thresholds), margin or mixture.")
    ] = "confident",
    noise_margin: Annotated[
        float, typer.Option(help="--noise-rule margin: noise when another class leads by more.")
    ] = 0.0,
    relabel_margin: Annotated[float, typer.Option(help="Relabel when the best class leads by this.")] = 0.1,
    min_alignment: Annotated[
        float | None, typer.Option(help="Noise when the own-label score is below this.")
    ] = None,
    index: Annotated[str, typer.Option(help="ivf, hnsw or flat (exact).")] = "ivf",
    k: Annotated[int, typer.Option(min=1, help="Neighbours in the gain.")] = 4,
    duplicate: Annotated[float, typer.Option(help="Cosine at which a sample is redundant.")] = 0.95,
    batch: Annotated[int, typer.Option(min=1, help="Samples per add() call.")] = 10_000,
    checkpoint_every: Annotated[int, typer.Option(min=1, help="Batches between saved states.")] = 10,
) -> None:
    """Grow a dataset from an embedding stream (InfoGrowth), resumably.

    Each batch's decisions go to ``<out>.parts/`` before the state is saved, so a run killed at any
    point and started again with the same arguments continues from the last saved state and writes
    the same decisions.
    """
    from bamboo.sdk.growth import DatasetGrowth, GrowthConfig

    arrays = _arrays(embeddings)
    config = GrowthConfig(
        dim=int(arrays["embeddings"].shape[1]),
        keep_fraction=keep,
        sampling=sampling,
        k=k,
        duplicate_similarity=duplicate,
        correction=correction,
        cleaner=cleaner,
        noise_rule=noise_rule,
        noise_margin=noise_margin,
        relabel_margin=relabel_margin,
        min_alignment=min_alignment,
        index=index,
    )
    growth = DatasetGrowth.open(state, config, arrays.get("label_vectors"))
    parts = out.with_name(out.name + ".parts")
    _feed(growth, arrays, state, parts, batch=batch, checkpoint_every=checkpoint_every)
    decisions = _merge_parts(parts, out)
    _summarise(growth, decisions, keep, out)


def _feed(
    growth: DatasetGrowth,
    arrays: dict[str, Any],
    state: Path,
    parts: Path,
    *,
    batch: int,
    checkpoint_every: int,
) -> None:
    """Add the stream from where ``growth`` stopped, a batch at a time: each batch's decisions to
    ``parts/``, then the state to ``state`` every ``checkpoint_every`` batches and at the end."""
    from bamboo.atomic import atomic_path

    x = arrays["embeddings"]
    if growth.seen % batch and growth.seen != len(x):
        raise ConfigurationError(
            f"{state} stopped at sample {growth.seen}, not a multiple of --batch {batch}"
        )
    parts.mkdir(parents=True, exist_ok=True)
    for done, start in enumerate(range(growth.seen, len(x), batch), 1):
        end = min(len(x), start + batch)
        res = growth.add(
            np.asarray(x[start:end]),
            labels=None if "labels" not in arrays else arrays["labels"][start:end],
            ids=None if "ids" not in arrays else arrays["ids"][start:end],
        )
        with atomic_path(parts / f"{start:012d}.npz", ".part.npz") as tmp:
            np.savez(tmp, decision=res.decision, gain=res.gain, label=res.label, ids=res.ids)
        if done % checkpoint_every == 0 or end == len(x):
            growth.save(state)


def _merge_parts(parts: Path, out: Path) -> dict[str, Any]:
    """Every batch's decisions in ``parts/``, in stream order, written to ``out`` atomically."""
    from bamboo.atomic import atomic_path

    files = sorted(parts.glob("*.npz"))
    merged: dict[str, Any] = {
        f: np.concatenate([np.load(p)[f] for p in files]) for f in ("decision", "gain", "label", "ids")
    }
    with atomic_path(out, ".part.npz") as tmp:
        np.savez(tmp, **merged)
    return merged


def _summarise(growth: DatasetGrowth, decisions: dict[str, Any], keep: float, out: Path) -> None:
    """Print the run's counts as JSON, and say why when less than ``keep`` of the stream was kept."""
    from bamboo.sdk.growth import Decision

    counts = {d.name.lower(): int((decisions["decision"] == d).sum()) for d in Decision}
    kept_share = growth.kept / max(growth.seen, 1)
    console.print(
        json.dumps(
            {
                "seen": growth.seen,
                "members": growth.kept,
                "kept_share": round(kept_share, 4),
                "keep": keep,
                **counts,
                "out": str(out),
            }
        ),
        markup=False,
    )
    if kept_share < keep - 0.01:
        typer.echo(
            f"kept {kept_share:.1%} of the stream, not {keep:.0%}: {counts.get('noise', 0)} samples were "
            f"noise and {counts.get('redundant', 0)} redundant, and those are never kept",
            err=True,
        )


@app.command()
def retrieve(
    pool: Annotated[
        Path, typer.Argument(help=".npz with embeddings (image vectors in the encoder's space) and ids.")
    ],
    concepts: Annotated[Path, typer.Option(help="JSON list of {id, name, synonyms, gloss}.")],
    out: Annotated[Path, typer.Option(help="Where the retrieval JSON goes.")],
    k: Annotated[int, typer.Option(min=1, help="Images per concept.")] = 100,
    encoder: Annotated[
        str, typer.Option(help="bridge (offline MiniLM text side) or open_clip:<arch>:<weights>.")
    ] = "bridge",
    tasks: Annotated[
        Path | None, typer.Option(help="Task store to send the images to for verification.")
    ] = None,
    round_no: Annotated[int, typer.Option("--round", help="Task-store round.")] = 1,
    labelstudio: Annotated[Path | None, typer.Option(help="Write a Label Studio task file here.")] = None,
) -> None:
    """Retrieve the top-k pool images per concept with prompt ensembles, and hand them to verification."""
    from bamboo.atomic import write_text_atomic
    from bamboo.sdk.encoders import ClassifierBridge, ClipEncoder
    from bamboo.sdk.retrieve import Concept, export_to_labelstudio, retrieve_for_concepts, send_to_store
    from bamboo.sdk.tasks import TaskStore

    arrays = _arrays(pool)
    try:
        items = json.loads(concepts.read_text(encoding="utf-8"))
        wanted = [
            Concept(str(c["id"]), str(c["name"]), tuple(c.get("synonyms", ())), str(c.get("gloss", "")))
            for c in items
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(
            f"{concepts}: expected a JSON list of {{id, name, synonyms, gloss}}: {exc}"
        ) from exc
    if encoder == "bridge":
        enc: Any = ClassifierBridge()
    elif encoder.startswith("open_clip:"):  # pragma: no cover - needs CLIP weights
        _, arch, weights = encoder.split(":", 2)
        enc = ClipEncoder(arch, weights)
    else:
        raise ConfigurationError("--encoder must be 'bridge' or 'open_clip:<arch>:<weights>'")
    found = retrieve_for_concepts(arrays["embeddings"], wanted, encoder=enc, k=k, ids=arrays.get("ids"))
    body = [
        {"concept": c.id, "images": found.images(i), "scores": [round(float(s), 4) for s in found.scores[i]]}
        for i, c in enumerate(found.concepts)
    ]
    write_text_atomic(out, json.dumps(body, indent=1))
    summary: dict[str, Any] = {"concepts": len(wanted), "k": k, "out": str(out)}
    if tasks is not None:
        summary["tasks_added"] = send_to_store(found, TaskStore(tasks), round_no)
    if labelstudio is not None:
        summary["labelstudio"] = str(export_to_labelstudio(found, labelstudio))
    console.print(json.dumps(summary), markup=False)
