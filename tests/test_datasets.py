"""Class mapping (evidence order, domains, imaged senses) and dataset import into the real embedded store."""

from __future__ import annotations

from pathlib import Path

import neo4j
import pytest

from bamboo.errors import ConfigurationError
from bamboo.graph.build import build_wordnet
from bamboo.graph.datasets import PENDING_ID, ClassMapper, import_label_set
from bamboo.graph.invariants import check_invariants, content_hash, read_contents
from bamboo.graph.store import GraphStore
from bamboo.graph.wordnet import WordNetNouns
from bamboo.loaders import LabelSet, MalformedFile, RawClass, create_loader, list_loaders
from conftest import SHARED_DATA


@pytest.fixture(scope="module")
def mapper(wordnet_nouns: WordNetNouns) -> ClassMapper:
    from bamboo.graph.wordnet import read_sense_index

    concepts = [{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts]
    return ClassMapper(concepts, wordnet_nouns.edges, sense_index=read_sense_index())


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
    assert unknown.method == "pending" and unknown.note == "no WordNet lemma"
    bad = mapper.map("x", RawClass(5, "n99999999", wnid="n99999999"))
    assert bad.method == "pending" and "not in WordNet 3.0" in bad.note
    plural = mapper.map("x", RawClass(6, "golden retrievers"))
    assert (plural.concept, plural.confidence, plural.note) == ("wn:n02099601", 0.8, "singular form")


def test_dataset_domain_chooses_senses(mapper: ClassMapper) -> None:
    carnivore = [mapper.concept_of_synset("carnivore.n.01") or ""]
    siamese = mapper.map("pets", RawClass(0, "Siamese"), carnivore)  # the cat, not the language
    assert (siamese.concept, siamese.method, siamese.confidence) == ("wn:n02123597", "lemma", 0.85)
    bengal = mapper.map("pets", RawClass(1, "Bengal"), carnivore)  # its one sense is a region
    assert bengal.method == "pending" and "none under wn:n02075296" in bengal.note
    assert mapper.map("pets", RawClass(1, "Bengal")).concept == "wn:n08710535"  # without a domain


def test_senses_chosen_from_evidence(wordnet_nouns: WordNetNouns, mapper: ClassMapper) -> None:
    from bamboo.graph.wordnet import read_sense_index

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
    seal = mapper.map("oid", RawClass(1, "Seal (Animal)"))
    assert seal.concept in mapper.ancestors(seal.concept) and "wn:n00015388" in mapper.ancestors(seal.concept)
    jaguar = mapper.map("oid", RawClass(2, "Jaguar (Vehicle)"))  # WordNet's jaguar is only the cat
    assert jaguar.method == "pending" and "kind of 'vehicle'" in jaguar.note


def test_dataset_hierarchy_becomes_evidence(
    driver: neo4j.Driver, fresh_database: str, wordnet_nouns: WordNetNouns, mapper: ClassMapper
) -> None:
    store = GraphStore(driver, fresh_database)
    build_wordnet(store, wordnet_nouns)
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
        ("ds:oid:2", "wn:n02099029", "subcategory"),
        ("ds:oid:4", "wn:n05600637", "part"),
    }
    hound = store.concept("ds:oid:2").extra
    assert hound["suggested_parent"] == "wn:n02099029" and hound["suggested_by"] == "dataset hierarchy"
    assert import_label_set(store, ls, mapper) == report  # re-running: same evidence, not doubled
    assert [e for e in store.all_evidence() if e["dataset"] == "oid"] == evidence
    domain = LabelSet(
        "dogs", "classification", [RawClass(0, "Zzyzx terrier"), RawClass(1, "Zzyzx")], domain=("dog.n.01",)
    )
    import_label_set(store, domain, mapper)
    assert store.concept("ds:dogs:0").extra["suggested_by"] == "head noun"  # "terrier", under the domain
    assert store.concept("ds:dogs:0").extra["suggested_parent"] == "wn:n02092468"
    assert store.concept("ds:dogs:1").extra["suggested_by"] == "dataset domain"
    assert store.concept("ds:dogs:1").extra["suggested_parent"] == "wn:n02084071"


@pytest.mark.skipif(not (SHARED_DATA / "labelsets").exists(), reason="../shared/data/labelsets not present")
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


def test_import_is_idempotent_and_loses_nothing(
    driver: neo4j.Driver, fresh_database: str, wordnet_nouns: WordNetNouns, mapper: ClassMapper
) -> None:
    store = GraphStore(driver, fresh_database)
    build_wordnet(store, wordnet_nouns)
    ls = LabelSet(
        "toy",
        "classification",
        [
            RawClass(0, "n02084071", wnid="n02084071"),
            RawClass(1, "golden retriever"),
            RawClass(2, "crane"),
            RawClass(3, "Folland Gnat"),
        ],
    )
    report = import_label_set(store, ls, mapper)
    assert report.classes == 4 == sum(report.by_method.values())
    assert report.by_method == {"wnid": 1, "lemma": 1, "sense": 1, "pending": 1}

    def classes() -> list[tuple[str, int, str]]:
        return sorted((r["dataset"], r["index"], r["concept"]) for r in store.all_dataset_classes())

    first = content_hash(read_contents(store)), classes(), store.all_evidence()
    again = import_label_set(store, ls, mapper)
    assert again == report
    contents = read_contents(store)
    assert (content_hash(contents), classes(), store.all_evidence()) == first
    assert check_invariants(contents).ok
    classes = store.dataset_classes("toy")
    crane = classes[2]["concept"]
    assert [(c["index"], c["concept"], c["method"]) for c in classes] == [
        (0, "wn:n02084071", "wnid"),
        (1, "wn:n02099601", "lemma"),
        (2, crane, "sense"),
        (3, "ds:toy:3", "pending"),
    ]
    assert crane.startswith("wn:")
    assert [r.id for r in store.parents("ds:toy:3")] == [PENDING_ID]
    assert store.concept("ds:toy:3").extra["review"] == "pending"


def test_import_with_unknown_concept_writes_nothing(driver: neo4j.Driver, rw_database: str) -> None:
    from bamboo.errors import ConceptNotFound

    store = GraphStore(driver, rw_database)
    before = store.datasets()
    row = {"index": 0, "raw_name": "x", "concept": "wn:n99999999", "method": "wnid", "confidence": 1.0}
    with pytest.raises(ConceptNotFound, match="wn:n99999999"):
        store.import_dataset("broken", {"task": "classification"}, concepts=[], edges=[], classes=[row])
    assert store.datasets() == before
