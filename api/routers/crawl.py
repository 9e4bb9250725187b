"""``/crawl``: query strings for crawling images (paper §4.1.1), streamed as NDJSON.

* Classification: one line per visual concept with its name, synonyms and translations. A concept
  counts as visual when its *visual* tag is decided true, or, with ``untagged=true`` (default),
  when it has no decision yet and its prior P(visual) is at least 0.5 (a logistic model over the
  graph's evidence, :func:`bamboo.graph.crawl.plan.visual_probability`). A word that several visual
  concepts carry never goes out bare: it carries a distinguishing hypernym (``crane bird``), and the
  query says which part is the bare word.
* Detection: over the common vocabulary (decided *common*, or with ``untagged=true`` undecided
  concepts whose commonness reaches ``min_score``; ``/crawl/vocabulary`` lists it with evidence),
  "common + scene word" (the classes of a scene dataset, Places365 by default) and "common +
  common" pairs, ``per_concept`` of each, ranked best first by relatedness and scene frequency,
  each with its score and evidence (:mod:`bamboo.graph.crawl.pairs`). Deterministic for a graph version.
  The pair plan of a vocabulary is built once, in the background (one build at a time, at most
  :data:`~bamboo.graph.crawl.plan.MAX_PAIR_VOCABULARY` concepts); until it is ready the answer is 503
  with ``Retry-After`` and what it waits for, so no request waits on another's build.

All page by concept id: ``after`` (exclusive) and ``limit``; the ``X-Next-Cursor`` response header
gives the next ``after`` (absent at the end). ``limit=0`` streams everything in one response.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from bamboo.api.cache import DEFAULT_SCENES
from bamboo.api.deps import PlannedView, Tags
from bamboo.errors import DatasetNotFound
from bamboo.graph.crawl.plan import COMMON_MIN_SCORE
from bamboo.graph.taxonomy.model import keyset_page

__all__ = ["crawl_classification", "crawl_detection", "crawl_vocabulary", "router"]

router = APIRouter(prefix="/crawl", tags=["crawl"])

NDJSON = "application/x-ndjson"
_NDJSON_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {NDJSON: {}}, "description": "one JSON per line"}
}


#: Lines per chunk of a streamed answer. Starlette runs each step of a synchronous body in the thread
#: pool; a step per line made a 50-line page 50 thread hops, each waiting on the GIL behind every other
#: request's thread (p99 of ``/crawl/classification?limit=50`` 560 ms on the idle service, 14 client
#: threads on 2 cores; see ``benchmarks/soak.py``).
CHUNK_LINES = 256


def _chunks(lines: Iterator[dict[str, Any]]) -> Iterator[str]:
    """NDJSON text of ``lines``, :data:`CHUNK_LINES` lines per chunk."""
    while batch := list(itertools.islice(lines, CHUNK_LINES)):
        yield "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in batch)


def _stream(lines: Iterator[dict[str, Any]], cursor: str | None) -> StreamingResponse:
    body = _chunks(lines)
    headers = {"X-Next-Cursor": cursor} if cursor else {}
    return StreamingResponse(body, media_type=NDJSON, headers=headers)


def _langs(langs: str) -> list[str]:
    return [code.strip() for code in langs.split(",") if code.strip()]


def _decided(tags: Any) -> dict[str, tuple[bool | None, bool | None]]:
    return {cid: tags.decided(cid) for cid in tags.votes_of}


@router.get(
    "/classification",
    response_class=StreamingResponse,
    responses=_NDJSON_DOC,
    summary="Query strings per visual concept (NDJSON)",
)
def crawl_classification(
    view: PlannedView,
    tags: Tags,
    langs: Annotated[str, Query(max_length=100, examples=["en,zh,es,nl,it"])] = "en,zh,es,nl,it",
    untagged: bool = True,
    after: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=0, le=1_000_000)] = 1000,
) -> StreamingResponse:
    """Stream one line per visual concept with its names, synonyms and translations; a word
    other visual concepts share carries a distinguishing qualifier."""
    wanted = _langs(langs)
    plan = view.crawl
    decided = _decided(tags)
    chunk, cursor = keyset_page(plan.visual_ids(decided, untagged=untagged), after, limit)
    words = plan.words(decided)

    def lines() -> Iterator[dict[str, Any]]:
        for cid in chunk:
            value = decided.get(cid, (None, None))[0]
            yield {
                "concept": cid,
                "name": view.taxonomy.name(cid),
                "visual": {"decided": value, "p": round(plan.visual_p(cid), 4)},
                "queries": [form.to_dict() for form in words.forms(cid, wanted)],
            }

    return _stream(lines(), cursor)


@router.get("/concepts/{concept_id}", summary="One concept's crawl queries, and why it is crawled or not")
def crawl_concept(
    concept_id: Annotated[str, Path(description="Concept id", examples=["wn:n02084071"])],
    view: PlannedView,
    tags: Tags,
    langs: Annotated[str, Query(max_length=100, examples=["en,zh,es,nl,it"])] = "en,zh,es,nl,it",
) -> dict[str, Any]:
    """The query strings one concept is crawled with (classification), whether it is crawled (its
    *visual* decision or prior), and whether it is in the common vocabulary detection pairs come
    from, with the evidence. 404 for an unknown id."""
    tax = view.taxonomy
    tax.index(concept_id)  # an unknown id is a 404 naming it
    plan = view.crawl
    decided = _decided(tags)
    visual, common = decided.get(concept_id, (None, None))
    return {
        "concept": concept_id,
        "name": tax.name(concept_id),
        "visual": {
            "decided": visual,
            "p": round(plan.visual_p(concept_id), 4),
            "crawled": plan.is_visual(concept_id, decided),
        },
        "queries": [form.to_dict() for form in plan.words(decided).forms(concept_id, _langs(langs))],
        "common": {"decided": common, "in_vocabulary": concept_id in set(plan.vocabulary(decided))}
        | plan.common_evidence(concept_id),
    }


@router.get(
    "/vocabulary",
    response_class=StreamingResponse,
    responses=_NDJSON_DOC,
    summary="The common (entry-level object) vocabulary with its evidence (NDJSON)",
)
def crawl_vocabulary(
    view: PlannedView,
    tags: Tags,
    min_score: Annotated[float, Query(ge=0, le=100)] = COMMON_MIN_SCORE,
    after: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=0, le=1_000_000)] = 1000,
) -> StreamingResponse:
    """Stream the concepts detection queries are built from, with why each is common."""
    plan = view.crawl
    decided = _decided(tags)
    chunk, cursor = keyset_page(plan.vocabulary(decided, min_score=min_score), after, limit)

    def lines() -> Iterator[dict[str, Any]]:
        for cid in chunk:
            yield {
                "concept": cid,
                "name": view.taxonomy.name(cid),
                "common": {"decided": decided.get(cid, (None, None))[1]} | plan.common_evidence(cid),
            }

    return _stream(lines(), cursor)


@router.get(
    "/detection",
    response_class=StreamingResponse,
    responses=_NDJSON_DOC,
    summary="Detection queries: common + scene word, common + common, ranked (NDJSON)",
)
def crawl_detection(
    view: PlannedView,
    tags: Tags,
    scene_dataset: Annotated[str, Query(max_length=100)] = DEFAULT_SCENES,
    per_concept: Annotated[int, Query(ge=0, le=100)] = 5,
    untagged: bool = True,
    min_score: Annotated[float, Query(ge=0, le=100)] = COMMON_MIN_SCORE,
    after: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=0, le=1_000_000)] = 1000,
) -> StreamingResponse:
    """Stream, per common concept, its best scenes and its best partner concepts, best first."""
    if scene_dataset not in view.datasets:
        raise DatasetNotFound(scene_dataset, known=view.datasets)
    scenes = sorted({c.concept for c in view.dataset_classes(scene_dataset)})
    plan = view.crawl
    decided = _decided(tags)
    vocab = plan.vocabulary(decided, min_score=min_score if untagged else math.inf)
    chunk, cursor = keyset_page(vocab, after, limit)
    # never waits on a build: a plan not built yet starts building and the answer is 503 with
    # Retry-After saying what it waits for; a vocabulary too large to plan is 422
    planner = plan.planner_nowait(vocab, scenes) if chunk and per_concept else None
    words = plan.words(decided)

    def word(cid: str) -> str:
        forms = words.forms(cid, ["en"])
        return forms[0].text if forms else str(view.props.get(cid, {}).get("name") or cid)

    def lines() -> Iterator[dict[str, Any]]:
        if planner is None:
            return
        for cid in chunk:
            pairs = planner.scene_pairs(cid, per_concept) + planner.object_pairs(cid, per_concept)
            for rank, pair in enumerate(pairs):
                yield {
                    "concept": cid,
                    "kind": pair.kind,
                    "with": pair.other,
                    "rank": rank if pair.kind == "scene" else rank - min(per_concept, len(scenes)),
                    "query": f"{word(cid)} {word(pair.other)}",
                    "evidence": planner.evidence(pair),
                }

    return _stream(lines(), cursor)
