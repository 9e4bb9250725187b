"""``GraphCache``: the service's in-memory view of the label system.

Reads (concept pages, hierarchy, search, related sets, crawl queries) are answered from memory:
a :class:`~bamboo.graph.view.GraphView` (taxonomy as CSR arrays, concept properties, dataset
classes, search index), rebuilt when the ``graph.version`` meta value changes (builds and
dataset imports bump it), and a :class:`TagView` (current votes and decisions), reloaded when
``tags.version`` changes (every vote bumps it). A background thread checks both versions every
``refresh_s`` seconds, so a write made by another process is visible here within about
``refresh_s``, and no request ever waits on the database for it; a vote cast through this process
reloads the tag view at once (read-your-writes).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bamboo.api.malloc import release_free_memory
from bamboo.errors import GraphUnavailable
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.model import Vote
from bamboo.graph.taxonomy.packed import cyclic_gc_paused
from bamboo.graph.taxonomy.tags import Tag, Tally, tally
from bamboo.graph.view import GraphView, load_view, read_view, write_view

__all__ = ["DEFAULT_SCENES", "GraphCache", "TagView"]

#: The scene dataset of detection crawl queries unless a request names another.
DEFAULT_SCENES = "places365"

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class TagView:
    """The current votes, reloaded at each ``tags.version``.

    Attributes:
        version: The ``tags.version`` meta value it was loaded at.
        votes_of: Concept id -> its current votes, ordered by tag and annotator.
    """

    version: str | None
    votes_of: dict[str, list[Vote]] = field(default_factory=dict)

    def votes(self, concept_id: str, tag: Tag) -> list[Vote]:
        """The current votes on one tag of one concept."""
        return [v for v in self.votes_of.get(concept_id, []) if v.tag == tag]

    def tally(self, concept_id: str, tag: Tag) -> Tally:
        """The 3-of-5 tally of one tag of one concept."""
        return tally(v.value for v in self.votes(concept_id, tag))

    def decided(self, concept_id: str) -> tuple[bool | None, bool | None]:
        """The *visual* and *common* decisions of a concept (None: undecided)."""
        return self.tally(concept_id, "visual").value, self.tally(concept_id, "common").value


class GraphCache:
    """The in-memory views, kept fresh by a poller thread; no request ever waits on the database.

    :meth:`start` loads both views (call it off the event loop) and starts the poller, which checks
    the version meta values every ``refresh_s`` seconds and rebuilds what changed while requests
    keep reading the old view. :meth:`invalidate_tags` reloads the votes at once (read-your-writes
    after a vote; called from a worker thread).
    """

    def __init__(
        self, store: GraphStore, *, refresh_s: float = 1.0, view_dir: Path | None = None, database: str = ""
    ) -> None:
        self._store = store
        self._view_dir = view_dir
        self._database = database
        self.loaded_from: str | None = None
        self._refresh_s = refresh_s
        self._lock = threading.Lock()
        self._view: GraphView | None = None
        self._tags: TagView | None = None
        self._tags_tickets = self._tags_installed = 0  # see _reload_tags
        self._metas: dict[str, str | None] = {}
        self._last_ok = 0.0
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        # one warming thread at a time, always on the newest view: changes that come faster than a
        # warm-up (a burst of imports) must not stack up warm-ups, each holding a whole view
        self._warm_lock = threading.Lock()
        self._warm_next: tuple[GraphView, bool] | None = None
        self._planned: GraphView | None = None  # the newest view whose crawl plan is computed
        self._warming = False
        self._warmed = False  # a warm-up ended: the view it replaced is freed (see _release)

    def start(self) -> None:
        """Load the views now and keep them fresh in a background thread."""
        self._poll(force=True)
        self._poller = threading.Thread(target=self._run, name="bamboo-graph-poller", daemon=True)
        self._poller.start()

    def stop(self) -> None:
        """Stop the poller thread (waits up to 5 s for it)."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._refresh_s):
            try:
                self._poll()
            except Exception as exc:  # noqa: BLE001 - the poller must survive a database outage
                log.warning("graph poll failed (serving the last view): %s", exc)
            self._release()

    def _release(self) -> None:
        """One poll after a warm-up, give the memory of the view it replaced back to the system (the
        requests still reading that view have ended by then). Freed, a view's memory stays in
        malloc's heaps as free chunks, and the high-water mark of the swaps would stay in the
        service's RSS (see :func:`~bamboo.api.malloc.release_free_memory`)."""
        with self._warm_lock:
            if not self._warmed:
                return
            self._warmed = False
        took = release_free_memory()
        if took is not None:
            log.debug("gave malloc's free pages back to the system in %.1f ms", took * 1000)

    def _load_graph(self, version: str | None) -> tuple[GraphView, bool]:
        """The view at ``version`` and whether it came from the database (not a saved file)."""
        with cyclic_gc_paused():
            if self._view_dir is not None:
                saved = read_view(self._view_dir, self._database, version)
                if saved is not None:
                    self.loaded_from = "file"
                    return saved, False
            self.loaded_from = "database"
            return load_view(self._store, version), True

    def _reload_tags(self, version: str | None) -> None:
        """Read every vote and install the result unless a load that started later is already
        installed: loads overlap (the poller, each vote's read-your-writes reload), and the one
        that finishes last is not always the one that read last."""
        with self._lock:
            self._tags_tickets += 1
            ticket = self._tags_tickets
        votes: dict[str, list[Vote]] = defaultdict(list)
        for row in sorted(self._store.all_votes(), key=lambda r: (r.concept, r.tag, r.annotator)):
            votes[row.concept].append(row)
        tags = TagView(version=version, votes_of=dict(votes))
        with self._lock:
            if ticket > self._tags_installed:
                self._tags, self._tags_installed = tags, ticket

    def _poll(self, *, force: bool = False) -> None:
        metas = self._store.get_metas(["graph.version", "tags.version", "build.status"])
        if force or self._view is None or metas["graph.version"] != self._view.version:
            view, fresh = self._load_graph(metas["graph.version"])
            with self._lock:
                self._view = view
            # The view is millions of long-lived objects; without this, every full collection walks
            # them all (a pause of tens of ms in whatever request holds the GIL: the latency tail).
            # Frozen objects are still freed by reference counting when a later view replaces it.
            gc.freeze()
            self._schedule_warm(view, fresh)
        if force or self._tags is None or metas["tags.version"] != self._tags.version:
            self._reload_tags(metas["tags.version"])
        with self._lock:
            self._metas = metas
            self._last_ok = time.monotonic()

    def _schedule_warm(self, view: GraphView, fresh: bool) -> None:
        with self._warm_lock:
            self._warm_next = (view, fresh)
            if self._warming:
                return  # the running warm-up takes the newest view when it is done
            self._warming = True
        threading.Thread(target=self._warm_loop, name="bamboo-crawl-warm", daemon=True).start()

    def _warm_loop(self) -> None:
        while True:
            with self._warm_lock:
                job, self._warm_next = self._warm_next, None
                if job is None or self._stop.is_set():
                    self._warming = False
                    return
            self._warm(*job)
            with self._warm_lock:
                self._warmed = True

    def _warm(self, view: GraphView, fresh: bool) -> None:
        """Save a view just read from the database (when a view folder is set), then compute its
        crawl plan, tag-queue order and default pair scorer off the request path (the first
        ``/crawl/detection`` would otherwise wait for the sentence-embedding model)."""
        if fresh and self._view_dir is not None:
            try:
                write_view(view, self._view_dir, self._database)
            except (OSError, ValueError) as exc:
                log.warning("could not save the view to %s: %s", self._view_dir, exc)
        if self._view is not view or view is None:
            return  # a newer view came meanwhile: warming this one would only hold it in memory
        try:
            plan = view.crawl
            _ = view.queue_order
            tags = self._tags
            plan.words({c: tags.decided(c) for c in tags.votes_of} if tags else {}, wait=True)
            self._planned = view
            if DEFAULT_SCENES in view.datasets and not self._stop.is_set():
                tags = self._tags
                decided = {c: tags.decided(c) for c in tags.votes_of} if tags else {}
                scenes = sorted({c.concept for c in view.dataset_classes(DEFAULT_SCENES)})
                if view is self._view:
                    plan.planner(plan.vocabulary(decided), scenes)
        except Exception as exc:  # noqa: BLE001 - a request computes it again and reports the error
            log.warning("warming the crawl plan failed: %s", exc)

    def get(self) -> GraphView:
        """The current graph view.

        Raises:
            GraphUnavailable: nothing is loaded yet.
        """
        return _loaded(self._view)

    def planned(self) -> GraphView:
        """The newest view whose crawl plan and queue order are computed, else the current view
        (whose plan is then computed by the first request: only before the first warm-up ends)."""
        planned = self._planned
        return planned if planned is not None else self.get()

    def tags(self) -> TagView:
        """The current tag view.

        Raises:
            GraphUnavailable: nothing is loaded yet.
        """
        return _loaded(self._tags)

    def meta(self, key: str) -> str | None:
        """A meta value as of the last successful poll."""
        return self._metas.get(key)

    @property
    def seconds_since_poll(self) -> float:
        """Seconds since the database last answered the poller."""
        return time.monotonic() - self._last_ok

    def invalidate_tags(self) -> None:
        """Reload votes now (after a vote through this process)."""
        self._reload_tags(self._store.get_metas(["tags.version"])["tags.version"])


def _loaded(value: T | None) -> T:
    if value is None:
        raise GraphUnavailable("the label system is not loaded yet")
    return value
