"""A list's domain: inferred from the classes it places by evidence, a prior for the classes nothing
else places, so a list of model names lands under its kind instead of under *entity*."""

from __future__ import annotations

import json
from pathlib import Path

import neo4j
import networkx as nx
import pytest

from bamboo.graph.mapping.datasets import (
    DOMAIN_SUPPORT,
    INFERRED_DOMAIN,
    NOTHING_CLOSER,
    ClassMapper,
    MappedClass,
)
from bamboo.graph.mapping.families import FAMILY_KIND_DEPTH, LIST_KIND_MIN_FAMILIES, list_make_kind
from bamboo.graph.store.build import build_wordnet
from bamboo.graph.store.embedded import ServerInfo
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.model import ENTITY_ID
from bamboo.graph.taxonomy.wordnet import WordNetNouns, read_member_meronyms, read_modifiers, read_sense_index
from bamboo.loaders.base import RawClass
from bamboo.loaders.registry import create_loader
from bamboo.loaders.scenes import ScenePathLoader
from conftest import SHARED_DATA, run_cli

CAR, BIRD, PLANT = "wn:n02958343", "wn:n01503061", "wn:n13083586"  # car, bird, vascular plant
LISTS = "labelsets"


@pytest.fixture(scope="module")
def mapper(wordnet_nouns: WordNetNouns) -> ClassMapper:
    rows = [{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts]
    return ClassMapper(
        rows, wordnet_nouns.edges, (), read_sense_index(), read_member_meronyms(), read_modifiers()
    )


def names(file: str) -> list[RawClass]:
    lines = (SHARED_DATA / LISTS / file).read_text().splitlines()
    return [RawClass(index=i, raw_name=n.strip().replace("_", " ")) for i, n in enumerate(lines) if n.strip()]


def landing(mapper: ClassMapper, m: MappedClass) -> str:
    return m.parent if m.new and m.parent else m.concept


def under(mapper: ClassMapper, mapped: list[MappedClass], concept: str) -> float:
    return sum(concept in mapper.ancestors(landing(mapper, m)) for m in mapped) / len(mapped)


def test_a_scene_view_goes_under_its_place_not_under_its_view(mapper: ClassMapper, tmp_path: Path) -> None:
    # Places365 paths: "/c/church/outdoor" is a church seen from outside. The view word used to be
    # taken as the head noun (under *outdoors*), or nothing placed it (under *entity*).
    paths = ["/a/airfield", "/b/bakery/shop", "/c/church/indoor", "/c/church/outdoor", "/c/canal/urban"]
    (tmp_path / "s.txt").write_text("".join(f"{p} {i}\n" for i, p in enumerate(paths)))
    loader = ScenePathLoader(name="scenes", urls=("x",), filename="s.txt", indexed=True)
    classes = loader.parse(tmp_path / "s.txt")
    mapped = mapper.map_all("scenes", classes)
    church = mapper.concept_of_synset("church.n.02")  # the building
    canal = mapper.concept_of_synset("canal.n.03")  # the waterway
    by_name = {m.raw_name: m for m in mapped}
    for path in ("/c/church/indoor", "/c/church/outdoor", "/c/canal/urban"):
        m, place = by_name[path], canal if "canal" in path else church
        assert m.new and m.parent == place, (path, m.parent, m.placed_by)
        assert m.placed_by.startswith("dataset parent")
    assert not any(m.parent in (ENTITY_ID, mapper.concept_of_synset("outdoors.n.01")) for m in mapped)


def test_dtd_texture_words_are_textures(mapper: ClassMapper, tmp_path: Path) -> None:
    # DTD's classes are texture adjectives. Without its domain, "bubbly" was champagne, "meshed" the
    # city of Mashhad, and the 43 words WordNet has no noun for sat under *entity*.
    words = ["banded", "bubbly", "meshed", "striped"]
    (tmp_path / "train1.txt").write_text("".join(f"{w}/{w}_0001.jpg\n" for w in words))
    label_set = create_loader("dtd").load(tmp_path)
    domain = [c for c in (mapper.domain_concept(s) for s in label_set.domain) if c]
    texture = mapper.concept_of_synset("texture.n.04")  # the appearance of a surface
    assert domain == [texture]
    mapped = mapper.map_all("dtd", label_set.classes, domain)
    assert all(texture in {m.parent, *mapper.ancestors(landing(mapper, m))} for m in mapped), [
        (m.raw_name, landing(mapper, m)) for m in mapped
    ]


def test_a_model_year_after_the_head_noun_is_not_the_head(mapper: ClassMapper) -> None:
    (m,) = mapper.map_all("cars", [RawClass(index=0, raw_name="Acura RL Sedan 2012")])
    assert m.new and m.placed_by == "head noun 'sedan'"
    assert CAR in mapper.ancestors(m.parent or "")


@pytest.mark.shared_data(f"{LISTS}/tfds__stanford_cars196.txt")
def test_car_model_names_land_under_car_without_a_declared_domain(mapper: ClassMapper) -> None:
    mapped = mapper.map_all("cars", names("tfds__stanford_cars196.txt"))
    found = mapper.infer_domain(mapped)
    assert found is not None and found.concept == CAR and found.support >= DOMAIN_SUPPORT
    assert under(mapper, mapped, CAR) >= 0.8  # measured 0.806; 0 before (all under entity)
    assert not [m.raw_name for m in mapped if landing(mapper, m) == ENTITY_ID]
    # what nothing else placed goes under the domain, flagged by how it got there
    by_domain = [m for m in mapped if m.placed_by == INFERRED_DOMAIN]
    assert by_domain and all(m.parent == CAR and m.review for m in by_domain)


CUB, FLOWERS = "mmpretrain__cub_categories_200.txt", "tfds__oxford_flowers102.txt"


@pytest.mark.shared_data(f"{LISTS}/{CUB}", f"{LISTS}/{FLOWERS}")
def test_the_domain_is_the_deepest_concept_covering_most_of_the_placed_classes(mapper: ClassMapper) -> None:
    birds = mapper.infer_domain(mapper.map_all("cub", names(CUB)))
    plants = mapper.infer_domain(mapper.map_all("flowers", names(FLOWERS)))
    assert birds is not None and birds.concept == BIRD  # not passerine: 67 % of the birds only
    assert plants is not None and plants.concept == PLANT
    for found in (birds, plants):
        placed_under = found.support * found.placed
        assert placed_under >= DOMAIN_SUPPORT * found.placed


@pytest.mark.shared_data(f"{LISTS}/tfds__dtd47.txt")
def test_a_list_without_a_common_kind_has_no_domain_and_keeps_its_flags(mapper: ClassMapper) -> None:
    mapped = mapper.map_all("textures", names("tfds__dtd47.txt"))  # banded, blotchy, braided ...
    assert mapper.infer_domain(mapped) is None
    rooted = [m for m in mapped if m.placed_by == NOTHING_CLOSER]
    assert rooted and all(m.review and m.parent == ENTITY_ID for m in rooted)


def test_a_declared_domain_is_an_id_or_a_synset_name(mapper: ClassMapper) -> None:
    assert mapper.domain_concept(CAR) == CAR
    assert mapper.domain_concept("car.n.01") == CAR
    assert mapper.domain_concept("no.such.thing") is None


def test_bamboo_import_infers_the_domain_and_takes_one(
    server: ServerInfo, driver: neo4j.Driver, fresh_database: str, wordnet_nouns: WordNetNouns, tmp_path: Path
) -> None:
    """Through the real CLI and store: a names-only list of car models is placed under *car*, the
    summary says the domain was inferred and from what; ``--domain`` takes an id or a synset name,
    and an unknown one is a one-line error before anything is written."""
    kinds = {"sedan.n.01", "coupe.n.01", "convertible.n.01", "hatchback.n.01", "minivan.n.01", "car.n.01"}
    seeds = [c["id"] for c in wordnet_nouns.concepts if c["props"]["synset"] in kinds]
    up = nx.DiGraph((e["child"], e["parent"]) for e in wordnet_nouns.edges)
    keep = set(seeds).union(*(nx.descendants(up, s) for s in seeds))
    small = WordNetNouns(
        [c for c in wordnet_nouns.concepts if c["id"] in keep],
        [e for e in wordnet_nouns.edges if e["child"] in keep and e["parent"] in keep],
    )
    store = GraphStore(driver, fresh_database)
    build_wordnet(store, small)
    db = {"BAMBOO_GRAPH_DATABASE": fresh_database}
    listing = tmp_path / "models.txt"
    models = [
        "Acura RL Sedan 2012",
        "Audi TT Coupe 2011",
        "BMW M3 Convertible 2012",
        "Honda Fit Hatchback 2010",
    ]
    listing.write_text("\n".join([*models, "Kia Sedona Minivan 2012", "Zzq Qvx 2031"]) + "\n")

    bad = run_cli(server, "import", "cars", str(listing), "--domain", "no.such.synset", **db)
    assert bad.returncode != 0 and "--domain" in bad.stderr and "no.such.synset" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "cars" not in {d.name for d in store.datasets()}

    out = run_cli(server, "import", "cars", str(listing), **db)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"domain {CAR}, inferred: it covers 100% of the 5 classes" in out.stdout
    unknown = next(c for c in store.dataset_classes("cars") if c.raw_name == "Zzq Qvx 2031")
    assert unknown.parent == CAR and unknown.placed_by == INFERRED_DOMAIN and unknown.review
    assert store.placements([unknown.concept])[unknown.concept]["parent"] == CAR
    (meta,) = [d for d in store.datasets() if d.name == "cars"]
    assert meta.props["inferred_domain"] == CAR and meta.props["domain_support"] == 1.0

    listing.write_text("Zzq Qvy 2030\n")
    out = run_cli(server, "import", "more-cars", str(listing), "--domain", "car.n.01", **db)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "inferred" not in out.stdout  # declared, not inferred
    (row,) = store.dataset_classes("more-cars")
    assert store.placements([row.concept])[row.concept]["parent"] == CAR

    def under_entity() -> int:
        out = run_cli(server, "stats", "--json", **db)
        assert out.returncode == 0, out.stderr[-2000:]
        return int(json.loads(out.stdout)["under_entity"])

    assert under_entity() == 0  # every car model found a place
    listing.write_text("Zzq Qvw\n")  # one name, nothing to go on: the last resort, counted
    assert run_cli(server, "import", "lonely", str(listing), **db).returncode == 0
    assert under_entity() == 1

    # A second declared-domain list with "Zzq" models makes "Zzq" a known family (three names of lists
    # declaring *car*): a names-only list's "Zzq" model now goes under car, saying from which lists.
    listing.write_text("Zzq Alpha 2030\nZzq Beta 2031\n")
    assert run_cli(server, "import", "even-more-cars", str(listing), "--domain", CAR, **db).returncode == 0
    listing.write_text("Zzq Qvv\n")
    assert run_cli(server, "import", "lonely-too", str(listing), **db).returncode == 0
    (row,) = store.dataset_classes("lonely-too")
    assert row.parent == CAR and row.review
    assert row.placed_by == "make/model family 'zzq' of even-more-cars, more-cars"
    assert under_entity() == 1


# --- repeated names: one list, two meanings ---------------------------------------------------


def imagenet_names() -> tuple[list[str], list[str]]:
    import timm.data

    info = Path(timm.data.__file__).parent / "_info"
    wnids = (info / "imagenet_synsets.txt").read_text().split()
    lemmas = dict(
        line.split("\t", 1) for line in (info / "imagenet_synset_to_lemma.txt").read_text().splitlines()
    )
    return wnids, [lemmas[w].split(",")[0].strip() for w in wnids]


def test_imagenet_names_only_give_each_repeated_name_its_own_sense(mapper: ClassMapper) -> None:
    """ImageNet-1K by names alone, in its own order: the two *crane*s (bird, machine) and the two
    *maillot*s are four concepts. The cranes' neighbours (birds, machines) say which is which; the
    maillots sit side by side among clothes, so nothing does, and both are flagged saying so."""
    wnids, names = imagenet_names()
    mapped = mapper.map_all("in1k", [RawClass(index=i, raw_name=n) for i, n in enumerate(names)])
    for name in ("crane", "maillot"):
        rows = [m for m in mapped if m.raw_name == name]
        assert len(rows) == 2 and rows[0].concept != rows[1].concept
        assert {m.concept for m in rows} == {
            f"wn:{w}" for w, n in zip(wnids, names, strict=True) if n == name
        }
    cranes = [m for m in mapped if m.raw_name == "crane"]
    assert [m.concept for m in cranes] == ["wn:n02012849", "wn:n03126707"]  # bird, then machine
    assert all("senses assigned by neighbours" in m.note for m in cranes)
    maillots = [m for m in mapped if m.raw_name == "maillot"]
    assert all(m.review and "not settled by evidence" in m.note for m in maillots)


def test_repeated_names_take_their_senses_from_their_neighbours_not_their_position(
    mapper: ClassMapper,
) -> None:
    """The joint assignment: the same two *crane*s with the machine listed first go the other way."""
    names = ["bulldozer", "forklift", "crane", "excavator", "tow truck", "heron", "stork", "crane", "egret"]
    mapped = mapper.map_all("mixed", [RawClass(index=i, raw_name=n) for i, n in enumerate(names)])
    assert (mapped[2].concept, mapped[7].concept) == ("wn:n03126707", "wn:n02012849")
    assert not mapped[2].review and not mapped[7].review


def test_repeated_names_in_an_alphabetical_list_are_flagged_as_unsettled(mapper: ClassMapper) -> None:
    """Sorted names have no neighbours to speak: two senses are chosen, and both classes are flagged."""
    names = sorted(["crane", "crane", "heron", "bulldozer", "stork", "forklift"])
    mapped = mapper.map_all("sorted", [RawClass(index=i, raw_name=n) for i, n in enumerate(names)])
    cranes = [m for m in mapped if m.raw_name == "crane"]
    assert len({m.concept for m in cranes}) == 2
    assert all(m.review and "not settled by evidence" in m.note for m in cranes)


def test_a_repeated_name_with_one_sense_names_one_concept_flagged(mapper: ClassMapper) -> None:
    classes = [
        RawClass(index=i, raw_name=n) for i, n in enumerate(["golden retriever", "cat", "golden retriever"])
    ]
    first, _, again = mapper.map_all("pets", classes)
    assert first.concept == again.concept and not first.review
    assert again.review and "repeats the name of class 0: the same concept" in again.note


def test_bamboo_import_takes_a_list_with_a_repeated_name(
    server: ServerInfo, driver: neo4j.Driver, fresh_database: str, wordnet_nouns: WordNetNouns, tmp_path: Path
) -> None:
    build_wordnet(GraphStore(driver, fresh_database), wordnet_nouns)
    listing = tmp_path / "birds-and-machines.txt"
    listing.write_text("crane\nheron\nstork\ncrane\nbulldozer\n")
    out = run_cli(server, "import", "mixed", str(listing), "--json", BAMBOO_GRAPH_DATABASE=fresh_database)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = GraphStore(driver, fresh_database).dataset_classes("mixed")
    assert [r.index for r in rows] == [0, 1, 2, 3, 4]
    assert rows[0].raw_name == rows[3].raw_name == "crane" and rows[0].concept != rows[3].concept


# --- one meaning, one concept; a qualifier names the kind --------------------------------------


def fresh_mapper(wordnet_nouns: WordNetNouns, extra: list[dict[str, str]] = ()) -> ClassMapper:  # type: ignore[assignment]
    """A mapper of its own: it remembers the new concepts it made (the joined-form registry)."""
    rows = [{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts]
    return ClassMapper(
        [*rows, *extra], wordnet_nouns.edges, (), read_sense_index(), read_member_meronyms(), read_modifiers()
    )


def test_a_lemma_followed_by_its_kind_is_that_sense_of_the_lemma(mapper: ClassMapper) -> None:
    """CIFAR-100's *maple_tree* is WordNet's maple tree (as *oak_tree* is its oak); *alarm device* is
    the alarm that is a device; *corn dog* is not a sense of corn: no such rule applies."""
    maple, oak, corn_dog = mapper.map_all(
        "c", [RawClass(index=i, raw_name=n) for i, n in enumerate(["maple_tree", "oak_tree", "corn dog"])]
    )
    tree = mapper.concept_of_synset("tree.n.01")
    assert not maple.new and tree in mapper.ancestors(maple.concept) and "suffix form" in maple.note
    assert maple.concept in mapper._senses("maple")
    assert not oak.new and tree in mapper.ancestors(oak.concept)
    assert corn_dog.new


def test_every_spelling_of_a_lemma_is_that_lemma_run_together_ones_reviewed(mapper: ClassMapper) -> None:
    """Open Images' spellings of WordNet lemmas: *Hog nosed skunk* (WordNet has *hog-nosed skunk* and
    *hognosed skunk*: several spellings of one lemma) and *Sweatpant* are those lemmas; a run-together
    *Payphone* (*pay-phone*) and *Caddisflies* (*caddis fly*) are too, flagged as a guess at the words."""
    names = ["Hog nosed skunk", "Sweatpant", "Payphone", "Caddisflies"]
    skunk, pants, phone, fly = mapper.map_all(
        "oi", [RawClass(index=i, raw_name=n) for i, n in enumerate(names)]
    )
    assert skunk.concept == mapper.concept_of_synset("hog-nosed_skunk.n.01") and not skunk.review
    assert pants.concept == mapper.concept_of_synset("sweat_pants.n.01") and "spelling of" in pants.note
    assert phone.concept == mapper.concept_of_synset("pay-phone.n.01") and phone.review
    assert fly.concept == mapper.concept_of_synset("caddis_fly.n.01") and "split form" in fly.note


def test_joined_and_spaced_spellings_are_one_new_concept(wordnet_nouns: WordNetNouns) -> None:
    """COCO's *potted plant* and VOC's *pottedplant*: one concept, across lists and within one,
    and against a new concept already in the graph; the later spelling is flagged."""
    fresh = fresh_mapper(wordnet_nouns)
    (coco,) = fresh.map_all("coco", [RawClass(index=0, raw_name="potted plant")])
    (voc,) = fresh.map_all("voc", [RawClass(index=0, raw_name="pottedplant")])
    assert coco.new and voc.concept == coco.concept and voc.review and "another spelling" in voc.note
    graph = fresh_mapper(
        wordnet_nouns, [{"id": "bamboo:potted-plant", "name": "potted plant", "source": "dataset"}]
    )
    (again,) = graph.map_all("voc", [RawClass(index=0, raw_name="Potted-Plants")])
    assert again.concept == "bamboo:potted-plant"
    a, b = fresh_mapper(wordnet_nouns).map_all(
        "one", [RawClass(index=0, raw_name="zqx widget"), RawClass(index=1, raw_name="zqxwidget")]
    )
    assert a.concept == b.concept and b.review


def test_latin_names_are_not_merged_by_their_joined_form(wordnet_nouns: WordNetNouns) -> None:
    """Two species of a genus WordNet knows differ by a last letter: two concepts, as their ids say."""
    a, b = fresh_mapper(wordnet_nouns).map_all(
        "sp", [RawClass(index=0, raw_name="Ursus zqxs"), RawClass(index=1, raw_name="Ursus zqx")]
    )
    assert a.concept != b.concept


def test_a_latin_name_wordnet_files_outside_its_class_is_still_that_species(mapper: ClassMapper) -> None:
    """iNaturalist's *Juniperus communis* (a conifer) is WordNet's *common juniper*, which WordNet files
    under juniper wood, not under the organism of class Pinopsida: one species, one concept, flagged.
    A binomial WordNet lacks stays new and is placed by its taxonomy."""
    lineage = (
        ("genus", "Juniperus"),
        ("family", "Cupressaceae"),
        ("class", "Pinopsida"),
        ("kingdom", "Plantae"),
    )
    known, unknown = mapper.map_all(
        "inat",
        [
            RawClass(index=0, raw_name="Juniperus communis", lineage=lineage),
            RawClass(index=1, raw_name="Juniperus zqxensis", lineage=lineage),
        ],
    )
    assert known.concept == mapper.concept_of_synset("common_juniper.n.01")
    assert known.review and "filed outside" in known.note
    assert unknown.new and unknown.parent and "taxonomy" in unknown.placed_by


def test_a_name_of_the_domains_kind_filed_outside_it_is_that_sense_but_a_genus_is_not(
    mapper: ClassMapper,
) -> None:
    """Food-101's *chicken wings* (WordNet's one sense is food, filed under *wing*, not under the
    list's *food*) is that sense, flagged; Flowers-102's *bromelia* (WordNet's one sense is the genus,
    a taxonomic group) and the Oxford Pets breed *Ragdoll* (a toy in WordNet) stay new."""
    food = [mapper.concept_of_synset("food.n.02"), mapper.concept_of_synset("food.n.01")]
    (wings,) = mapper.map_all("food", [RawClass(index=0, raw_name="chicken wings")], food)
    assert wings.concept == mapper.concept_of_synset("chicken_wing.n.01") and wings.review
    plant = mapper.concept_of_synset("vascular_plant.n.01")
    (bromelia,) = mapper.map_all("flowers", [RawClass(index=0, raw_name="bromelia")], [plant])
    assert bromelia.new
    (ragdoll,) = mapper.map_all(
        "pets", [RawClass(index=0, raw_name="Ragdoll")], [mapper.concept_of_synset("cat.n.01")]
    )
    assert ragdoll.new


def test_an_organism_wordnet_files_under_a_taxon_group_is_that_organism(mapper: ClassMapper) -> None:
    """WordNet files *trumpet creeper* under the family *Bignoniaceae* and *Culver's root* under a
    genus group, not under *vine* or *herb*. They are organisms, not taxa: Flowers-102's *trumpet
    creeper* and iNaturalist's *Campsis radicans* are WordNet's one concept, flagged, while a genus
    (*bromelia*) stays refused unless WordNet gives it exactly one organism. Over all of WordNet, no
    concept with members, hyponyms or a rank in its lemmas counts as such an organism."""
    plant = mapper.concept_of_synset("vascular_plant.n.01")
    creeper = mapper.concept_of_synset("trumpet_creeper.n.01")
    (flower,) = mapper.map_all("flowers", [RawClass(index=0, raw_name="trumpet creeper")], [plant])
    assert flower.concept == creeper and flower.review
    lineage = (
        ("genus", "Campsis"),
        ("family", "Bignoniaceae"),
        ("class", "Magnoliopsida"),
        ("kingdom", "Plantae"),
    )
    culver = (("genus", "Veronicastrum"), ("family", "Plantaginaceae"), ("kingdom", "Plantae"))
    species, root = mapper.map_all(
        "inat",
        [
            RawClass(index=0, raw_name="Campsis radicans", lineage=lineage),
            RawClass(index=1, raw_name="Veronicastrum virginicum", lineage=culver),
        ],
    )
    assert species.concept == creeper
    assert root.concept == mapper.concept_of_synset("culver's_root.n.01")
    (bromelia,) = mapper.map_all("flowers", [RawClass(index=0, raw_name="bromelia")], [plant])
    assert bromelia.new
    # a genus WordNet gives one organism (CUB-200's *Geococcyx*): that organism, flagged
    (genus,) = mapper.map_all(
        "cub", [RawClass(index=0, raw_name="Geococcyx")], [mapper.concept_of_synset("bird.n.01")]
    )
    assert genus.concept == mapper.concept_of_synset("roadrunner.n.01") and genus.review
    assert "one organism" in genus.note
    taxa = mapper._taxa
    assert taxa is not None
    lex = mapper.lexicon
    filed = [c for c in lex.concepts if taxa.filed_organism(c)]
    assert creeper in filed and mapper.concept_of_synset("bignoniaceae.n.01") not in filed
    for c in filed:
        lemmas = " ".join(lex.concepts[c].get("lemmas") or ()).lower()
        assert not lex.children.get(c) and "genus" not in lemmas and "family" not in lemmas
        assert lex.concepts[c]["lexname"] in ("noun.plant", "noun.animal") and not taxa.is_taxon(c)


def test_a_species_named_with_and_without_its_taxonomy_is_one_concept(wordnet_nouns: WordNetNouns) -> None:
    """iNaturalist 2017's list gives *Achalarus lyciades* bare, 2018's with its lineage (so its id
    keeps the final s): one species, one concept, whichever list comes first."""
    for first_with_lineage in (False, True):
        fresh = fresh_mapper(wordnet_nouns)
        bare = RawClass(index=0, raw_name="Achalarus lyciades")
        known = RawClass(index=0, raw_name="Achalarus lyciades", lineage=(("family", "Hesperiidae"),))
        lists = [[known], [bare]] if first_with_lineage else [[bare], [known]]
        (one,), (two,) = (fresh.map_all(f"inat{i}", c) for i, c in enumerate(lists))
        assert one.new and two.concept == one.concept


def test_a_qualifier_that_names_a_kind_places_a_new_concept(mapper: ClassMapper) -> None:
    """*Avena (Drink)* is a drink, *Jaguar (Automobile)* a car; a field or place qualifier
    (*Bank (Geography)*, *(australia)*) is not a kind, and an activity places flagged."""
    names = [
        "Avena (Drink)",
        "Zqcar (Automobile)",
        "Zqbank (Geography)",
        "Zqford (australia)",
        "Zqiron (Golf)",
    ]
    drink, car, bank, ford, iron = mapper.map_all(
        "oi", [RawClass(index=i, raw_name=n) for i, n in enumerate(names)], infer=False
    )
    assert drink.new and drink.parent == mapper.concept_of_synset("drink.n.01")
    assert drink.placed_by == "qualifier 'drink'" and not drink.review
    assert car.parent == mapper.concept_of_synset("car.n.01")
    assert not bank.placed_by.startswith("qualifier") and not ford.placed_by.startswith("qualifier")
    assert iron.placed_by.startswith("qualifier") and iron.review


# --- make / model families ---------------------------------------------------------------------


def test_a_qualifier_that_completes_a_lemma_names_that_lemma(mapper: ClassMapper) -> None:
    """Open Images' *Bank (Building)* is WordNet's *bank building*; *Seal (Animal)* still picks the
    animal sense of *seal* by its qualifier."""
    bank, seal = mapper.map_all(
        "oi", [RawClass(index=0, raw_name="Bank (Building)"), RawClass(index=1, raw_name="Seal (Animal)")]
    )
    assert bank.concept == mapper.concept_of_synset("bank.n.09") and "qualifier as one lemma" in bank.note
    assert seal.concept in mapper._senses("seal") and mapper.concept_of_synset(
        "animal.n.01"
    ) in mapper.ancestors(seal.concept)


def test_a_make_model_family_loses_its_head_noun_placements(mapper: ClassMapper) -> None:
    """*Zqmotor falcon* is a model, not a falcon: a family of five names sharing a maker WordNet does
    not know, whose head words disagree, is not placed by them; one model's qualifier (a car)
    gives the family its kind, flagged."""
    models = ["falcon", "corolla", "taurus", "cobalt", "hornet"]
    names = [f"Zqmotor {m}" for m in models]
    mapped = mapper.map_all("oi", [RawClass(index=i, raw_name=n) for i, n in enumerate(names)], infer=False)
    assert all(m.new and not m.placed_by.startswith("head noun") for m in mapped)
    assert all(m.parent == ENTITY_ID and m.review for m in mapped)
    with_kind = [*names, "Zqmotor zx (Automobile)"]
    mapped = mapper.map_all(
        "oi", [RawClass(index=i, raw_name=n) for i, n in enumerate(with_kind)], infer=False
    )
    car = mapper.concept_of_synset("car.n.01")
    assert all(
        m.parent == car and m.review and "make/model family 'zqmotor'" in m.placed_by for m in mapped[:5]
    )
    brand = mapper.map_all(
        "oi", [RawClass(index=i, raw_name=n) for i, n in enumerate([*names, "Zqmotor (Brand)"])], infer=False
    )
    assert all(m.parent == ENTITY_ID for m in brand[:5])  # the brand's own entry is no model's kind
    # a two-word name qualified as a brand is a trade name: "brand" is also a sword, and Open
    # Images' "Canada goose (Brand)" made "Canada day" and "Canada Warbler" swords
    goose = mapper.map_all(
        "oi",
        [RawClass(index=i, raw_name=n) for i, n in enumerate([*names, "Zqmotor goose (Brand)"])],
        infer=False,
    )
    assert all(m.parent == ENTITY_ID for m in goose[:5]), [m.placed_by for m in goose]


def test_a_brand_known_from_a_declared_domain_list_places_another_lists_models(
    wordnet_nouns: WordNetNouns,
) -> None:
    rows = [{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts]
    mapper = ClassMapper(
        rows, wordnet_nouns.edges, (), read_sense_index(), read_member_meronyms(), read_modifiers()
    )
    others = ["Toyota celica", "Toyota corolla", "Ford falcon", "Lotus elise"]
    classes = [RawClass(index=i, raw_name=n) for i, n in enumerate(others)]
    before = {m.raw_name: m for m in mapper.map_all("other", classes)}
    cars = ["Toyota Camry Sedan 2012", "Toyota Sequoia SUV 2012", "Toyota 4Runner SUV 2012"]
    cars += ["Ford GT Coupe 2006", "Ford F-150 Cab 2012", "Ford Fiesta Sedan 2012", "Saab 340", "Saab 900"]
    mapper.learn_families([("stanford-cars", ("car.n.01",), cars), ("lotus", ("vascular_plant.n.01",), [])])
    after = {m.raw_name: m for m in mapper.map_all("other", classes)}
    # Toyota is no common noun: its models are cars, before any head noun (a corolla is a flower part)
    for name in ("Toyota celica", "Toyota corolla"):
        assert before[name].parent != CAR and after[name].parent == CAR, (name, before[name].parent)
        assert after[name].placed_by == "make/model family 'toyota' of stanford-cars" and after[name].review
    # Ford is a common noun (a river crossing), and so is falcon: the name keeps its head noun
    assert after["Ford falcon"].placed_by == before["Ford falcon"].placed_by == "head noun 'falcon'"
    # two names make no family (with two, FGVC's Saab aircraft made Open Images' Saab cars aircraft)
    assert "saab" not in {f.word for f in mapper._known.values()}
    # Lotus is known from no list (the plant list declares no multi-word name)
    assert after["Lotus elise"].parent == before["Lotus elise"].parent


def test_a_family_no_list_names_takes_the_kind_of_the_lists_known_makers(
    wordnet_nouns: WordNetNouns,
) -> None:
    """Open Images' 75 *Renault* names: no declared list names the brand, but the list's other makers
    are known (cars, aircraft), so the family goes under the kind covering all of theirs (*vehicle*),
    flagged and saying so. Not a brand: a word a declared list uses for a bird, a possessive
    (*Women's lacrosse*); and neither the brand's own entry nor a company its head noun places is a model."""
    mapper = fresh_mapper(wordnet_nouns)
    mapper.learn_families(
        [
            ("cars", ("car.n.01",), [f"Zqtoy {m} Sedan 2012" for m in "abc"] + [f"Zqnis {m}" for m in "abc"]),
            ("planes", ("aircraft.n.01",), [f"Zqces {m}" for m in ("172", "208", "525")]),
            ("birds", ("bird.n.01",), ["California Zqgull"]),
        ]
    )
    models = ["falcon", "corolla", "taurus", "cobalt", "hornet", "zq7"]
    other = ["Zqtoy corolla", "Zqtoy zq9", "Zqnis zq1", "Zqnis zq2", "Zqces zq3", "Zqces zq4"]
    rest = [f"Zqren {m}" for m in models] + ["Zqren (Brand)", "Zqren Corporation"]
    rest += [f"California {m}" for m in models] + [f"Women's {m}" for m in models]
    rest += ["Bell 212", "Bell x-22", "Bell zqjet", "Bell zq soup"]  # a common word, with model codes
    classes = [RawClass(index=i, raw_name=n) for i, n in enumerate(other + rest)]
    by_name = {m.raw_name: m for m in mapper.map_all("oi", classes, infer=False)}
    vehicle = mapper.concept_of_synset("vehicle.n.01")
    for name in (f"Zqren {m}" for m in models):
        m = by_name[name]
        assert m.parent == vehicle and m.review and m.confidence < 0.5, (name, m.placed_by)
        assert m.placed_by.startswith("make/model family 'zqren' (the kind of this list's known makers")
    assert by_name["Zqren (Brand)"].parent != vehicle
    corporation = by_name["Zqren Corporation"]
    assert corporation.placed_by.startswith("head noun") and corporation.parent != vehicle
    for name in [f"California {m}" for m in models] + [f"Women's {m}" for m in models]:
        assert by_name[name].parent != vehicle, name
    # model codes make a family of a common word's names; a name without one keeps its head noun
    for name in ("Bell 212", "Bell x-22", "Bell zqjet"):
        assert by_name[name].parent == vehicle and by_name[name].review, (name, by_name[name].placed_by)
    soup = by_name["Bell zq soup"]
    assert soup.placed_by == "head noun 'soup'" and soup.parent != vehicle
    # with one known maker the list has no make kind: the family stays unplaced, as before
    alone = fresh_mapper(wordnet_nouns)
    alone.learn_families([("cars", ("car.n.01",), [f"Zqtoy {m} Sedan 2012" for m in "abc"])])
    classes = [RawClass(index=i, raw_name=n) for i, n in enumerate(other[:2] + rest[:6])]
    assert all(m.parent != vehicle for m in alone.map_all("oi", classes, infer=False)[2:])


def test_a_lists_make_kind_is_the_deepest_concept_above_all_its_makers_kinds(
    wordnet_nouns: WordNetNouns,
) -> None:
    """:func:`list_make_kind` against its definition on WordNet's graph (networkx ancestors): a
    concept above every kind, none deeper; ``None`` below the depth floor or with one maker."""
    import random

    mapper = fresh_mapper(wordnet_nouns)
    lexicon = mapper.lexicon
    graph = nx.DiGraph((e["child"], e["parent"]) for e in wordnet_nouns.edges)
    concepts = sorted(c for c in lexicon.concepts if c in graph)
    rng = random.Random(7)
    for _ in range(60):
        kinds = {f"b{i}": rng.choice(concepts) for i in range(rng.randint(1, 3))}
        got = list_make_kind(kinds, lexicon)
        common = set.intersection(*(nx.descendants(graph, k) | {k} for k in kinds.values()))
        deepest = max((lexicon.depth(c) for c in common), default=-1)
        if len(kinds) < LIST_KIND_MIN_FAMILIES or deepest < FAMILY_KIND_DEPTH:
            assert got is None
        else:
            assert got in common and lexicon.depth(got) == deepest


def test_a_latin_name_another_lists_taxonomy_names_takes_that_lineage(wordnet_nouns: WordNetNouns) -> None:
    """iNaturalist names *Hericium erinaceus* with its lineage; Open Images' bare *Hericium* (a genus
    WordNet lacks) and a species named in full then place by it. A word WordNet has (*Circus*: also
    a genus of harriers) keeps its WordNet meaning; a name two lineages disagree on decides nothing."""
    fungi = (("genus", "Hericium"), ("family", "Hericiaceae"), ("order", "Russulales"))
    fungi += (("class", "Agaricomycetes"), ("phylum", "Basidiomycota"), ("kingdom", "Fungi"))
    harrier = (("genus", "Circus"), ("family", "Accipitridae"), ("class", "Aves"), ("kingdom", "Animalia"))
    twice = [
        (("genus", "Zqtwice"), ("class", c), ("kingdom", k))
        for c, k in (("Aves", "Animalia"), ("Liliopsida", "Plantae"))
    ]
    inat = [
        RawClass(index=0, raw_name="Hericium erinaceus", lineage=fungi),
        RawClass(index=1, raw_name="Circus cyaneus", lineage=harrier),
        RawClass(index=2, raw_name="Zqtwice alba", lineage=twice[0]),
        RawClass(index=3, raw_name="Zqtwice beta", lineage=twice[1]),
    ]
    names = ["Hericium", "Hericium erinaceus", "Circus", "Zqtwice"]
    classes = [RawClass(index=i, raw_name=n) for i, n in enumerate(names)]
    before = fresh_mapper(wordnet_nouns).map_all("oi", classes, infer=False)
    mapper = fresh_mapper(wordnet_nouns)
    mapper.learn_taxa([inat])
    after = {m.raw_name: m for m in mapper.map_all("oi", classes, infer=False)}
    fungus = mapper.concept_of_synset("fungus.n.01")
    # before: the genus under entity, the species under the hedgehog (its epithet named one)
    assert before[0].parent == ENTITY_ID and fungus not in mapper.ancestors(before[1].parent or ENTITY_ID)
    for name in ("Hericium", "Hericium erinaceus"):
        m = after[name]
        assert m.new and fungus in mapper.ancestors(m.parent) and m.placed_by.startswith("taxonomy"), m
    assert after["Circus"].concept == before[2].concept and not after["Circus"].new
    assert after["Zqtwice"].parent == ENTITY_ID


def test_names_sharing_a_modifier_or_a_common_noun_keep_their_head_nouns(mapper: ClassMapper) -> None:
    """*Long nose gar*, *Hot dry noodles*: an adjective (or a common noun) first is no maker."""
    for first in ("Long", "Chicken"):
        names = [f"{first} zq {head}" for head in ("gar", "noodle", "falcon", "corolla", "cobalt")]
        mapped = mapper.map_all(
            "x", [RawClass(index=i, raw_name=n) for i, n in enumerate(names)], infer=False
        )
        assert all(m.placed_by.startswith("head noun") for m in mapped), first
