"""``bamboo sync wikidata``, ``bamboo link datasets`` and ``bamboo eval linking``."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bamboo.cli._app import app, cache_dir, state
from bamboo.cli.graph import open_store

__all__ = [
    "console",
    "eval_app",
    "eval_linking",
    "eval_mapping",
    "link_app",
    "link_datasets",
    "sync_app",
    "sync_wikidata_cmd",
]

console = Console(soft_wrap=True)
sync_app = typer.Typer(
    rich_markup_mode=None, help="Grow the label system from external sources.", no_args_is_help=True
)
eval_app = typer.Typer(
    rich_markup_mode=None, help="Measure the label system's machinery.", no_args_is_help=True
)
app.add_typer(sync_app, name="sync")
link_app = typer.Typer(
    rich_markup_mode=None, help="Place concepts that are not yet in the hierarchy.", no_args_is_help=True
)
app.add_typer(eval_app, name="eval")
app.add_typer(link_app, name="link")


def _say(message: str) -> None:
    """A progress line of a long command, printed as is."""
    console.print(message, highlight=False)


def _run_and_report(ctx: typer.Context, job: Callable[..., Any], *args: Any, **options: Any) -> None:
    """Run a long job on the store (``job(store, *args, **options)``, with the cache folder and
    progress lines), then print its report (a dataclass) as one JSON line."""
    with open_store(ctx) as store:
        report = job(store, *args, cache_dir=cache_dir(), log=_say, **options)
    console.print(json.dumps(dataclasses.asdict(report)), highlight=False)


@link_app.command("datasets")
def link_datasets(
    ctx: typer.Context,
    datasets: Annotated[
        str | None, typer.Option(help="Comma-separated datasets (default: every flagged concept).")
    ] = None,
    embed: Annotated[
        bool, typer.Option(help="Use the embedding strategy too (MiniLM on CPU: minutes for 30K names).")
    ] = True,
) -> None:
    """Re-place the new concepts import flagged for review: sure links move them, the rest are
    proposed (``bamboo review`` lists both)."""
    from bamboo.graph.mapping.pending import link_pending

    wanted = {n.strip() for n in datasets.split(",") if n.strip()} if datasets else None
    _run_and_report(ctx, link_pending, datasets=wanted, embed=embed)


@sync_app.command("wikidata")
def sync_wikidata_cmd(
    ctx: typer.Context,
    endpoint: Annotated[
        str, typer.Option(envvar="BAMBOO_WIKIDATA_ENDPOINT", help="SPARQL endpoint.")
    ] = "https://query.wikidata.org/sparql",
    root: Annotated[
        list[str] | None,
        typer.Option(help="Item(s) to walk down from (default: every WordNet-anchored item)."),
    ] = None,
    max_depth: Annotated[int, typer.Option(min=1, help="Levels of subclasses / child taxa to walk.")] = 3,
    since: Annotated[
        str | None, typer.Option(help="Only re-write known items modified since (ISO time).")
    ] = None,
    wn31_map: Annotated[
        Path | None, typer.Option(help="wn31<TAB>wn30 offset mapping (e.g. from the ILI) for P8814 ids.")
    ] = None,
    min_interval: Annotated[float, typer.Option(help="Seconds between two requests.")] = 1.0,
    state_dir: Annotated[
        Path | None, typer.Option(help="Checkpoint and audit-log folder (default: DATA_DIR/sync).")
    ] = None,
) -> None:
    """Add Wikidata items under the WordNet backbone with provenance; resumable and idempotent.

    Cron (daily at 03:17, see the README):
    ``17 3 * * * bamboo sync wikidata --root Q729 --max-depth 4 --since "$(date -d yesterday -I)"``
    """
    from bamboo.graph.wikidata.client import WikidataClient
    from bamboo.graph.wikidata.sync import read_wn31_map, sync_wikidata

    settings = state(ctx).settings()
    folder = state_dir or Path(settings.data_dir) / "sync"
    client = WikidataClient(endpoint, min_interval_s=min_interval)
    _run_and_report(
        ctx,
        sync_wikidata,
        client,
        state_dir=folder,
        roots=root or None,
        max_depth=max_depth,
        since=since,
        wn31_map=read_wn31_map(wn31_map) if wn31_map else None,
    )


@eval_app.command("linking")
def eval_linking(
    ctx: typer.Context,
    hidden: Annotated[int, typer.Option(min=1, help="Leaf synsets to hide and re-attach.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed for choosing the leaves.")] = 0,
    gold: Annotated[Path | None, typer.Option(help="A name<TAB>wnid file for evaluation (b).")] = None,
    hide_gold: Annotated[
        bool, typer.Option(help="(b): hide the gold concepts first, so only their parents count.")
    ] = False,
    out: Annotated[Path, typer.Option(help="Where to save the JSON results.")] = Path(
        "results/eval-linking.json"
    ),
    wordnet: Annotated[Path | None, typer.Option(envvar="BAMBOO_WORDNET", help="WordNet 3.0 folder.")] = None,
) -> None:
    """(a) WordNet leaf re-attachment, and (b) a gold file: Hit@1/Hit@5/Wu-Palmer per strategy."""
    from bamboo.graph.link.evaluate import evaluate_gold, evaluate_leaves, read_gold
    from bamboo.graph.taxonomy.wordnet import read_nouns

    nouns = read_nouns(wordnet, cache_dir=cache_dir())
    concepts = [{"id": c["id"], **c["props"]} for c in nouns.concepts]
    results = [evaluate_leaves(concepts, nouns.edges, n=hidden, seed=seed, cache_dir=cache_dir())]
    if gold:
        results.append(
            evaluate_gold(concepts, nouns.edges, read_gold(gold), hide=hide_gold, cache_dir=cache_dir())
        )
    for result in results:
        table = Table("strategy", "n", "Hit@1", "Hit@5", "Wu-Palmer", "coverage", title=result["evaluation"])
        for r in result["rows"]:
            table.add_row(
                r["strategy"],
                str(r["n"]),
                *("-" if r[k] is None else f"{r[k]:.3f}" for k in ("hit1", "hit5", "wu_palmer", "coverage")),
            )
        (console if console.is_terminal else Console(width=110)).print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    console.print(f"saved {out}", highlight=False)


@eval_app.command("mapping")
def eval_mapping(
    gold: Annotated[Path, typer.Argument(help="dataset<TAB>class<TAB>wnid[<TAB>exact|parent] lines.")],
    detection: Annotated[
        str, typer.Option(help="Comma-separated gold datasets whose classes are objects (detection).")
    ] = "",
    imaged: Annotated[
        Path | None, typer.Option(help="A file of wnids with images (e.g. ImageNet-1K's), one per line.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with every error).")] = False,
    wordnet: Annotated[Path | None, typer.Option(envvar="BAMBOO_WORDNET", help="WordNet 3.0 folder.")] = None,
) -> None:
    """Exact-synset accuracy, coverage and placement of name-only class mapping against a gold list:
    for ``parent`` rows (a held-out list with its known subject) the Wu-Palmer similarity of the
    placement to the gold parent and the share under it; the count left under *entity*."""
    from bamboo.graph.mapping.datasets import ClassMapper
    from bamboo.graph.mapping.evaluate import evaluate_mapping, read_gold
    from bamboo.graph.taxonomy.wordnet import (
        read_member_meronyms,
        read_modifiers,
        read_nouns,
        read_sense_index,
    )
    from bamboo.loaders.base import read_lines

    rows = read_gold(gold)  # a bad file stops here, before WordNet is read
    with_images = {f"wn:{line.strip()}" for _, line in read_lines(imaged)} if imaged else set()
    nouns = read_nouns(wordnet, cache_dir=cache_dir())
    mapper = ClassMapper(
        [{"id": c["id"], **c["props"]} for c in nouns.concepts],
        nouns.edges,
        with_images,
        read_sense_index(wordnet),
        read_member_meronyms(wordnet),
        read_modifiers(wordnet),
    )
    tasks = {name.strip(): "detection" for name in detection.split(",") if name.strip()}
    scores = evaluate_mapping(rows, mapper, tasks=tasks)
    if as_json:
        console.print(json.dumps([s.as_dict() for s in scores]), highlight=False, soft_wrap=True)
        return
    table = Table(
        "dataset", "exact rows", "accuracy", "grouped", "coverage", "review", "parent rows", "placement WuP",
        "under parent", "under entity",
    )  # fmt: skip
    for s in scores:
        table.add_row(
            s.dataset,
            str(s.exact_total),
            f"{s.accuracy:.3f}",
            f"{s.grouped_accuracy:.3f}",
            f"{s.coverage:.3f}",
            str(s.review),
            str(s.parent_total),
            f"{s.placement:.3f}" if s.parent_total else "-",
            f"{s.under_parent:.3f}" if s.parent_total else "-",
            str(s.under_entity),
        )
    (console if console.is_terminal else Console(width=110)).print(table)
