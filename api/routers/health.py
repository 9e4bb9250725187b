"""``GET /health`` (liveness, from memory: never waits on the database) and ``GET /stats``."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bamboo import __version__
from bamboo.api.deps import Cache, PlannedView, Store, Tags, View
from bamboo.graph.crawl.plan import prior_agreement
from bamboo.graph.store.stats import invariants_summary
from bamboo.graph.taxonomy.tags import Tag

__all__ = ["Health", "Invariants", "Stats", "health", "router", "stats"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """Liveness and what the service has loaded."""

    status: str = Field(description="ok, or degraded when the database has not answered for 10 s")
    version: str
    build_status: str | None
    graph_version: str | None
    seconds_since_graph_poll: float = Field(description="when the database last answered the poller")


class Invariants(BaseModel):
    """The graph's invariant check."""

    ok: bool
    acyclic: bool
    rooted: bool
    unique_ids: bool
    detail: str


class PriorAgreementOut(BaseModel):
    """The visual prior scored against the *visual* decisions so far."""

    decided: int = Field(description="concepts with a decided visual tag")
    agree: int = Field(description="of those, on the same side of 0.5 as the prior")
    accuracy: float | None
    brier: float | None = Field(description="mean squared error of P(visual)")


class Stats(BaseModel):
    """Counts, tag decisions and invariants of the label system."""

    concepts: int
    is_a_edges: int
    concepts_by_source: dict[str, int]
    datasets: int
    dataset_classes: int
    votes: int
    visual: dict[str, int]
    common: dict[str, int]
    visual_prior: PriorAgreementOut
    build_status: str | None
    graph_version: str | None
    invariants: Invariants


@router.get("/health", response_model=Health)
async def health(cache: Cache) -> Health:
    """Liveness, answered from memory: degraded when the database has not answered for 10 s."""
    since = cache.seconds_since_poll
    return Health(
        status="ok" if since < 10 else "degraded",
        version=__version__,
        build_status=cache.meta("build.status"),
        graph_version=cache.meta("graph.version"),
        seconds_since_graph_poll=round(since, 3),
    )


@router.get("/stats", response_model=Stats, summary="Counts, tag decisions and invariants")
def stats(store: Store, cache: Cache, view: View, planned: PlannedView, tags: Tags) -> Stats:
    """Counts from the cached views (see :func:`bamboo.graph.store.stats.graph_stats` for the CLI's)."""
    datasets = store.datasets()

    def decisions(tag: Tag) -> dict[str, int]:
        values = [d for cid in tags.votes_of if (d := tags.tally(cid, tag).value) is not None]
        return {"yes": sum(values), "no": len(values) - sum(values)}

    return Stats(
        concepts=len(view.taxonomy),
        is_a_edges=view.edges,
        concepts_by_source=view.concepts_by_source,
        datasets=len(datasets),
        dataset_classes=sum(d.classes for d in datasets),
        votes=sum(len(v) for v in tags.votes_of.values()),
        visual=decisions("visual"),
        common=decisions("common"),
        visual_prior=PriorAgreementOut(
            **dataclasses.asdict(prior_agreement(planned.crawl, {c: tags.decided(c) for c in tags.votes_of}))
        ),
        build_status=cache.meta("build.status"),
        graph_version=view.version,
        invariants=Invariants(**invariants_summary(view.invariants)),
    )
