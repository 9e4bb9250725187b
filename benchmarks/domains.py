"""Names WordNet lacks, placed under their list's domain: a list's domain inferred from the classes
it places by evidence, against the same mapping without inference, run in the same process.

Each list is imported by names only (no declared domain, as ``bamboo import`` sees a user's list).
Prints, per list: its classes, the new concepts, the share of classes that land (their concept, or
a new one's parent) under the list's known kind, the classes left under *entity*, and the inferred
domain with its support. The known kinds are the lists' published subjects (Stanford Cars: car;
FGVC-Aircraft: aircraft; Food-101: food; Oxford Flowers: vascular plant; Oxford-IIIT Pets:
carnivore; CUB-200: bird); the other lists have no single kind and count only their *entity*
placements. Goal (the label-system issue): car and aircraft model names >= 85 % under their kind.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bamboo.graph.mapping.datasets import ClassMapper, MappedClass
from bamboo.graph.taxonomy.model import ENTITY_ID
from bamboo.graph.taxonomy.wordnet import read_member_meronyms, read_modifiers, read_nouns, read_sense_index
from bamboo.loaders.base import RawClass

SHARED = Path(os.environ.get("BAMBOO_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
LISTS = {  # file in shared/data/labelsets -> the synset of its known kind (None: no single kind)
    "tfds__stanford_cars196.txt": "car.n.01",
    "mmpretrain__fgvcaircraft_categories_100.txt": "aircraft.n.01",
    "tfds__food101.txt": "food.n.01",
    "tfds__oxford_flowers102.txt": "vascular_plant.n.01",
    "tfds__oxford_iiit_pet37.txt": "carnivore.n.01",
    "mmpretrain__cub_categories_200.txt": "bird.n.01",
    "tfds__dtd47.txt": None,
    "tfds__caltech101.txt": None,
    "tfds__domainnet345.txt": None,
    "mmpretrain__cifar100_categories_100.txt": None,
    "mmdet__voc_20.txt": None,
}


def lands(mapper: ClassMapper, m: MappedClass) -> str:
    return (m.parent or ENTITY_ID) if m.new else m.concept


def main() -> None:
    t0 = time.perf_counter()
    nouns = read_nouns()
    rows = [{"id": c["id"], **c["props"]} for c in nouns.concepts]
    mapper = ClassMapper(rows, nouns.edges, (), read_sense_index(), read_member_meronyms(), read_modifiers())
    print(f"WordNet and mapper ready in {time.perf_counter() - t0:.1f} s")
    cols = f"{'n':>4} {'new':>4}  {'under kind':>10} {'baseline':>8}  {'entity':>6} {'base':>4}"
    print(f"{'list':44} {cols}  domain")
    for file, kind in LISTS.items():
        path = SHARED / "labelsets" / file
        if not path.exists():
            print(f"{file:44} missing (set BAMBOO_SHARED_DATA)")
            continue
        names = [n.strip().replace("_", " ") for n in path.read_text().splitlines() if n.strip()]
        classes = [RawClass(index=i, raw_name=n) for i, n in enumerate(names)]
        kind_id = mapper.concept_of_synset(kind) if kind else None
        results = {}
        for arm, infer in (("ours", True), ("baseline", False)):
            mapped = mapper.map_all(file, classes, infer=infer)
            ends = [lands(mapper, m) for m in mapped]
            under = sum(kind_id in mapper.ancestors(c) for c in ends) / len(ends) if kind_id else float("nan")
            results[arm] = (mapped, under, sum(c == ENTITY_ID for c in ends))
        mapped, under, entity = results["ours"]
        _, base_under, base_entity = results["baseline"]
        found = mapper.infer_domain(mapped)
        domain = f"{found.concept} ({found.support:.0%} of {found.placed})" if found else "-"
        print(
            f"{file:44} {len(mapped):4d} {sum(m.new for m in mapped):4d}  {under:10.3f} {base_under:8.3f}  "
            f"{entity:6d} {base_entity:4d}  {domain}"
        )


if __name__ == "__main__":
    main()
