"""``/crawl``: query strings for crawling images (paper §4.1.1), streamed as NDJSON.

* Classification: one line per visual concept with its name, synonyms and translations.
  A concept counts as visual when its *visual* tag is decided true, or, with ``untagged=true``
  (default), when it has no decision yet and its lexicographer-file prior is at least 0.5.
* Detection: "common concept + scene word" (scene words: the classes of a scene dataset, Places365
  by default) and "common + common" pairs, ``per_concept`` of each, chosen by a fixed hash order so
  the output is deterministic. Common concepts: *common* decided true, or, with ``untagged=true``,
  undecided classes of the detection datasets in the graph.

Both page by concept id: ``after`` (exclusive) and ``limit``; the ``X-Next-Cursor`` response header
gives the next ``after`` (absent at the end). ``limit=0`` streams everything in one response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from bamboo.api.deps import Store, Tags, View
from bamboo.graph.model import keyset_page
from bamboo.graph.search import labels_of
from bamboo.graph.tags import visual_prior

__all__ = ["crawl_classification", "crawl_detection", "router"]

router = APIRouter(prefix="/crawl", tags=["crawl"])

NDJSON = "application/x-ndjson"
_NDJSON_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {NDJSON: {}}, "description": "one JSON per line"}
}


def _stream(lines: Iterator[dict[str, Any]], cursor: str | None) -> StreamingResponse:
    body = (json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    headers = {"X-Next-Cursor": cursor} if cursor else {}
    return StreamingResponse(body, media_type=NDJSON, headers=headers)


def _langs(langs: str) -> list[str]:
    return [code.strip() for code in langs.split(",") if code.strip()]


@router.get(
    "/classification",
    response_class=StreamingResponse,
    responses=_NDJSON_DOC,
    summary="Query strings per visual concept (NDJSON)",
)
def crawl_classification(
    view: View,
    tags: Tags,
    langs: Annotated[str, Query(max_length=100, examples=["en,zh,es,nl,it"])] = "en,zh,es,nl,it",
    untagged: bool = True,
    after: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=0, le=1_000_000)] = 1000,
) -> StreamingResponse:
    """Stream one line per visual concept with its names, synonyms and translations."""
    wanted = _langs(langs)

    def visual(cid: str) -> bool:
        decided = tags.decided(cid)[0] if cid in tags.votes_of else None
        if decided is not None:
            return decided
        return untagged and visual_prior(view.props[cid].get("lexname")) >= 0.5

    ids = [str(i) for i in view.taxonomy.ids if visual(str(i))]
    chunk, cursor = keyset_page(ids, after, limit)

    def lines() -> Iterator[dict[str, Any]]:
        for cid in chunk:
            props = view.props[cid]
            labels = labels_of(props)
            queries: list[dict[str, str]] = []
            seen: set[tuple[str, str]] = set()
            for lang in wanted:
                for n, text in enumerate(labels.get(lang, [])):
                    if (text.casefold(), lang) in seen:
                        continue
                    seen.add((text.casefold(), lang))
                    kind = ("name" if n == 0 else "synonym") if lang == "en" else "translation"
                    queries.append({"text": text, "kind": kind, "lang": lang})
            yield {"concept": cid, "name": props.get("name"), "queries": queries}

    return _stream(lines(), cursor)


def _ring(ids: list[str]) -> list[str]:
    return sorted(ids, key=lambda c: hashlib.sha1(c.encode()).hexdigest())


@router.get(
    "/detection",
    response_class=StreamingResponse,
    responses=_NDJSON_DOC,
    summary="Detection queries: common + scene word, common + common (NDJSON)",
)
def crawl_detection(
    store: Store,
    view: View,
    tags: Tags,
    scene_dataset: Annotated[str, Query(max_length=100)] = "places365",
    per_concept: Annotated[int, Query(ge=0, le=100)] = 5,
    untagged: bool = True,
    after: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=0, le=1_000_000)] = 1000,
) -> StreamingResponse:
    """Stream detection queries for common concepts: with scene words and with each other."""
    scenes = sorted({c.concept for c in store.dataset_classes(scene_dataset)})
    state = {cid: tags.decided(cid) for cid in tags.votes_of}
    common = {cid for cid, (_, c) in state.items() if c}
    if untagged:
        for d in store.datasets():
            if d.task == "detection":
                common |= {
                    c.concept
                    for c in store.dataset_classes(d.name)
                    if state.get(c.concept, (None, None))[1] is None
                }
    ids = sorted(common)
    chunk, cursor = keyset_page(ids, after, limit)
    scene_ring, common_ring = _ring(scenes), _ring(ids)
    common_pos = {cid: i for i, cid in enumerate(common_ring)}

    def name(cid: str) -> str:
        return str(view.props.get(cid, {}).get("name") or cid)

    def lines() -> Iterator[dict[str, Any]]:
        for cid in chunk:
            start = int(hashlib.sha1(cid.encode()).hexdigest(), 16)
            for t in range(min(per_concept, len(scene_ring))):
                scene = scene_ring[(start + t) % len(scene_ring)]
                yield {"concept": cid, "kind": "scene", "with": scene, "query": f"{name(cid)} {name(scene)}"}
            others = len(common_ring) - 1
            for t in range(min(per_concept, others)):
                other = common_ring[(common_pos[cid] + 1 + t) % len(common_ring)]
                yield {"concept": cid, "kind": "pair", "with": other, "query": f"{name(cid)} {name(other)}"}

    return _stream(lines(), cursor)
