"""What ``bamboo import --wikidata`` would ask and what asking costs, measured offline.

1. **Workload**, on the real class lists of the team's shared data: per list, the new concepts the
   offline mapping leaves under the root or the bare list domain (declared nowhere here, so inferred),
   i.e. the names the Wikidata step looks up, and the queries that takes (50 names a query; Open
   Images, read with its Freebase ids as ``bamboo import`` reads its CSV, also one id query per 50).
2. **Cost**, against a real oxigraph server loaded with the Wikidata-shaped stand-in of
   ``benchmarks/wikidata_standin.py`` (``--items`` classes under ``--anchors`` items with WordNet
   ids): the linker on those names plus ``--sample`` of the stand-in's own labels (which match and
   walk up), batched, against the same linker sending one query per name and per item (the baseline),
   in the same process: requests, seconds, and what each decided (the two must agree).

Not measured, because real Wikidata cannot be reached from here: how often real items carry the
names as labels, and how good the placements through their real P31 / P279 statements are. The
stand-in's labels are made-up and repeat, so its placed / ambiguous counts say nothing about quality.
Usage: ``python benchmarks/wikidata_names.py [--items 20000] [--anchors 2000] [--sample 500]``.
"""

from __future__ import annotations

import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from bamboo.graph.mapping.datasets import ClassMapper
from bamboo.graph.taxonomy.wordnet import read_member_meronyms, read_modifiers, read_nouns, read_sense_index
from bamboo.graph.wikidata.client import WikidataClient, oxigraph_server
from bamboo.graph.wikidata.names import NameLinker
from bamboo.graph.wikidata.sync import read_wn31_map
from bamboo.loaders.base import RawClass
from bamboo.loaders.formats import parse_csv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _options import options  # noqa: E402
from wikidata_standin import generate  # noqa: E402

SHARED = Path(os.environ.get("BAMBOO_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
LISTS = (
    "tfds__stanford_cars196.txt",
    "mmpretrain__fgvcaircraft_categories_100.txt",
    "tfds__food101.txt",
    "tfds__oxford_flowers102.txt",
    "tfds__oxford_iiit_pet37.txt",
    "mmpretrain__cub_categories_200.txt",
    "tfds__caltech101.txt",
    "mmdet__lvis_1203.txt",
    "mmdet__objects365v2_365.txt",
    "category_name_13204_v3det_2023_v1.txt",
)
WEAK = ("nothing closer known", "dataset domain", "list domain (inferred)")
OPEN_IMAGES = "oidv6-class-descriptions.csv"


def workload(mapper: ClassMapper) -> tuple[list[str], dict[str, str]]:
    """Print each list's names the Wikidata step would look up; return them all, and the Freebase id
    of those a list gives one (Open Images: looked up by id first, one query per 50 ids)."""
    print(f"{'list':46} {'classes':>7} {'new':>5} {'looked up':>9} {'queries':>7} {'by id':>6}")
    asked: list[str] = []
    ids: dict[str, str] = {}
    lists: list[tuple[str, list[RawClass]]] = []
    for file in LISTS:
        path = SHARED / "labelsets" / file
        if not path.exists():
            print(f"{file:46} missing (set BAMBOO_SHARED_DATA)")
            continue
        names = [n.strip().replace("_", " ") for n in path.read_text().splitlines() if n.strip()]
        lists.append((file, [RawClass(index=i, raw_name=n) for i, n in enumerate(names)]))
    if (SHARED / "labelsets" / OPEN_IMAGES).exists():  # with its Freebase ids, as bamboo import reads it
        lists.append((OPEN_IMAGES, parse_csv(SHARED / "labelsets" / OPEN_IMAGES)))
    for file, classes in lists:
        mapped = mapper.map_all(file, classes)
        weak = sorted({m.name or m.raw_name for m in mapped if m.new and m.placed_by in WEAK})
        with_id = {m.name or m.raw_name: c.mid for c, m in zip(classes, mapped, strict=True) if c.mid}
        weak_ids = {n: with_id[n] for n in weak if n in with_id}
        asked += weak
        ids.update(weak_ids)
        new = sum(m.new for m in mapped)
        queries = math.ceil(len(weak) / 50) + math.ceil(len(weak_ids) / 50)
        print(f"{file:46} {len(mapped):7d} {new:5d} {len(weak):9d} {queries:7d} {len(weak_ids):6d}")
    return asked, ids


def main() -> None:
    args = options(__doc__ or "", items=20_000, anchors=2_000, sample=500, seed=20)
    t0 = time.perf_counter()
    nouns = read_nouns()
    rows = [{"id": c["id"], **c["props"]} for c in nouns.concepts]
    mapper = ClassMapper(rows, nouns.edges, (), read_sense_index(), read_member_meronyms(), read_modifiers())
    print(f"WordNet and mapper ready in {time.perf_counter() - t0:.1f} s\n")
    asked, ids = workload(mapper)
    print(f"\nall lists: {len(asked)} names looked up, {len(ids)} of them by Freebase id first\n")
    with tempfile.TemporaryDirectory() as tmp:
        made = generate(Path(tmp) / "standin", items=args.items, anchors=args.anchors, seed=args.seed)
        labels = sorted(
            {
                line.split('"')[1]
                for line in made.triples.open()
                if "rdf-schema#label" in line and '"@en' in line
            }
        )
        names = sorted(
            set(asked) | set(random.Random(args.seed).sample(labels, min(args.sample, len(labels))))
        )
        wn31 = read_wn31_map(made.wn31_map)
        t1 = time.perf_counter()
        with oxigraph_server(location=Path(tmp) / "store", load=made.triples) as url:
            print(f"stand-in: {made.n_triples} triples loaded in {time.perf_counter() - t1:.1f} s")
            runs = {}
            for arm, batch in (("batched", 50), ("one per name", 1)):
                client = WikidataClient(url, min_interval_s=0, batch=batch)
                linker = NameLinker(client, mapper.lexicon, wn31_map=wn31)
                found = linker(names, [], freebase=ids)
                r = linker.report
                runs[arm] = (found, r)
                print(
                    f"{arm:13} {len(names)} names: {r.requests:6d} requests {r.seconds:7.1f} s; "
                    f"{r.matched} matched, {r.placed} placed, {r.ambiguous} ambiguous, {r.no_path} no path"
                )
    (ours, rb), (base, rs) = runs["batched"], runs["one per name"]
    agree = all(ours[n].concept == base[n].concept for n in ours) and ours.keys() == base.keys()
    print(
        f"requests {rs.requests / max(rb.requests, 1):.1f}x fewer, "
        f"time {rs.seconds / max(rb.seconds, 1e-9):.1f}x "
        f"less than one query per name; same decisions: {agree}. On the Wikidata Query Service each request "
        f"waits at least 1 s (the client's gap): {rb.requests} s against {rs.requests} s."
    )


if __name__ == "__main__":
    main()
