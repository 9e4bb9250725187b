"""Class mapping (evidence order, domains, imaged senses) and dataset import into the real embedded store."""

from __future__ import annotations

from pathlib import Path

import neo4j
import pytest

from bamboo.errors import ConfigurationError
from bamboo.graph.mapping.datasets import ClassMapper, import_label_set, new_concept_id
from bamboo.graph.store.build import build_wordnet
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import check_invariants, content_hash, read_contents
from bamboo.graph.taxonomy.wordnet import WordNetNouns
from bamboo.loaders import LabelSet, MalformedFile, RawClass, create_loader, list_loaders
from conftest import SHARED_DATA


@pytest.fixture(scope="module")
def mapper(wordnet_nouns: WordNetNouns) -> ClassMapper:
    from bamboo.graph.taxonomy.wordnet import read_member_meronyms, read_sense_index

    concepts = [{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts]
    return ClassMapper(
        concepts, wordnet_nouns.edges, sense_index=read_sense_index(), members=read_member_meronyms()
    )


@pytest.fixture
def wordnet_store(driver: neo4j.Driver, fresh_database: str, wordnet_nouns: WordNetNouns) -> GraphStore:
    """A fresh database with WordNet built."""
    store = GraphStore(driver, fresh_database)
    build_wordnet(store, wordnet_nouns)
    return store


def test_registry() -> None:
    assert {"imagenet-1k", "imagenet-21k", "imagenet-22k", "imagenet-21k-p"} <= set(list_loaders())
    with pytest.raises(ConfigurationError, match="unknown dataset 'nope'"):
        create_loader("nope")


@pytest.mark.parametrize(
    "text",
    [
        "n02084071\nn02121620\nn04194289\n",  # timm's synset list
        "n02084071 dog, domestic dog\nn02121620 cat\nn04194289 ship\n",  # ILSVRC LOC_synset_mapping.txt
    ],
)
def test_wnid_list_formats(tmp_path: Path, text: str) -> None:
    (tmp_path / "imagenet_synsets.txt").write_text(text)
    ls = create_loader("imagenet-1k").load(tmp_path)
    assert [(c.index, c.wnid) for c in ls.classes] == [(0, "n02084071"), (1, "n02121620"), (2, "n04194289")]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("n02084071\ndog\n", 2, "expected a WordNet id"),
        ("n02084071\nn0208407\n", 2, "expected a WordNet id"),
        ("n02084071\n\nn02084071\n", 3, "repeats line 1"),
        ("\n\n", None, "no classes"),
    ],
)
def test_malformed_wnid_list_names_file_and_line(
    tmp_path: Path, text: str, line: int | None, problem: str
) -> None:
    path = tmp_path / "imagenet_synsets.txt"
    path.write_text(text)
    with pytest.raises(MalformedFile, match=problem) as err:
        create_loader("imagenet-1k").load(path)
    assert err.value.path == str(path) and err.value.line == line


def test_mapping_evidence_order(mapper: ClassMapper) -> None:
    assert mapper.map("x", RawClass(0, "whatever", wnid="n02084071")).method == "wnid"
    assert mapper.map("x", RawClass(1, "tabby cat", synset="tabby.n.01")).concept == "wn:n02123045"
    lemma = mapper.map("x", RawClass(2, "golden retriever"))
    assert (lemma.concept, lemma.method, lemma.confidence) == ("wn:n02099601", "lemma", 0.9)
    ambiguous = mapper.map("x", RawClass(3, "crane"))  # several senses: chosen from evidence, with why
    assert ambiguous.method == "sense" and ambiguous.concept.startswith("wn:")
    assert (
        "sense " in ambiguous.note
        and ambiguous.alternatives
        and ambiguous.concept not in ambiguous.alternatives
    )
    unknown = mapper.map("x", RawClass(4, "Folland Gnat"))
    assert unknown.method == "new" and unknown.note == "no WordNet lemma"
    assert unknown.concept == "bamboo:folland-gnat"
    bad = mapper.map("x", RawClass(5, "n99999999", wnid="n99999999"))
    assert bad.method == "new" and "not in WordNet 3.0" in bad.note
    plural = mapper.map("x", RawClass(6, "golden retrievers"))
    assert (plural.concept, plural.confidence, plural.note) == ("wn:n02099601", 0.8, "singular form")


def test_dataset_domain_chooses_senses(mapper: ClassMapper) -> None:
    carnivore = [mapper.concept_of_synset("carnivore.n.01") or ""]
    siamese = mapper.map("pets", RawClass(0, "Siamese"), carnivore)  # the cat, not the language
    assert (siamese.concept, siamese.method, siamese.confidence) == ("wn:n02123597", "lemma", 0.85)
    bengal = mapper.map("pets", RawClass(1, "Bengal"), carnivore)  # its one sense is a region
    assert bengal.method == "new" and "none under wn:n02075296" in bengal.note
    assert mapper.map("pets", RawClass(1, "Bengal")).concept == "wn:n08710535"  # without a domain


def test_senses_chosen_from_evidence(wordnet_nouns: WordNetNouns, mapper: ClassMapper) -> None:
    from bamboo.graph.taxonomy.wordnet import read_sense_index

    person = mapper.map("coco", RawClass(0, "person"))  # 3 senses; the first is by far the most tagged
    assert (person.concept, person.method) == ("wn:n00007846", "sense") and "tagged" in person.note
    concepts = [{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts]
    imaged = ClassMapper(
        concepts, wordnet_nouns.edges, imaged={"wn:n00007846"}, sense_index=read_sense_index()
    )
    assert "ImageNet images" in imaged.map("coco", RawClass(0, "person")).note
    # A detection dataset's classes are objects: COCO's book is the bound pages, not the written work.
    names = ["laptop", "book", "clock", "vase"]
    classes = [RawClass(i, n) for i, n in enumerate(names)]
    book = mapper.map_all("coco", classes, task="detection")[1]
    assert book.concept == "wn:n02870092" and book.method == "sense"
    assert mapper.map("lib", RawClass(0, "book")).concept == "wn:n06410904"  # alone: the most frequent sense


def test_name_forms_and_qualifiers(mapper: ClassMapper) -> None:
    phone = mapper.map("coco", RawClass(0, "cell phone"))  # WordNet has "cellphone"
    assert (phone.concept, phone.note) == ("wn:n02992529", "joined form")
    # VOC runs two-word lemmas together; a single split that is a lemma is taken
    table = mapper.map("voc", RawClass(0, "diningtable"))
    assert (table.concept, table.note, table.review) == ("wn:n03201208", "split form 'dining table'", True)
    assert mapper.map("voc", RawClass(1, "tvmonitor")).concept == "wn:n04405762"
    assert mapper.map("voc", RawClass(2, "pottedplant")).method == "new"  # WordNet has "pot plant" only
    seal = mapper.map("oid", RawClass(1, "Seal (Animal)"))
    assert seal.concept in mapper.ancestors(seal.concept) and "wn:n00015388" in mapper.ancestors(seal.concept)
    jaguar = mapper.map("oid", RawClass(2, "Jaguar (Vehicle)"))  # WordNet's jaguar is only the cat
    assert jaguar.method == "new" and "close to 'vehicle'" in jaguar.note
    assert jaguar.concept == "bamboo:jaguar-vehicle"


def test_dataset_hierarchy_becomes_evidence(wordnet_store: GraphStore, mapper: ClassMapper) -> None:
    store = wordnet_store
    ls = LabelSet(
        "oid",
        "detection",
        [
            RawClass(0, "Retriever", mid="/m/01lrl"),
            RawClass(1, "Golden retriever", mid="/m/0x1", parent="/m/01lrl"),
            RawClass(2, "Zzyzx hound", mid="/m/0x2", parent="/m/01lrl"),
            RawClass(3, "Human face", mid="/m/0dzct"),
            RawClass(4, "Human eye", mid="/m/014sv8", part_of=("/m/0dzct",)),
        ],
        domain=(),
    )
    report = import_label_set(store, ls, mapper)
    assert report.classes == 5 == sum(report.by_method.values())
    evidence = [e for e in store.all_evidence() if e["dataset"] == "oid"]
    assert {(e["child"], e["parent"], e["kind"]) for e in evidence} == {
        ("wn:n02099601", "wn:n02099029", "subcategory"),
        ("bamboo:zzyzx-hound", "wn:n02099029", "subcategory"),
        ("bamboo:human-eye", "wn:n05600637", "part"),
    }
    # The dataset's parent class places the new concept, confidently.
    assert [p.id for p in store.parents("bamboo:zzyzx-hound")] == ["wn:n02099029"]
    hound = store.concept("bamboo:zzyzx-hound").extra
    assert hound["placed_by"] == "dataset parent 'Retriever'" and hound.get("review") is None
    assert import_label_set(store, ls, mapper) == report  # re-running: same evidence, not doubled
    assert [e for e in store.all_evidence() if e["dataset"] == "oid"] == evidence
    domain = LabelSet(
        "dogs", "classification", [RawClass(0, "Zzyzx terrier"), RawClass(1, "Zzyzx")], domain=("dog.n.01",)
    )
    import_label_set(store, domain, mapper)
    terrier = store.concept("bamboo:zzyzx-terrier").extra  # its head noun, under the domain
    assert terrier["placed_by"] == "head noun 'terrier'"
    assert [p.id for p in store.parents("bamboo:zzyzx-terrier")] == ["wn:n02092468"]
    assert store.concept("bamboo:zzyzx").extra["placed_by"] == "dataset domain"  # a narrow domain: sure
    assert [p.id for p in store.parents("bamboo:zzyzx")] == ["wn:n02084071"]
    assert check_invariants(read_contents(store)).ok


@pytest.mark.shared_data("labelsets")
@pytest.mark.parametrize(
    ("name", "filename", "count"),
    [
        ("imagenet-1k", "timm__imagenet_synsets.txt", 1000),
        ("imagenet-21k", "timm__imagenet21k_goog_synsets.txt", 21843),
        ("imagenet-22k", "timm__imagenet22k_synsets.txt", 21841),
        ("imagenet-12k", "timm__imagenet12k_synsets.txt", 11821),
    ],
)
def test_real_imagenet_lists_map_by_id(mapper: ClassMapper, name: str, filename: str, count: int) -> None:
    ls = create_loader(name).load(SHARED_DATA / "labelsets" / filename)
    assert len(ls.classes) == count
    methods = {mapper.map(name, c).method for c in ls.classes}
    assert methods == {"wnid"}


def test_import_is_idempotent_and_loses_nothing(wordnet_store: GraphStore, mapper: ClassMapper) -> None:
    store = wordnet_store
    ls = LabelSet(
        "toy",
        "classification",
        [
            RawClass(0, "n02084071", wnid="n02084071"),
            RawClass(1, "golden retriever"),
            RawClass(2, "crane"),
            RawClass(3, "Zzyzx Qwrtp"),
        ],
    )
    report = import_label_set(store, ls, mapper)
    assert report.classes == 4 == sum(report.by_method.values())
    assert report.by_method == {"wnid": 1, "lemma": 1, "sense": 1, "new": 1}

    def classes() -> list[tuple[str, int, str]]:
        return sorted((r.dataset, r.index, r.concept) for r in store.all_dataset_classes())

    first = content_hash(read_contents(store)), classes(), store.all_evidence()
    again = import_label_set(store, ls, mapper)
    assert again == report
    contents = read_contents(store)
    assert (content_hash(contents), classes(), store.all_evidence()) == first
    assert check_invariants(contents).ok
    classes = store.dataset_classes("toy")
    crane = classes[2].concept
    assert [(c.index, c.concept, c.method) for c in classes] == [
        (0, "wn:n02084071", "wnid"),
        (1, "wn:n02099601", "lemma"),
        (2, crane, "sense"),
        (3, "bamboo:zzyzx-qwrtp", "new"),
    ]
    assert crane.startswith("wn:")
    # Nothing to go on (no lemma, head noun, domain): placed at the root and flagged, not dropped.
    assert [r.id for r in store.parents("bamboo:zzyzx-qwrtp")] == ["wn:n00001740"]
    assert store.concept("bamboo:zzyzx-qwrtp").extra["review"] == "check"
    flagged = store.review_items(dataset="toy")
    assert [p.id for p in flagged.placements] == ["bamboo:zzyzx-qwrtp"]
    # The class leaves the list (or its mapping improves): its new concept goes with it, unless
    # something else still hangs on it (a vote here).
    import_label_set(store, LabelSet("toy2", "classification", [RawClass(0, "Qwrtp Vvlx")]), mapper)
    store.cast_vote(
        annotator="ann-1", concept="bamboo:qwrtp-vvlx", tag="visual", value=True, at="2026-12-01T00:00:00Z"
    )
    import_label_set(store, LabelSet("toy", "classification", ls.classes[:3]), mapper)
    import_label_set(store, LabelSet("toy2", "classification", []), mapper)
    ids = {c["id"] for c in read_contents(store).concepts}
    assert "bamboo:zzyzx-qwrtp" not in ids and "bamboo:qwrtp-vvlx" in ids
    assert check_invariants(read_contents(store)).ok


def test_import_with_unknown_concept_writes_nothing(driver: neo4j.Driver, rw_database: str) -> None:
    from bamboo.errors import ConceptNotFound

    store = GraphStore(driver, rw_database)
    before = store.datasets()
    row = {"index": 0, "raw_name": "x", "concept": "wn:n99999999", "method": "wnid", "confidence": 1.0}
    with pytest.raises(ConceptNotFound, match="wn:n99999999"):
        store.import_dataset("broken", {"task": "classification"}, concepts=[], classes=[row])
    assert store.datasets() == before


def test_new_concept_ids_name_one_meaning() -> None:
    assert new_concept_id("Stop_Sign") == new_concept_id("stop signs") == "bamboo:stop-sign"
    assert new_concept_id("Coffee cups") == new_concept_id("coffee cup")
    assert new_concept_id("Seal (Animal)") == "bamboo:seal-animal"
    assert new_concept_id("Aeshna canadensis", latin=True) == "bamboo:aeshna-canadensis"
    assert new_concept_id("汽车") == "bamboo:汽车"


def test_one_concept_per_meaning_whatever_the_import_order(
    driver: neo4j.Driver, fresh_database: str, wordnet_nouns: WordNetNouns, mapper: ClassMapper
) -> None:
    """The same unseen class in two datasets is one concept with two HAS_CLASS edges, and its
    placement is the best either gives, in both import orders."""
    store = GraphStore(driver, fresh_database)
    objects = LabelSet("objs", "detection", [RawClass(0, "Stop sign"), RawClass(1, "Zorbo widget")])
    signs = LabelSet(
        "signs",
        "classification",
        [RawClass(0, "Signs", mid="/m/s"), RawClass(1, "stop_signs", parent="/m/s"), RawClass(2, "Zorbo")],
    )
    results = []
    for order in ((objects, signs), (signs, objects)):
        store.clear()
        build_wordnet(store, wordnet_nouns)
        for ls in order:
            import_label_set(store, ls, mapper)
        stop = store.concept("bamboo:stop-sign")
        results.append(
            (
                [p.id for p in store.parents("bamboo:stop-sign")],
                sorted(stop.lemmas),
                sorted((d.dataset, d.index) for d in store.concept_datasets("bamboo:stop-sign")),
            )
        )
    assert results[0] == results[1]
    parents, lemmas, classes = results[0]
    assert classes == [("objs", 0), ("signs", 1)]
    assert lemmas == ["Stop sign", "stop signs", "stop_signs"]
    # The dataset parent ("Signs", 0.8) beats the other dataset's head noun ("sign", 0.7).
    signs_concept = next(r.concept for r in store.dataset_classes("signs") if r.index == 0)
    assert parents == [signs_concept] and signs_concept.startswith("wn:")
    assert check_invariants(read_contents(store)).ok


def test_review_accept_and_move(wordnet_store: GraphStore, mapper: ClassMapper) -> None:
    from bamboo.errors import ConceptNotFound, InvariantViolation

    store = wordnet_store
    ls = LabelSet("toy", "classification", [RawClass(0, "Zzyzx Qwrtp"), RawClass(1, "crane")])
    import_label_set(store, ls, mapper)
    items = store.review_items()
    assert [p.id for p in items.placements] == ["bamboo:zzyzx-qwrtp"]
    version = store.get_meta("graph.version")
    aircraft = mapper.concept_of_synset("airplane.n.01") or ""
    store.review_placement("bamboo:zzyzx-qwrtp", by="ann-1", parent=aircraft)
    assert store.get_meta("graph.version") != version  # the running API sees it
    assert [p.id for p in store.parents("bamboo:zzyzx-qwrtp")] == [aircraft]
    assert store.concept("bamboo:zzyzx-qwrtp").extra["review"] == "accepted"
    assert store.review_items().placements == []
    # A person's decision survives a re-import.
    import_label_set(store, ls, mapper)
    assert [p.id for p in store.parents("bamboo:zzyzx-qwrtp")] == [aircraft]
    with pytest.raises(InvariantViolation, match="cycle"):
        store.review_placement("bamboo:zzyzx-qwrtp", by="ann-1", parent="bamboo:zzyzx-qwrtp")
    with pytest.raises(ConceptNotFound):
        store.review_placement("bamboo:nope", by="ann-1")
    with pytest.raises(ConfigurationError, match="only those are placed"):
        store.review_placement("wn:n02084071", by="ann-1", parent=aircraft)
    # A dataset class re-pointed by a person.
    bird = mapper.concept_of_synset("crane.n.05") or ""
    store.review_class("toy", 1, by="ann-1", concept=bird)
    (row,) = [r for r in store.dataset_classes("toy") if r.index == 1]
    assert (row.concept, row.method, row.confidence) == (bird, "person", 1.0)
    assert check_invariants(read_contents(store)).ok


@pytest.mark.shared_data("labelsets")
def test_inaturalist_species_lie_under_their_class(mapper: ClassMapper) -> None:
    """iNaturalist 2018's official categories (kingdom ... genus): species WordNet lacks are placed
    through their taxonomy; at least 95 % lie under their class's hand-checked synset."""
    from bamboo.graph.mapping.evaluate import evaluate_taxonomy, read_taxon_gold

    ls = create_loader("inaturalist-2018").load(SHARED_DATA / "labelsets")
    assert Path(ls.source).name == "inaturalist2018_categories.json" and len(ls.classes) == 8142
    assert dict(ls.classes[0].lineage)["class"] == "Polychaeta"
    gold = read_taxon_gold(Path(__file__).parent.parent / "benchmarks" / "gold" / "inat-classes.tsv")
    score = evaluate_taxonomy("inaturalist-2018", ls.classes, mapper, gold)
    assert score.class_total > 8000 and score.under_class / score.class_total >= 0.95
    assert score.under_kingdom / score.kingdom_total >= 0.99
    assert score.by_method.get("taxonomy genus", 0) > 1000


def test_binomial_placed_through_its_genus(mapper: ClassMapper) -> None:
    """A Latin binomial with no lineage in its dataset is placed through its genus in WordNet."""
    organism = [mapper.concept_of_synset("organism.n.01") or ""]
    (oak,) = mapper.map_all("trees", [RawClass(0, "Quercus zzyzxensis")], organism)
    assert oak.new and oak.placed_by == "taxonomy: genus Quercus"
    assert oak.parent == mapper.concept_of_synset("oak.n.02") and not oak.review


def test_description_compared_with_glosses(mapper: ClassMapper) -> None:
    """A dataset's own description of a class (a CSV column, LVIS's ``def``) is evidence: the words it
    shares with each sense's gloss."""
    alone = mapper.map("x", RawClass(0, "mouse"))
    assert alone.concept == "wn:n02330245"  # the rodent, by frequency
    described = mapper.map("x", RawClass(0, "mouse", description="a pointing device for a computer"))
    assert described.concept == "wn:n03793489" and "description shares computer, device" in described.note
    bird = mapper.map("x", RawClass(0, "crane", description="a large wading bird with a long neck"))
    assert bird.concept == mapper.concept_of_synset("crane.n.05")


def test_a_later_import_learns_the_taxa_of_lists_imported_before(
    driver: neo4j.Driver, fresh_database: str, wordnet_nouns: WordNetNouns
) -> None:
    """A list's lineage is stored with its classes, so a list imported later (not in the same call)
    places a Latin name WordNet lacks by it, as the build does: *Hericium* goes under *fungus*. A
    re-import of the lineage list replaces its stored lineage rather than adding to it."""
    from bamboo.graph.mapping.datasets import dataset_mapper

    store = GraphStore(driver, fresh_database)
    build_wordnet(store, wordnet_nouns)
    fungi = (("genus", "Hericium"), ("family", "Hericiaceae"), ("order", "Russulales"), ("kingdom", "Fungi"))
    inat = LabelSet("inat", "classification", [RawClass(0, "Hericium erinaceus", lineage=fungi)])
    import_label_set(store, inat, dataset_mapper(store, [inat], None))
    assert store.class_lineages() == [("inat", 0, "Hericium erinaceus", fungi)]

    later = LabelSet("later", "classification", [RawClass(0, "Hericium"), RawClass(1, "Zorbian widget")])
    mapper = dataset_mapper(store, [later], None)
    hericium, widget = mapper.map_all("later", later.classes)
    fungus = mapper.concept_of_synset("fungus.n.01")
    assert hericium.new and hericium.placed_by.startswith("taxonomy") and hericium.parent
    assert fungus in mapper.lexicon.ancestors(hericium.parent) | {hericium.parent}
    assert not widget.placed_by.startswith("taxonomy")
    without = ClassMapper(store.all_concepts(), store.all_is_a())  # nothing learned: not by taxonomy
    assert not without.map_all("later", later.classes)[0].placed_by.startswith("taxonomy")

    import_label_set(store, inat, dataset_mapper(store, [inat], None))
    assert len(store.class_lineages()) == 1
    assert check_invariants(read_contents(store)).ok
