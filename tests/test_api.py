"""The REST API against a real uvicorn server and the real embedded store (full WordNet)."""

from __future__ import annotations

import json

import httpx
import pytest

from bamboo.api import ServiceSettings, create_app
from bamboo.errors import InvariantViolation, MalformedFile, SnapshotError, WikidataError
from bamboo.graph.store.embedded import ServerInfo
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.hierarchy import Taxonomy
from bamboo.graph.taxonomy.related import DEFAULT_RULE, related_sets
from conftest import API_KEY, get_when_ready, serve_app, service_settings

DOG, CANINE, CAT, SHIP, GOLDEN, ENTITY = (
    "wn:n02084071",
    "wn:n02083346",
    "wn:n02121620",
    "wn:n04194289",
    "wn:n02099601",
    "wn:n00001740",
)


# --- reads on the session's WordNet database ------------------------------------------------


def test_health_and_stats(api_url: str) -> None:
    assert httpx.get(f"{api_url}/health").json()["build_status"] == "complete"
    stats = httpx.get(f"{api_url}/stats").json()
    assert stats["concepts"] >= 82115 and stats["is_a_edges"] == 84427
    assert stats["invariants"]["ok"] is True
    assert stats["concepts_by_source"]["wordnet"] == 82115


def test_concept_page(api_url: str) -> None:
    body = httpx.get(f"{api_url}/concepts/{DOG}").json()
    assert body["name"] == "dog" and body["synset"] == "dog.n.01"
    assert body["labels"]["en"] == ["dog", "domestic dog", "Canis familiaris"]
    assert CANINE in [p["id"] for p in body["parents"]]
    assert body["sources"] == ["wordnet"]
    assert body["tags"]["visual"]["decision"] is None and body["tags"]["visual"]["votes_left"] == 5


@pytest.mark.parametrize(
    "path",
    [
        "/concepts/{}",
        "/concepts/{}/ancestors",
        "/concepts/{}/children",
        "/concepts/{}/descendants",
        "/concepts/{}/tags",
    ],
)
def test_unknown_concept_is_404_naming_the_id(api_url: str, path: str) -> None:
    r = httpx.get(api_url + path.format("wn:n99999999"))
    assert r.status_code == 404
    assert r.json() == {"error": "ConceptNotFound", "detail": "unknown concept id 'wn:n99999999'"}
    bare = httpx.get(api_url + path.format("n02084071"))  # the WordNet id without its prefix
    assert bare.status_code == 404
    assert bare.json()["detail"] == "unknown concept id 'n02084071'; did you mean 'wn:n02084071'?"


def test_ancestors_children_descendants(api_url: str, store: GraphStore) -> None:
    ancestors = httpx.get(f"{api_url}/concepts/{DOG}/ancestors").json()
    assert {CANINE, ENTITY} <= {a["id"] for a in ancestors}
    children = httpx.get(f"{api_url}/concepts/{DOG}/children").json()
    assert "wn:n01322604" in {c["id"] for c in children}  # puppy
    got, cursor = [], None
    while True:
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        page = httpx.get(f"{api_url}/concepts/{CANINE}/descendants", params=params).json()
        got += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert got == sorted(r.id for r in store.iter_descendants(CANINE))


def test_path_and_lca(api_url: str) -> None:
    body = httpx.get(f"{api_url}/path", params={"from": DOG, "to": CAT}).json()
    assert body["path"][0] == DOG and body["path"][-1] == CAT
    assert body["lca"] == "wn:n02075296" and "carnivore" in body["names"]
    lca = httpx.get(f"{api_url}/lca", params={"ids": f"{DOG},{CAT},{SHIP}"}).json()
    assert (lca["lca"], lca["name"]) == ("wn:n00003553", "whole")  # artifacts and organisms meet at "whole"
    assert httpx.get(f"{api_url}/lca", params={"ids": "wn:n99999999"}).status_code == 404
    # on a DAG (dog is a canine and a domestic animal): lca(x, x) = x, and an ancestor is its own lca
    same = httpx.get(f"{api_url}/lca", params={"ids": f"{DOG},{DOG}"}).json()
    assert same["lca"] == DOG and same["lowest"] == [DOG]
    up = httpx.get(f"{api_url}/lca", params={"ids": "wn:n02099029,wn:n02099601"}).json()
    assert up["lca"] == "wn:n02099029"  # retriever, golden retriever
    path = httpx.get(f"{api_url}/path", params={"from": "wn:n02099029", "to": "wn:n02099601"}).json()["path"]
    assert path == ["wn:n02099029", "wn:n02099601"]


def test_search(api_url: str) -> None:
    hits = httpx.get(f"{api_url}/search", params={"q": "golden retr"}).json()
    assert hits[0]["id"] == GOLDEN and hits[0]["match"] == "prefix"
    hits = httpx.get(f"{api_url}/search", params={"q": "retreiver"}).json()  # typo
    assert hits[0]["id"] == "wn:n02099029" and hits[0]["match"] == "fuzzy"
    hits = httpx.get(f"{api_url}/search", params={"q": "Canis Familiaris"}).json()
    assert hits[0]["id"] == DOG and hits[0]["match"] == "exact"
    assert httpx.get(f"{api_url}/search", params={"q": "dog", "lang": "zh"}).json() == []
    # five concepts are named exactly "dog": the most common sense first, each with its gloss
    exact = [h for h in httpx.get(f"{api_url}/search", params={"q": "dog"}).json() if h["match"] == "exact"]
    assert len(exact) >= 5 and exact[0]["id"] == DOG
    assert all(h["gloss"] for h in exact) and len({h["gloss"] for h in exact}) == len(exact)


def test_related_against_an_id_list_matches_the_library(api_url: str, store: GraphStore) -> None:
    from bamboo.graph.taxonomy.invariants import read_contents
    from bamboo.graph.taxonomy.snapshot import taxonomy_from_contents

    tax: Taxonomy = taxonomy_from_contents(read_contents(store))
    space = [GOLDEN, CAT, SHIP, CANINE, "wn:n02115641"]  # ..., dingo
    r = httpx.post(f"{api_url}/related", json={"queries": [DOG, CAT], "label_space": space, "levels": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["related"][DOG] == [
        0,
        3,
        4,
    ]  # golden retriever (below), canine (above), dingo (sibling subtree)
    assert body["related"][CAT] == [1]
    assert body["related"] == related_sets(tax, [DOG, CAT], space, levels=1).as_dict()
    lvl0 = httpx.post(f"{api_url}/related", json={"queries": [DOG], "label_space": space, "levels": 0}).json()
    assert lvl0["related"][DOG] == [0, 3]
    assert body["levels"] == 1 and body["rule"] == "levels 1"
    # Without levels the service applies the library's default rule (a label-space share bound).
    default = httpx.post(f"{api_url}/related", json={"queries": [DOG, CAT], "label_space": space}).json()
    assert default["levels"] is None and default["rule"] == str(DEFAULT_RULE)
    assert default["related"] == related_sets(tax, [DOG, CAT], space).as_dict()


def test_related_errors(api_url: str) -> None:
    r = httpx.post(f"{api_url}/related", json={"queries": ["wn:n99999999"], "label_space": [DOG]})
    assert r.status_code == 404 and "wn:n99999999" in r.json()["detail"]
    r = httpx.post(f"{api_url}/related", json={"queries": [DOG], "label_space": "no-such-dataset"})
    assert r.status_code == 404 and "no-such-dataset" in r.json()["detail"]
    r = httpx.post(f"{api_url}/related", json={"queries": [], "label_space": [DOG]})
    assert r.status_code == 422 and r.json()["error"] == "ValidationError"


@pytest.mark.usefixtures("wordnet_build")
def test_library_errors_map_to_clear_status_codes(server: ServerInfo) -> None:
    """Each library error reaching the real app becomes its 4xx/503 answer, never a bare 500."""
    raised: dict[str, Exception] = {
        "invariant": InvariantViolation("moving it there makes a cycle"),
        "malformed": MalformedFile("classes.txt", 3, "expected one class name per line"),
        "snapshot": SnapshotError("snapshot cut.npz is unreadable or truncated"),
        "wikidata": WikidataError("https://query.wikidata.org/sparql answered HTTP 400: Bad Request"),
    }
    app = create_app(service_settings(server, server.database))

    def fail(kind: str) -> None:
        raise raised[kind]

    app.add_api_route("/_raise/{kind}", fail)
    expected = {"invariant": 409, "malformed": 422, "snapshot": 503, "wikidata": 503}
    with serve_app(app) as url:
        for kind, status in expected.items():
            r = httpx.get(f"{url}/_raise/{kind}")
            assert r.status_code == status, kind
            assert r.json() == {"error": type(raised[kind]).__name__, "detail": str(raised[kind])}


def test_write_endpoints_disabled_without_key(api_url: str) -> None:
    r = httpx.post(
        f"{api_url}/tags/votes", json={"annotator": "a", "concept": DOG, "tag": "visual", "value": True}
    )
    assert r.status_code == 403 and "BAMBOO_API_KEY" in r.json()["detail"]


def test_placeholder_api_key_rejected() -> None:
    for bad in ("changeme", "secret", "short"):
        with pytest.raises(ValueError, match="real secret"):
            ServiceSettings(api_key=bad)


# --- the writable database: datasets, tags, crawl ---------------------------------------------


def test_datasets(rw_url: str) -> None:
    names = {d["name"]: d for d in httpx.get(f"{rw_url}/datasets").json()}
    assert names["toy-cls"]["classes"] == 4 and names["toy-cls"]["task"] == "classification"
    classes = httpx.get(f"{rw_url}/datasets/toy-cls/classes").json()
    assert [c["index"] for c in classes] == [0, 1, 3, 4]
    assert classes[0] == {
        "index": 0,
        "raw_name": "class 0",
        "concept": GOLDEN,
        "name": "golden retriever",
        "method": "wnid",
        "confidence": 1.0,
        "review": None,
        "parent": None,
        "placed_by": None,
    }
    r = httpx.get(f"{rw_url}/datasets/nope/classes")
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    r = httpx.get(f"{rw_url}/datasets/TOY_cls/classes")  # the name as written elsewhere
    assert r.status_code == 404
    assert r.json()["detail"] == "unknown dataset 'TOY_cls'; did you mean 'toy-cls'?"
    page = httpx.get(f"{rw_url}/concepts/{GOLDEN}").json()
    assert page["datasets"] == [
        {"dataset": "toy-cls", "index": 0, "raw_name": "class 0", "method": "wnid", "confidence": 1.0}
    ]


def test_review_lists_accepts_and_moves(rw_url: str, driver, rw_database: str) -> None:  # type: ignore[no-untyped-def]
    """/review: a weak placement and a close sense, least sure first; a person (with the API key)
    accepts or moves them; bad requests are 4xx and change nothing."""
    import time

    store = GraphStore(driver, rw_database)
    new = "bamboo:zzyzx-qwrtp"
    store.import_dataset(
        "review-ds",
        {"task": "classification"},
        concepts=[
            {
                "id": new,
                "props": {
                    "name": "Zzyzx Qwrtp",
                    "source": "datasets",
                    "review": "check",
                    "placed_by": "nothing closer known",
                    "alternatives": [],
                },
            }
        ],
        placements=[
            {"id": new, "parent": ENTITY, "method": "import", "score": 0.1, "evidence": "root", "source": "t"}
        ],
        classes=[
            {"index": 0, "raw_name": "Zzyzx Qwrtp", "concept": new, "method": "new", "confidence": 0.1},
            {
                "index": 1,
                "raw_name": "crane",
                "concept": "wn:n03126707",
                "method": "sense",
                "confidence": 0.55,
                "review": "check",
                "alternatives": ["wn:n02012849"],
            },
        ],
    )
    body = httpx.get(f"{rw_url}/review", params={"dataset": "review-ds"}).json()
    assert [p["id"] for p in body["placements"]] == [new] and body["placements"][0]["parent"] == ENTITY
    assert [(c["index"], c["concept"]) for c in body["classes"]] == [(1, "wn:n03126707")]
    key = {"X-API-Key": API_KEY}
    move = {"concept": new, "parent": DOG, "reviewer": "ann-1"}
    assert httpx.post(f"{rw_url}/review/placements", json=move).status_code == 401
    bad = [
        ({**move, "parent": new}, 409),  # a cycle
        ({**move, "concept": DOG, "parent": CAT}, 422),  # WordNet's own concepts stay put
        ({**move, "concept": "bamboo:nope"}, 404),
        ({**move, "parent": "wn:n99999999"}, 404),
        ({**move, "concept": "x y"}, 422),
    ]
    for payload, status in bad:
        r = httpx.post(f"{rw_url}/review/placements", json=payload, headers=key)
        assert r.status_code == status, (payload, r.text)
    assert [p.id for p in store.parents(new)] == [ENTITY]  # nothing changed
    r = httpx.post(f"{rw_url}/review/placements", json=move, headers=key)
    assert r.status_code == 200, r.text
    assert [p.id for p in store.parents(new)] == [DOG]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the service's view follows graph.version
        page = httpx.get(f"{rw_url}/concepts/{new}").json()
        if [p["id"] for p in page.get("parents", [])] == [DOG]:
            break
        time.sleep(0.2)
    assert [p["id"] for p in page["parents"]] == [DOG]
    accept = {"dataset": "review-ds", "index": 1, "reviewer": "ann-1"}
    assert httpx.post(f"{rw_url}/review/classes", json=accept, headers=key).status_code == 200
    bird = {**accept, "concept": "wn:n02012849"}
    assert httpx.post(f"{rw_url}/review/classes", json=bird, headers=key).status_code == 200
    none_such = {**accept, "index": 99}
    assert httpx.post(f"{rw_url}/review/classes", json=none_such, headers=key).status_code == 404
    after = httpx.get(f"{rw_url}/review", params={"dataset": "review-ds"}).json()
    assert after == {"placements": [], "classes": []}
    want = [(new, "new"), ("wn:n02012849", "person")]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # dataset pages answer from the view, which follows graph.version
        classes = httpx.get(f"{rw_url}/datasets/review-ds/classes").json()
        if [(c["concept"], c["method"]) for c in classes] == want:
            break
        time.sleep(0.2)
    assert [(c["concept"], c["method"]) for c in classes] == want


def test_related_against_a_dataset_uses_its_class_indices(rw_url: str) -> None:
    body = httpx.post(f"{rw_url}/related", json={"queries": [DOG], "label_space": "toy-cls"}).json()
    assert body["label_space_size"] == 5
    assert body["related"][DOG] == [0, 4]  # golden retriever at 0, canine at 4 (index 2 is a gap)


def _vote(
    url: str, annotator: str, concept: str, tag: str, value: bool, key: str = API_KEY
) -> httpx.Response:
    return httpx.post(
        f"{url}/tags/votes",
        headers={"X-API-Key": key},
        json={"annotator": annotator, "concept": concept, "tag": tag, "value": value},
    )


def test_votes_three_of_five(rw_url: str) -> None:
    kitchen = "wn:n03619890"
    assert _vote(rw_url, "a1", kitchen, "visual", True, key="wrong-key-0123456789").status_code == 401
    assert _vote(rw_url, "a1", kitchen, "common", True).status_code == 409  # not visual yet
    assert _vote(rw_url, "a1", kitchen, "visual", True).json()["decision"] is None
    assert _vote(rw_url, "a2", kitchen, "visual", False).json()["decision"] is None
    assert _vote(
        rw_url, "a2", kitchen, "visual", True
    ).json() == {  # a2 changes their mind: replaced, not added
        "concept": kitchen,
        "tag": "visual",
        "yes": 2,
        "no": 0,
        "decision": None,
    }
    assert _vote(rw_url, "a3", kitchen, "visual", True).json()["decision"] is True
    tags = httpx.get(f"{rw_url}/concepts/{kitchen}/tags").json()
    assert tags["visual"]["yes"] == 3 and [v["annotator"] for v in tags["visual"]["votes"]] == [
        "a1",
        "a2",
        "a3",
    ]
    assert httpx.get(f"{rw_url}/concepts/{kitchen}").json()["visual"] is True
    for a in ("a1", "a2", "a3", "a4", "a5"):
        assert _vote(rw_url, a, kitchen, "common", a != "a5").status_code == 200
    assert httpx.get(f"{rw_url}/concepts/{kitchen}").json()["common"] is True
    r = _vote(rw_url, "a6", kitchen, "common", False)
    assert r.status_code == 409 and "already has 5 votes" in r.json()["detail"]
    r = _vote(rw_url, "a1", "wn:n99999999", "visual", True)
    assert r.status_code == 404


def test_tag_queue(rw_url: str) -> None:
    queue = httpx.get(f"{rw_url}/tags/queue", params={"limit": 20}).json()
    assert len(queue) == 20
    assert all(q["prior_visual"] >= queue[-1]["prior_visual"] for q in queue)
    tabby = "wn:n02123045"
    _vote(rw_url, "q1", tabby, "visual", True)
    queue = httpx.get(f"{rw_url}/tags/queue", params={"limit": 5}).json()
    assert queue[0]["id"] == tabby and queue[0]["votes"] == 1  # started ones first
    mine = httpx.get(f"{rw_url}/tags/queue", params={"limit": 5, "annotator": "q1"}).json()
    assert tabby not in [q["id"] for q in mine]
    common_queue = httpx.get(f"{rw_url}/tags/queue", params={"tag": "common"}).json()
    assert all(q["id"] != "wn:n03619890" for q in common_queue)  # decided


def test_crawl_classification_pages(rw_url: str) -> None:
    r = httpx.get(f"{rw_url}/crawl/classification", params={"limit": 50, "langs": "en"}, timeout=120)
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert len(lines) == 50
    cursor = r.headers["x-next-cursor"]
    assert cursor == lines[-1]["concept"]
    nxt = [
        json.loads(x)
        for x in httpx.get(
            f"{rw_url}/crawl/classification", params={"limit": 50, "after": cursor}
        ).text.splitlines()
    ]
    assert nxt[0]["concept"] > cursor
    retriever = [
        json.loads(x)
        for x in httpx.get(
            f"{rw_url}/crawl/classification", params={"limit": 1, "after": "wn:n02099600"}
        ).text.splitlines()
    ][0]
    assert retriever["concept"] == "wn:n02099601" and retriever["visual"]["p"] >= 0.5
    assert {
        "text": "golden retriever",
        "kind": "name",
        "lang": "en",
        "bare": "golden retriever",
    } in retriever["queries"]


def test_crawl_detection_is_bounded_and_deterministic(rw_url: str) -> None:
    params = {"scene_dataset": "toy-scenes", "per_concept": 2, "limit": 0}
    first = get_when_ready(f"{rw_url}/crawl/detection", **params).text  # encoder child
    assert first == httpx.get(f"{rw_url}/crawl/detection", params=params, timeout=300).text
    lines = [json.loads(x) for x in first.splitlines()]
    by_concept: dict[str, list[dict]] = {}
    for line in lines:
        by_concept.setdefault(line["concept"], []).append(line)
    assert set(by_concept) >= {DOG, "wn:n03001627", "wn:n02958343"}
    for rows in by_concept.values():
        assert sum(r["kind"] == "scene" for r in rows) == 2 and sum(r["kind"] == "pair" for r in rows) <= 2
    scenes = [r for r in by_concept[DOG] if r["kind"] == "scene"]
    assert {r["with"] for r in scenes} <= {"wn:n04334599", "wn:n08438533", "wn:n03961939"}
    assert all(r["query"].startswith("dog ") and r["evidence"]["score"] for r in scenes)
    r = httpx.get(f"{rw_url}/crawl/detection", params={"scene_dataset": "places365"})
    assert r.status_code == 404 and "places365" in r.json()["detail"]


def test_writes_by_other_processes_reach_the_cache(rw_url: str, driver, rw_database: str) -> None:  # type: ignore[no-untyped-def]
    import time

    store = GraphStore(driver, rw_database)
    store.import_dataset(
        "late-ds",
        {"task": "classification"},
        concepts=[],
        classes=[
            {"index": 7, "raw_name": "tabby", "concept": "wn:n02123045", "method": "wnid", "confidence": 1.0}
        ],
    )
    at = "2026-01-01T00:00:00+00:00"
    store.cast_vote(annotator="outside", concept="wn:n02123045", tag="visual", value=False, at=at)
    deadline = time.monotonic() + 60
    page: dict = {}
    while time.monotonic() < deadline:
        page = httpx.get(f"{rw_url}/concepts/wn:n02123045").json()
        if page["datasets"] and any(v["annotator"] == "outside" for v in page["tags"]["visual"]["votes"]):
            break
        time.sleep(0.5)
    assert {
        "dataset": "late-ds",
        "index": 7,
        "raw_name": "tabby",
        "method": "wnid",
        "confidence": 1.0,
    } in page["datasets"]
    assert any(v["annotator"] == "outside" and v["value"] is False for v in page["tags"]["visual"]["votes"])
