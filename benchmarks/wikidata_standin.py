"""A full-size Wikidata stand-in for the sync at the paper's scale (issue #20): test infrastructure.

The paper's label system has 304,048 concepts, 170,586 of them from Wikidata. Real Wikidata cannot be
reached from here, so this writes, deterministically from a seed, N-Triples with Wikidata's shape for
what ``bamboo sync wikidata`` reads (see :mod:`bamboo.graph.wikidata.client`):

* **anchors**: ``anchors`` items carrying a WordNet id (``wdt:P8814 "02084071-n"``; the offsets are
  WordNet 3.0's, and ``wn31_map.tsv`` maps each to itself, so the sync's 3.1 -> 3.0 step runs) and
  for 30 % a Freebase id (``P646``), chosen among WordNet nouns of physical lexicographer files;
* **items**: ``items`` classes below them, each under a random earlier item or an anchor, so chains run
  several levels deep (``P171`` parent taxon below animals and plants, ``P279`` subclass of otherwise);
  1 % also point at their grandparent (shortcut edges) and 1 in 2,000 pairs point at each other
  (cycles), both of which the sync must repair;
* **labels**: English always; Chinese, Spanish, Dutch and Italian labels on 55 / 50 / 35 / 40 % of the
  items (gaps, as in Wikidata), English aliases on 25 %, descriptions on 85 %, and a
  ``schema:dateModified`` between 2023-01 and 2026-06 (for ``--since``).

The labels are made-up names (a modifier word and the parent's name): the point is size and shape,
not content. Usage: ``python benchmarks/wikidata_standin.py OUT_DIR [--items N] [--anchors N]``
writes ``OUT_DIR/wikidata.nt`` and ``OUT_DIR/wn31_map.tsv``.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

WD = "http://www.wikidata.org/entity/"
WDT = "http://www.wikidata.org/prop/direct/"
RDFS_LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
ALT = "<http://www.w3.org/2004/02/skos/core#altLabel>"
DESCRIPTION = "<http://schema.org/description>"
MODIFIED = "<http://schema.org/dateModified>"
DATETIME = "<http://www.w3.org/2001/XMLSchema#dateTime>"
PHYSICAL = ("noun.animal", "noun.plant", "noun.artifact", "noun.food", "noun.object")
TAXA = ("noun.animal", "noun.plant")
#: Share of items with a label in each language (the sync reads these four).
COVERAGE = {"zh": 0.55, "es": 0.50, "nl": 0.35, "it": 0.40}
FIRST_QID = 50_000_000


@dataclass(frozen=True)
class StandIn:
    """What was written: file paths and counts."""

    triples: Path
    wn31_map: Path
    anchors: int
    items: int
    shortcuts: int
    cycles: int
    n_triples: int


def _literal(text: str, lang: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"@{lang}' if lang else f'"{escaped}"'


def generate(
    out_dir: Path, *, items: int = 190_000, anchors: int = 20_000, seed: int = 20, wordnet: str | None = None
) -> StandIn:
    """Write the stand-in's triples and its WordNet id map into ``out_dir`` (see the module docstring)."""
    from bamboo.graph.taxonomy.wordnet import read_nouns

    rng = random.Random(seed)
    nouns = read_nouns(wordnet)
    physical = [c for c in nouns.concepts if c["props"]["lexname"] in PHYSICAL]
    chosen = sorted(rng.sample(physical, min(anchors, len(physical))), key=lambda c: c["id"])
    modifiers = sorted(
        {c["props"]["name"].split()[0].capitalize() for c in nouns.concepts if c["props"]["name"].isalpha()}
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    nt_path, map_path = out_dir / "wikidata.nt", out_dir / "wn31_map.tsv"
    start = datetime(2023, 1, 1, tzinfo=UTC)
    span_s = int((datetime(2026, 6, 30, tzinfo=UTC) - start).total_seconds())
    n = shortcuts = cycles = 0
    names: list[str] = []
    taxon: list[bool] = []
    parent_of: list[int] = []
    with nt_path.open("w", encoding="utf-8") as nt, map_path.open("w", encoding="utf-8") as wmap:
        wmap.write("# wn31\twn30 (stand-in: the 3.0 offsets themselves)\n")

        def emit(s: int, p: str, o: str) -> None:
            nonlocal n
            nt.write(f"<{WD}Q{s}> {p} {o} .\n")
            n += 1

        for i, c in enumerate(chosen):
            q = FIRST_QID + i
            offset = c["id"][4:]
            emit(q, RDFS_LABEL, _literal(c["props"]["name"], "en"))
            emit(q, f"<{WDT}P8814>", _literal(f"{offset}-n"))
            if rng.random() < 0.3:
                emit(q, f"<{WDT}P646>", _literal(f"/m/0{rng.randrange(36**6):x}"))
            wmap.write(f"{offset}-n\t{offset}-n\n")
            names.append(c["props"]["name"])
            taxon.append(c["props"]["lexname"] in TAXA)
            parent_of.append(-1)
        for j in range(items):
            i = len(names)
            q = FIRST_QID + i
            parent = (
                rng.randrange(len(chosen)) if rng.random() < 0.45 or i == len(chosen) else rng.randrange(i)
            )
            head = names[parent].split()[-1]
            name = f"{rng.choice(modifiers)} {head}"
            prop = "P171" if taxon[parent] else "P279"
            emit(q, f"<{WDT}{prop}>", f"<{WD}Q{FIRST_QID + parent}>")
            grand = parent_of[parent]
            if grand >= 0 and rng.random() < 0.01:
                emit(q, f"<{WDT}{prop}>", f"<{WD}Q{FIRST_QID + grand}>")
                shortcuts += 1
            if parent >= len(chosen) and rng.random() < 0.0005:
                emit(FIRST_QID + parent, f"<{WDT}{prop}>", f"<{WD}Q{q}>")  # parent <-> child: a cycle
                cycles += 1
            emit(q, RDFS_LABEL, _literal(name, "en"))
            for lang, share in COVERAGE.items():
                if rng.random() < share:
                    emit(q, RDFS_LABEL, _literal(f"{name} ({lang})", lang))
            if rng.random() < 0.25:
                emit(q, ALT, _literal(f"{name} variety", "en"))
            if rng.random() < 0.85:
                emit(q, DESCRIPTION, _literal(f"kind of {names[parent]}", "en"))
            when = start + timedelta(seconds=rng.randrange(span_s))
            emit(q, MODIFIED, f'"{when.strftime("%Y-%m-%dT%H:%M:%SZ")}"^^{DATETIME}')
            names.append(name)
            taxon.append(taxon[parent])
            parent_of.append(parent)
            del j
    return StandIn(nt_path, map_path, len(chosen), items, shortcuts, cycles, n)


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _options import options

    args = options(__doc__ or "", "out_dir", items=190_000, anchors=20_000, seed=20)
    made = generate(args.out_dir, items=args.items, anchors=args.anchors, seed=args.seed)
    print(made)


if __name__ == "__main__":
    main()
