"""``GET /health`` (liveness, from memory: never waits on the database) and ``GET /stats``."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bamboo import __version__
from bamboo.api.deps import Cache, Store, Tags, View

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when the database has not answered for 10 s")
    version: str
    build_status: str | None
    graph_version: str | None
    seconds_since_graph_poll: float = Field(description="when the database last answered the poller")


class Invariants(BaseModel):
    ok: bool
    acyclic: bool
    rooted: bool
    unique_ids: bool
    detail: str


class Stats(BaseModel):
    concepts: int
    is_a_edges: int
    concepts_by_source: dict[str, int]
    datasets: int
    dataset_classes: int
    votes: int
    visual: dict[str, int]
    common: dict[str, int]
    build_status: str | None
    graph_version: str | None
    invariants: Invariants


@router.get("/health", response_model=Health)
async def health(cache: Cache) -> Health:
    since = cache.seconds_since_poll
    return Health(
        status="ok" if since < 10 else "degraded",
        version=__version__,
        build_status=cache.meta("build.status"),
        graph_version=cache.meta("graph.version"),
        seconds_since_graph_poll=round(since, 3),
    )


@router.get("/stats", response_model=Stats, summary="Counts, tag decisions and invariants")
def stats(store: Store, cache: Cache, view: View, tags: Tags) -> Stats:
    by_source: dict[str, int] = {}
    for props in view.props.values():
        by_source[str(props.get("source"))] = by_source.get(str(props.get("source")), 0) + 1
    state = {cid: tags.decided(cid) for cid in tags.votes_of}
    datasets = store.datasets()

    def tally(which: int) -> dict[str, int]:
        values = [v[which] for v in state.values() if v[which] is not None]
        return {"yes": sum(1 for v in values if v), "no": sum(1 for v in values if not v)}

    inv = view.invariants
    return Stats(
        concepts=len(view.taxonomy),
        is_a_edges=view.edges,
        concepts_by_source=dict(sorted(by_source.items())),
        datasets=len(datasets),
        dataset_classes=sum(d["classes"] for d in datasets),
        votes=sum(len(v) for v in tags.votes_of.values()),
        visual=tally(0),
        common=tally(1),
        build_status=cache.meta("build.status"),
        graph_version=view.version,
        invariants=Invariants(
            ok=inv.ok,
            acyclic=inv.acyclic,
            rooted=inv.rooted,
            unique_ids=inv.unique_ids,
            detail=inv.describe(),
        ),
    )
