"""``bamboo datasets`` (the loaders and what each dataset's classes map to) and ``bamboo import``
(a user's own class list, through the same pipeline as the registered datasets)."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table

from bamboo.cli._app import Wn31Map, app
from bamboo.cli._wikidata_step import name_linker, say_wikidata, wikidata_inputs
from bamboo.cli.graph import open_store
from bamboo.errors import ConfigurationError, printable
from bamboo.graph.mapping.datasets import ImportProgress, dataset_mapper
from bamboo.loaders import create_loader, list_loaders
from bamboo.loaders.base import LabelSet, MalformedFile, RawClass

__all__ = [
    "console",
    "datasets",
    "import_classes",
    "read_class_file",
    "review_accept",
    "review_app",
    "review_list",
    "review_move",
]

console = Console(soft_wrap=True)


@app.command()
def datasets(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List dataset loaders and imported datasets with counts: classes, by id, by name (lemma or
    sense), new concepts (WordNet lacks them; placed), and decisions flagged for review."""
    with open_store(ctx) as store:
        counts = store.dataset_method_counts()
        tasks = {d.name: d.task for d in store.datasets()}
        flagged = store.review_counts()
    rows: list[dict[str, Any]] = []
    registered = list_loaders()
    for name in [*registered, *sorted(set(counts) - set(registered))]:
        by = counts.get(name, {})
        rows.append(
            {
                "dataset": name,
                "task": create_loader(name).task if name in registered else tasks.get(name, ""),
                "imported": name in counts,
                "classes": sum(by.values()),
                "by_id": by.get("wnid", 0) + by.get("synset", 0) + by.get("mid", 0),
                "by_lemma": by.get("lemma", 0) + by.get("sense", 0),
                "new": by.get("new", 0),
                "review": flagged.get(name, 0),
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(
        Column("dataset", no_wrap=True, min_width=18),
        Column("task", no_wrap=True, min_width=14),
        *(Column(h, justify="right") for h in ("classes", "by id", "by lemma", "new", "review")),
    )
    for r in rows:
        table.add_row(
            r["dataset"],
            r["task"],
            *(str(r[k]) if r["imported"] else "-" for k in ("classes", "by_id", "by_lemma", "new", "review")),
        )
    (console if console.is_terminal else Console(width=110)).print(table)


def read_class_file(path: Path) -> list[RawClass]:
    """A user's class list: COCO-format JSON (``categories``), CSV ``name[,description]`` (an
    optional ``name`` header), or one name per line. Every format follows the same name rules
    (:mod:`bamboo.loaders.validate`) and none may be empty.

    Raises:
        MalformedFile: with the file and line (or JSON category) of the first problem.
    """
    from bamboo.loaders.coco import CocoCategoriesLoader
    from bamboo.loaders.formats import parse_csv, parse_names
    from bamboo.loaders.validate import check_size

    check_size(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        classes = CocoCategoriesLoader(name="import", urls=(), filename=path.name).parse(path)
    else:
        classes = parse_csv(path) if suffix == ".csv" else parse_names(path)
    if not classes:
        raise MalformedFile(path, None, "no classes: the file is empty or blank")
    return classes


#: Imports of at least this many classes, or from a file of at least this many bytes (an
#: annotation file whose images make it large), report their progress on stderr.
PROGRESS_FROM = (10_000, 500_000)


def _progress(file: Path, classes: int) -> ImportProgress | None:
    """Progress lines on stderr for a large import (stdout keeps the classes), else ``None``."""
    size = file.stat().st_size
    if classes < PROGRESS_FROM[0] and size < PROGRESS_FROM[1]:
        return None
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    started, shown = time.perf_counter(), printable(file.name)

    def report(stage: str, done: int, total: int) -> None:
        what = {
            "read": f"read {total} classes from {shown} ({size / 1e6:.1f} MB); loading the graph",
            "map": f"mapped {done}/{total} classes",
            "check": f"checking {total} placements",
            "write": f"writing {total} classes",
        }[stage]
        err.print(f"[{time.perf_counter() - started:5.0f} s] {what}", markup=False)

    return report


@app.command("import")
def import_classes(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The dataset's name in the label system.")],
    file: Annotated[
        Path, typer.Argument(help="Class list: one name per line, CSV name[,description], or COCO JSON.")
    ],
    task: Annotated[str, typer.Option(help="classification or detection.")] = "classification",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines, one per class.")] = False,
    wordnet: Annotated[Path | None, typer.Option(envvar="BAMBOO_WORDNET", help="WordNet 3.0 folder.")] = None,
    domain: Annotated[
        str | None,
        typer.Option(
            help="The concept every class falls under (an id such as wn:n02958343, or car.n.01); "
            "inferred from the classes the list places when not given."
        ),
    ] = None,
    wikidata: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="A Wikidata SPARQL endpoint (https://query.wikidata.org/sparql or a copy): new concepts "
            "the offline mapping leaves under the root or the bare list domain are linked by label to "
            "items and placed through P31/P279. When it cannot be reached, one line says so and the "
            "import goes on without it.",
        ),
    ] = None,
    wn31_map: Wn31Map = None,
) -> None:
    """Import your own dataset's class list: each class's concept, method, confidence and review flag."""
    from bamboo.graph.mapping.datasets import import_label_set

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise ConfigurationError(
            f"dataset names are letters, digits, '.', '_' and '-' (at most 64), not {name!r}"
        )
    if task not in ("classification", "detection"):
        raise ConfigurationError(f"--task is classification or detection, not {task!r}")
    if not file.is_file():
        raise ConfigurationError(f"{file}: no such file")
    wn31 = wikidata_inputs(wikidata, wn31_map)
    classes = read_class_file(file)  # a bad file stops here, before anything is written
    label_set = LabelSet(
        name,
        task,
        classes,
        source=f"file:{file.name}",
        domain=(domain,) if domain else (),  # type: ignore[arg-type]
    )
    progress = _progress(file, len(classes))
    with open_store(ctx) as store:
        if progress:
            progress("read", len(classes), len(classes))
        mapper = dataset_mapper(store, [label_set], wordnet)
        if domain and mapper.domain_concept(domain) is None:
            raise ConfigurationError(
                f"--domain {printable(domain, 80)}: no such concept id or WordNet synset"
            )
        linker, skipped = name_linker(wikidata, mapper, wn31) if wikidata else (None, "")
        report = import_label_set(store, label_set, mapper, progress=progress, outside=linker)
        rows = [dataclasses.asdict(c) for c in store.dataset_classes(name)]
    for row in rows:
        if as_json:
            console.print(json.dumps(row, default=str), highlight=False)
        else:
            flag = "  REVIEW" if row.get("review") else ""
            where = f"  under {row['parent']} ({row['placed_by']})" if row.get("parent") else ""
            console.print(
                f"{row['index']:>5}  {row['raw_name']!s:30.30}  {row['concept']:<16} {row['name']!s:24.24} "
                f"{row['method']:<8} {row['confidence']:.2f}{flag}{where}",
                highlight=False,
            )
    if wikidata:
        say_wikidata(wikidata, linker, skipped, as_json)
    if not as_json:
        console.print(f"{name}: {report.classes} classes {json.dumps(report.by_method)}", highlight=False)
        if report.domain:
            d = report.domain
            console.print(
                f"domain {d.concept}, inferred: it covers {d.support:.0%} of the {d.placed} classes placed "
                "by evidence, and is the parent of those nothing else placed (give --domain to choose)",
                highlight=False,
            )


review_app = typer.Typer(
    rich_markup_mode=None,
    help="Integration decisions flagged for a person: list, accept, move.",
    no_args_is_help=True,
)
app.add_typer(review_app, name="review")


@review_app.command("list")
def review_list(
    ctx: typer.Context,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset's.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many of each kind.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """New concepts placed on weak evidence and classes whose sense was close, least sure first."""
    with open_store(ctx) as store:
        items = dataclasses.asdict(store.review_items(dataset=dataset, limit=limit))
    if as_json:
        print(json.dumps(items, indent=2, ensure_ascii=False, default=str))
        return

    def alternatives(r: dict[str, Any]) -> str:
        return ", ".join(r["alternatives"] or []) or "-"

    for r in items["placements"]:
        console.print(
            f"placement  {r['id']:<32} under {r['parent']} {r['parent_name']!s:20.20} "
            f"{r['score'] or 0:.2f}  {r['placed_by']}; alternatives {alternatives(r)}",
            highlight=False,
        )
    for r in items["classes"]:
        console.print(
            f"class      {r['dataset']}#{r['index']:<6} {r['raw_name']!s:24.24} -> {r['concept']} "
            f"{r['name']!s:20.20} {r['score'] or 0:.2f}; alternatives {alternatives(r)}",
            highlight=False,
        )
    console.print(f"{len(items['placements'])} placements, {len(items['classes'])} classes", highlight=False)


def _review_target(item: str) -> tuple[str, int] | None:
    """``dataset#index`` names a class; anything else a concept."""
    if "#" not in item:
        return None
    dataset, _, index = item.rpartition("#")
    if not dataset or not index.isdigit():
        raise ConfigurationError(f"a class is named dataset#index (coco#64), not {item!r}")
    return dataset, int(index)


def _decide(ctx: typer.Context, item: str, by: str, to: str | None = None) -> None:
    """Record a person's decision on a class (dataset#index) or a placement (concept id); ``to``
    None keeps what was decided."""
    target = _review_target(item)
    with open_store(ctx) as store:
        if target:
            store.review_class(*target, by=by, concept=to)
        else:
            store.review_placement(item, by=by, parent=to)


@review_app.command("accept")
def review_accept(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="A concept id (its placement) or dataset#index (a class).")],
    by: Annotated[str, typer.Option(envvar="USER", help="Who decides.")] = "cli",
) -> None:
    """Accept a flagged decision as it is."""
    _decide(ctx, item, by)
    console.print(f"{item}: accepted", highlight=False)


@review_app.command("move")
def review_move(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="A concept id (its placement) or dataset#index (a class).")],
    to: Annotated[str, typer.Argument(help="The new parent (a concept) or the class's right concept.")],
    by: Annotated[str, typer.Option(envvar="USER", help="Who decides.")] = "cli",
) -> None:
    """Move a new concept under another parent, or re-point a dataset class to another concept."""
    _decide(ctx, item, by, to)
    console.print(f"{item}: now {to}", highlight=False)
