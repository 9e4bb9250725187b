"""``bamboo build|stats|concept|ancestors|descendants|snapshot|export``."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bamboo.cli._app import Wn31Map, app, cache_dir, state
from bamboo.errors import ConceptNotFound, ConfigurationError, InvariantViolation, printable
from bamboo.graph.mapping.datasets import dataset_mapper, import_label_set
from bamboo.graph.store.build import build_wordnet
from bamboo.graph.store.connection import open_driver
from bamboo.graph.store.export import export as export_contents
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.store.stats import graph_stats, under_entity
from bamboo.graph.taxonomy.invariants import check_invariants, content_hash, read_contents
from bamboo.graph.taxonomy.snapshot import write_snapshot
from bamboo.graph.taxonomy.wordnet import read_nouns
from bamboo.loaders import read_label_sets

__all__ = [
    "ancestors",
    "build",
    "concept",
    "console",
    "descendants",
    "export_cmd",
    "open_store",
    "snapshot",
    "stats",
]

console = Console(soft_wrap=True)


@contextmanager
def open_store(ctx: typer.Context) -> Iterator[GraphStore]:
    """A graph store over the settings of the running command; the driver is closed after."""
    settings = state(ctx).settings()
    driver = open_driver(settings)
    try:
        yield GraphStore(driver, settings.database)
    finally:
        driver.close()


def _names(names: str | None) -> list[str] | None:
    """``--datasets a,b`` as a list (None: every dataset found)."""
    return [n.strip() for n in names.split(",") if n.strip()] if names else None


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal and os.environ.get("BAMBOO_PROGRESS") != "1",
    )


@app.command()
def build(
    ctx: typer.Context,
    wordnet: Annotated[
        Path | None,
        typer.Option(envvar="BAMBOO_WORDNET", help="WordNet 3.0 dict folder or nltk_data folder."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=100, help="Rows per write transaction.")] = 5000,
    datasets: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated datasets to import (default: every one whose class list is found "
            "in --datasets-dir or an installed package)."
        ),
    ] = None,
    datasets_dir: Annotated[
        Path | None,
        typer.Option(envvar="BAMBOO_DATASETS_DIR", help="Folder with the datasets' official class files."),
    ] = None,
    wikidata: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            envvar="BAMBOO_WIKIDATA",
            help="A Wikidata SPARQL endpoint (https://query.wikidata.org/sparql or a copy): each list's new "
            "concepts that the offline mapping leaves under the root or the bare list domain are linked by "
            "label to items and placed through P31/P279, as `bamboo import --wikidata` does. When it "
            "cannot be reached, one line says so and the build goes on offline.",
        ),
    ] = None,
    wn31_map: Wn31Map = None,
) -> None:
    """Build the label system (WordNet 3.0 nouns, then datasets) into the graph store; safe to re-run."""
    from bamboo.cli._wikidata_step import name_linker, say_wikidata, wikidata_inputs

    wn31 = wikidata_inputs(wikidata, wn31_map)  # checked before anything is written
    label_sets = read_label_sets(
        _names(datasets), datasets_dir
    )  # parse first: a bad file stops before any write
    nouns = read_nouns(wordnet, cache_dir=cache_dir())
    with open_store(ctx) as store, _progress() as bar:
        tasks = {
            "concepts": bar.add_task("concepts", total=len(nouns.concepts)),
            "edges": bar.add_task("edges", total=len(nouns.edges)),
        }
        report = build_wordnet(
            store, nouns, batch_size=batch_size, progress=lambda stage, n, _t: bar.advance(tasks[stage], n)
        )
        console.print(
            f"WordNet: {report.concepts} concepts and {report.edges} IS_A edges in the store after "
            f"{report.seconds:.1f} s; invariants: {report.invariants.describe()}; "
            f"content hash {report.content_hash[:16]}"
        )
        if label_sets:
            mapper = dataset_mapper(store, label_sets, wordnet)
            linker, skipped = name_linker(wikidata, mapper, wn31) if wikidata else (None, "")
            if wikidata and skipped:  # the linker cannot be made: say so once, build offline
                say_wikidata(wikidata, None, skipped, False)
            for ls in label_sets:
                started = time.perf_counter()
                asked = linker.report if linker is not None else None  # a new report per lookup
                r = import_label_set(store, ls, mapper, outside=linker)
                console.print(
                    f"dataset {r.dataset}: {r.classes} classes {json.dumps(r.by_method)}, "
                    f"{r.evidence} evidence edges ({time.perf_counter() - started:.1f} s)"
                )
                if wikidata and linker is not None and linker.report is not asked:
                    say_wikidata(wikidata, linker, "", False)
                    if linker.report.skipped:  # unreachable: not asked again for every list
                        linker = None
            contents = read_contents(store)
            after = check_invariants(contents)
            new = sum(c.get("source") != "wordnet" for c in contents.concepts)
            last_resort = under_entity(contents.concepts, contents.edges)
            console.print(
                f"{len(label_sets)} datasets imported: {len(contents.concepts)} concepts and "
                f"{len(contents.edges)} IS_A edges; invariants: {after.describe()}; "
                f"content hash {content_hash(contents)[:16]}"
            )
            console.print(
                f"{new} concepts not from WordNet, {last_resort} ({last_resort / max(new, 1):.1%}) with only "
                "entity above them: nothing closer placed them; flagged for review (bamboo review list)"
            )
            if not after.ok:
                raise InvariantViolation(after.describe())


@app.command()
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts of concepts and edges, invariant results and the content hash."""
    with open_store(ctx) as store:
        result = graph_stats(store)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    table = Table(show_header=False)
    for key, value in result.to_dict().items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict) else str(value))
    console.print(table)
    if not result.invariants.ok:
        raise InvariantViolation(result.invariants.describe())


@app.command()
def concept(
    ctx: typer.Context,
    concept_id: Annotated[
        str, typer.Argument(help="Concept id (wn:n02084071), or a name that only one concept has.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one concept with its parents and children (by id, or by a name only one concept has)."""
    with open_store(ctx) as store:
        try:
            c = store.concept(concept_id)
        except ConceptNotFound as exc:
            concept_id = _resolve_name(store, concept_id, exc)
            c = store.concept(concept_id)
        parents, children = store.parents(concept_id), store.children(concept_id)
        in_datasets = store.concept_datasets(concept_id)
    doc = dataclasses.asdict(c) | {
        "parents": [dataclasses.asdict(p) for p in parents],
        "children": [dataclasses.asdict(p) for p in children],
        "datasets": [m.without_concept() for m in in_datasets],
    }
    if as_json:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    console.print(f"[bold]{c.id}[/] {c.name}  ({c.lexname}, {c.synset})", highlight=False)
    console.print(f"  lemmas: {', '.join(c.lemmas)}", highlight=False)
    console.print(f"  gloss: {c.gloss}", highlight=False)
    console.print(f"  parents: {', '.join(f'{p.id} {p.name}' for p in parents) or '-'}", highlight=False)
    console.print(
        f"  children ({len(children)}): {', '.join(p.name for p in children[:20])}", highlight=False
    )
    console.print(f"  in datasets ({len(in_datasets)}):", highlight=False)
    for d in in_datasets:
        console.print(
            f"    {d.dataset} class {d.index} {d.raw_name!r} ({d.method}, {d.confidence})",
            highlight=False,
        )


def _resolve_name(store: GraphStore, text: str, unknown: ConceptNotFound) -> str:
    """The id of the one concept named ``text``; else a clear error with the candidates."""
    found = [r for r in store.find_concepts(text, limit=50) if r["match"] == "exact"]
    if len(found) == 1:
        return str(found[0]["id"])
    if not found:
        bare = text.strip().lower().removeprefix("wn:")
        meant = unknown.suggestion or next(iter(store.concepts([f"wn:{bare}", f"wn:n{bare}"])), None)
        hint = f"; did you mean {meant!r}?" if meant else ""
        raise ConfigurationError(
            f"unknown concept id {printable(text, 200)!r}, and no concept has that name{hint} "
            "(try `bamboo search`)"
        )
    lines = "; ".join(f"{r['id']} {r['name']}: {printable(str(r['gloss'] or ''), 80)}" for r in found[:8])
    more = f" and {len(found) - 8} more" if len(found) > 8 else ""
    raise ConfigurationError(
        f"{len(found)} concepts are named {printable(text, 200)!r}, most common first: {lines}{more}; "
        "pass one id"
    )


@app.command()
def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="A name, e.g. dog or 'golden retriever'.")],
    limit: Annotated[int, typer.Option(min=1, max=200, help="Concepts to list at most.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Find concepts by name: those named so (a name or a lemma), most common sense first, then those
    whose name starts with it."""
    with open_store(ctx) as store:
        found = store.find_concepts(text, limit=limit)
    if as_json:
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return
    if not found:
        console.print(
            f"no concept is named {printable(text, 200)!r} or starts so", highlight=False, markup=False
        )
        return
    for r in found:
        console.print(
            f"{r['id']}  {r['name']}  ({r['match']}): {printable(str(r['gloss'] or ''), 120)}",
            highlight=False,
            markup=False,
        )


@app.command()
def ancestors(
    ctx: typer.Context,
    concept_id: Annotated[str, typer.Argument(help="Concept id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """All ancestors of a concept, nearest first, with their depth."""
    with open_store(ctx) as store:
        refs = store.ancestors(concept_id)
    if as_json:
        print(json.dumps([dataclasses.asdict(r) for r in refs], indent=2, ensure_ascii=False))
        return
    for r in refs:
        console.print(f"{r.depth:3d}  {r.id}  {r.name}", highlight=False)


@app.command()
def descendants(
    ctx: typer.Context,
    concept_id: Annotated[str, typer.Argument(help="Concept id.")],
    limit: Annotated[int, typer.Option(min=1, help="Page size.")] = 100,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One page of a concept's descendants in id order."""
    with open_store(ctx) as store:
        page = store.descendants(concept_id, cursor=cursor, limit=limit)
    if as_json:
        print(
            json.dumps(
                {"items": [dataclasses.asdict(r) for r in page.items], "next_cursor": page.next_cursor}
            )
        )
        return
    for r in page.items:
        console.print(f"{r.id}  {r.name}", highlight=False)
    if page.next_cursor:
        console.print(f"[dim]more: --cursor {page.next_cursor}[/]")


@app.command()
def snapshot(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Output .npz file.")] = Path("bamboo-taxonomy.npz"),
) -> None:
    """Write the offline taxonomy snapshot the SDK loads (CSR arrays, .npz)."""
    with open_store(ctx) as store:
        meta = write_snapshot(store, path)
    console.print(
        f"wrote {meta['path']}: {meta['concepts']} concepts, {meta['is_a_edges']} edges, "
        f"content hash {str(meta['content_hash'])[:16]}"
    )


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Output file (a folder for parquet).")],
    fmt: Annotated[str, typer.Option("--format", help="bamboo-json | skos | parquet")] = "bamboo-json",
) -> None:
    """Export the label system as Bamboo JSON, SKOS Turtle or Parquet."""
    with open_store(ctx) as store:
        contents = read_contents(store)
    out = export_contents(contents, fmt, path)
    console.print(f"wrote {out} ({fmt}, {len(contents.concepts)} concepts)")
