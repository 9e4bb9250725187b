"""``GraphStore``: the label system's reads and writes over a ``neo4j.Driver``.

The store is handed its driver and database name; it does not own configuration and does not
close the driver. Every statement comes from :mod:`bamboo.graph.store.cypher`.

Writes that check a rule first (a tag vote against the 3-of-5 cap, a placement against an acyclic
IS_A graph) check and write in one transaction that claims a guard of the rule's key before it
reads, queued by key inside the process and retried on a write conflict with other processes
(:mod:`bamboo.graph.store.locks`), so neither a race past the rule nor a refusal for a mere conflict
can happen.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, LiteralString, cast

import neo4j
from neo4j.exceptions import AuthError, ClientError, Neo4jError, ServiceUnavailable, SessionExpired

from bamboo.errors import (
    ConceptNotFound,
    ConfigurationError,
    DatasetNotFound,
    GraphBusy,
    GraphUnavailable,
    InvariantViolation,
    QueryError,
    VoteRejected,
    printable,
)
from bamboo.graph.store import cypher
from bamboo.graph.store.locks import KeyedLocks, is_conflict, retry_delays
from bamboo.graph.taxonomy.model import (
    ClassMapping,
    Concept,
    ConceptRef,
    Dataset,
    DatasetClass,
    Page,
    ReviewClass,
    ReviewItems,
    ReviewPlacement,
    Vote,
    keyset_page,
)
from bamboo.graph.taxonomy.tags import MAX_VOTES, Tag, TagDecision, tally

__all__ = ["GraphStore"]

ProgressFn = Callable[[int], None]
_Tx = neo4j.ManagedTransaction | neo4j.Transaction

#: The guard of every write that gives a concept a parent: one at a time, so that two moves that
#: are each fine cannot together close a cycle.
IS_A_GUARD = "is_a"


def _vote_guards(concept: str, tag: Tag) -> list[str]:
    # A common vote reads the visual decision, so it queues behind the concept's visual votes too.
    keys = [f"vote:{concept}:visual"]
    return keys if tag == "visual" else [*keys, f"vote:{concept}:common"]


def _refuse_cycles(tx: _Tx, rows: Sequence[dict[str, Any]], batch_size: int) -> None:
    """Raise :class:`InvariantViolation` when one of the IS_A edges ``rows`` (``{child, parent}``)
    closes a cycle; run after writing them, in their transaction, so that rows closing a cycle
    among themselves are found too (the caller's transaction is then rolled back)."""
    for chunk in _batches(rows, batch_size):
        found = tx.run(
            cypher.CYCLE_EDGES, rows=[{"child": r["child"], "parent": r["parent"]} for r in chunk]
        ).data()
        if found:
            child, parent = found[0]["child"], found[0]["parent"]
            raise InvariantViolation(
                f"{parent} lies under {child} (or is it): {child} cannot go under it without an IS_A "
                "cycle; nothing was written"
            )


def _batches(rows: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _bump_graph_version(tx: _Tx, why: str) -> None:
    """Every write that changes the graph sets a new ``graph.version`` in its own transaction, so a
    running service reloads its view within a second (the one mechanism for all writers)."""
    tx.run(cypher.SET_META, key="graph.version", value=f"{why}:{uuid.uuid4().hex}").consume()


class GraphStore:
    """Reads and writes of the label system.

    Args:
        driver: An open driver (Neo4j or the embedded ArcadeDB server).
        database: The database to use.
        conflict_attempts: Tries of a rule-checked write that meets concurrent writes of the same
            key before it gives up with :class:`GraphBusy`.
    """

    def __init__(self, driver: neo4j.Driver, database: str, *, conflict_attempts: int = 12) -> None:
        if conflict_attempts < 1:
            raise ValueError("conflict_attempts must be at least 1")
        self._driver = driver
        self._database = database
        self._conflict_attempts = conflict_attempts
        self._locks = KeyedLocks()
        self._guards_ready = threading.Event()
        self._guards_lock = threading.Lock()

    @property
    def driver(self) -> neo4j.Driver:
        """The driver the store was handed (the store does not close it)."""
        return self._driver

    @property
    def database(self) -> str:
        """The name of the database the store reads and writes."""
        return self._database

    # --- plumbing ---------------------------------------------------------------------------

    def _translate(self, exc: Exception) -> Exception:
        if isinstance(exc, (ServiceUnavailable, SessionExpired, AuthError)):
            return GraphUnavailable(f"graph database unavailable: {exc}")
        if isinstance(exc, ClientError) and "DatabaseNotFound" in (exc.code or ""):
            return GraphUnavailable(
                f"database {self._database!r} does not exist on the graph server; create it or pick another "
                "(--database / BAMBOO_GRAPH_DATABASE)"
            )
        if isinstance(exc, Neo4jError):
            return QueryError(f"{exc.code}: {exc.message}")
        return exc

    def _read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            return tx.run(cast(LiteralString, query), params).data()

        try:
            with self._driver.session(database=self._database, default_access_mode=neo4j.READ_ACCESS) as s:
                return s.execute_read(work)
        except (Neo4jError, ServiceUnavailable, SessionExpired) as exc:
            raise self._translate(exc) from exc

    def _scan(self, query: str, consume: Callable[[neo4j.Record], None], **params: Any) -> int:
        """Run a read query and hand each record to ``consume`` as it arrives (nothing is
        collected); returns the number of records. One auto-commit read, not retried: a retry
        would hand ``consume`` the same rows twice."""
        try:
            with self._driver.session(database=self._database, default_access_mode=neo4j.READ_ACCESS) as s:
                n = 0
                for record in s.run(cast(LiteralString, query), params):
                    consume(record)
                    n += 1
                return n
        except (Neo4jError, ServiceUnavailable, SessionExpired) as exc:
            raise self._translate(exc) from exc

    def _write(self, query: str, **params: Any) -> None:
        def work(tx: neo4j.ManagedTransaction) -> None:
            tx.run(cast(LiteralString, query), params).consume()

        try:
            with self._driver.session(database=self._database) as s:
                s.execute_write(work)
        except (Neo4jError, ServiceUnavailable, SessionExpired) as exc:
            raise self._translate(exc) from exc

    def _write_tx(self, work: Callable[[neo4j.ManagedTransaction], Any]) -> Any:
        try:
            with self._driver.session(database=self._database) as s:
                return s.execute_write(work)
        except (Neo4jError, ServiceUnavailable, SessionExpired) as exc:
            raise self._translate(exc) from exc

    def _ensure_guard_schema(self) -> None:
        """Make the guards' unique constraint once per store (a store built earlier lacks it)."""
        if self._guards_ready.is_set():
            return
        with self._guards_lock:
            if not self._guards_ready.is_set():
                try:
                    self._write(cypher.GUARD_SCHEMA)
                except QueryError:  # another process made it at the same moment; now it is there
                    self._write(cypher.GUARD_SCHEMA)
                self._guards_ready.set()

    def _guarded_write(self, keys: Sequence[str], work: Callable[[neo4j.Transaction], Any]) -> Any:
        """Run ``work`` in one write transaction that first claims the guards ``keys``: queued
        behind this store's other writes of those keys, and retried from the start (``work`` reads
        again what it checks) when another process's write of them commits first.

        Raises:
            GraphBusy: still conflicting after ``conflict_attempts`` tries.
        """
        self._ensure_guard_schema()
        delays = retry_delays(self._conflict_attempts)
        with self._locks.hold(*keys):
            while True:
                try:
                    with self._driver.session(database=self._database) as s, s.begin_transaction() as tx:
                        tx.run(cypher.CLAIM_GUARDS, keys=sorted(set(keys)), token=uuid.uuid4().hex).consume()
                        result = work(tx)
                        tx.commit()
                        return result
                except Neo4jError as exc:
                    if not is_conflict(exc):
                        raise self._translate(exc) from exc
                    delay = next(delays, None)
                    if delay is None:
                        raise GraphBusy(
                            f"a write of {printable(', '.join(keys), 200)} met concurrent writes "
                            f"{self._conflict_attempts} times; nothing was written, retry shortly"
                        ) from exc
                    time.sleep(delay)
                except (ServiceUnavailable, SessionExpired) as exc:
                    raise self._translate(exc) from exc

    def _write_batched(
        self, query: str, rows: Sequence[dict[str, Any]], batch_size: int, progress: ProgressFn | None
    ) -> None:
        for batch in _batches(rows, batch_size):
            self._write(query, rows=list(batch))
            if progress is not None:
                progress(len(batch))

    # --- schema and writes ------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create constraints and indexes; safe to call any number of times."""
        for statement in cypher.SCHEMA:
            self._write(statement)

    def upsert_concepts(
        self, rows: Sequence[dict[str, Any]], *, batch_size: int = 5000, progress: ProgressFn | None = None
    ) -> None:
        """Create or update concepts; rows are ``{"id": ..., "props": {...}}``."""
        self._write_batched(cypher.UPSERT_CONCEPTS, rows, batch_size, progress)

    def upsert_is_a(
        self, rows: Sequence[dict[str, Any]], *, batch_size: int = 5000, progress: ProgressFn | None = None
    ) -> None:
        """Create or update IS_A edges; rows are ``{"child", "parent", "kind", "source"}``."""
        self._write_batched(cypher.UPSERT_IS_A, rows, batch_size, progress)

    def bulk_create(
        self,
        concepts: Sequence[dict[str, Any]],
        edges: Sequence[dict[str, Any]],
        *,
        batch_size: int = 50_000,
        workers: int = 1,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        """Write a whole graph into an empty store: ``CREATE`` instead of ``MERGE`` (no lookup per
        row) in large batches. The same rows give the same content as :meth:`upsert_concepts` +
        :meth:`upsert_is_a` (``tests/test_store.py`` and ``benchmarks/scale.py`` check the hash).
        One session by default: ArcadeDB's optimistic page locks make parallel sessions conflict
        and retry (slower at 300K); a Neo4j store may gain from ``workers=2``. For Neo4j,
        ``neo4j-admin database import`` from the same rows written as CSV is faster still.

        Args:
            concepts: ``{"id", "props"}`` rows.
            edges: ``{"child", "parent", ...}`` rows; every other key becomes an edge property.
            progress: Called as ``progress(stage, rows in the batch, total)`` after each batch
                (stages ``concepts`` and ``edges``), as a build's progress is.

        Raises:
            InvariantViolation: the store already holds concepts (use the upserts to update).
        """
        from concurrent.futures import ThreadPoolExecutor

        if self.count_concepts():
            raise InvariantViolation("bulk_create writes into an empty store only; this one has concepts")
        self.ensure_schema()
        edge_rows = [
            {
                "child": e["child"],
                "parent": e["parent"],
                "props": {k: v for k, v in e.items() if k not in ("child", "parent") and v is not None},
            }
            for e in edges
        ]
        for stage, query, rows in (
            ("concepts", cypher.CREATE_CONCEPTS, concepts),
            ("edges", cypher.CREATE_IS_A, edge_rows),
        ):
            with ThreadPoolExecutor(max_workers=workers) as pool:
                batches = list(_batches(rows, batch_size))
                for batch, future in zip(
                    batches, [pool.submit(self._write, query, rows=list(b)) for b in batches], strict=True
                ):
                    future.result()
                    if progress is not None:
                        progress(stage, len(batch), len(rows))

    def clear(self) -> None:
        """Delete every node and relationship of the database. Irreversible."""
        self._write(cypher.DELETE_ALL)

    def set_meta(self, key: str, value: str) -> None:
        """Set one meta value (``graph.version``, ``build.status`` ...)."""
        self._write(cypher.SET_META, key=key, value=value)

    def get_metas(self, keys: Sequence[str]) -> dict[str, str | None]:
        """Several meta values in one query; None for the keys never set."""
        found = {r["key"]: r["value"] for r in self._read(cypher.GET_METAS, keys=list(keys))}
        return {k: found.get(k) for k in keys}

    def all_votes(self) -> list[Vote]:
        """Every current vote, in no particular order."""
        return [Vote(**r) for r in self._read(cypher.ALL_VOTES)]

    def all_dataset_classes(self) -> list[ClassMapping]:
        """Every dataset class with its concept, in no particular order."""
        fields = ("concept", "dataset", "index", "raw_name", "method", "confidence")
        return [
            ClassMapping(**dict(zip(fields, row, strict=True))) for row in self._rows(cypher.HAS_CLASS_ROWS)
        ]

    def get_meta(self, key: str) -> str | None:
        """One meta value; None when never set."""
        rows = self._read(cypher.GET_META, key=key)
        return rows[0]["value"] if rows else None

    @staticmethod
    def lineage_property(lineage: Sequence[tuple[str, str]]) -> list[str] | None:
        """A class's taxonomy as its ``HAS_CLASS.lineage`` property (``["genus=Quercus", ...]``, ``None``
        when it has none): the form :meth:`import_dataset` writes and :meth:`class_lineages` reads."""
        return [f"{rank}={taxon}" for rank, taxon in lineage if taxon] or None

    def class_lineages(self) -> list[tuple[str, int, str, tuple[tuple[str, str], ...]]]:
        """``(dataset, index, raw name, lineage)`` of every class imported with a taxonomy (iNaturalist's
        genus, family, ...), in dataset and index order (see :meth:`lineage_property`)."""
        out = []
        for r in self._read(cypher.CLASS_LINEAGES):
            pairs = (str(item).partition("=") for item in r["lineage"] or ())
            lineage = tuple((rank, taxon) for rank, _, taxon in pairs if rank and taxon)
            out.append((r["dataset"], int(r["index"]), r["raw_name"], lineage))
        return out

    def import_dataset(
        self,
        name: str,
        props: dict[str, Any],
        *,
        concepts: Sequence[dict[str, Any]],
        placements: Sequence[dict[str, Any]] = (),
        classes: Sequence[dict[str, Any]],
        evidence: Sequence[dict[str, Any]] = (),
        batch_size: int = 5000,
    ) -> None:
        """Write a dataset in one transaction: its new concepts (``{id, props}``) and their
        placements (``{id, parent, method, score, evidence, source}``, each replacing the concept's
        parent), the dataset, its classes and the evidence its own hierarchy gives (``{child,
        parent, kind}`` rows), replacing the dataset's earlier classes and evidence; a new concept
        its earlier classes named that no class names any more and that has no children, evidence
        or votes is removed.
        Nothing is written if any statement fails.

        Raises:
            ConceptNotFound: a class names a concept that neither exists nor is created here
                (checked before anything is written).
            InvariantViolation: a placement would close an IS_A cycle (nothing is written).
        """
        created = {c["id"] for c in concepts}
        wanted = sorted({r["concept"] for r in classes} - created)
        missing = sorted(r["id"] for r in self._read(cypher.MISSING_CONCEPTS, ids=wanted))
        if missing:
            raise ConceptNotFound(missing[0])

        def work(tx: neo4j.Transaction) -> None:
            for chunk in _batches(concepts, batch_size):
                tx.run(cypher.UPSERT_CONCEPTS, rows=list(chunk)).consume()
            for chunk in _batches(placements, batch_size):
                tx.run(cypher.PLACE_CONCEPTS, rows=list(chunk)).consume()
            _refuse_cycles(tx, [{"child": p["id"], "parent": p["parent"]} for p in placements], batch_size)
            tx.run(cypher.UPSERT_DATASET, name=name, props=props).consume()
            before = [r["id"] for r in tx.run(cypher.DATASET_NEW_CONCEPTS, name=name)]
            tx.run(cypher.DELETE_HAS_CLASS, name=name).consume()
            for chunk in _batches(classes, batch_size):
                tx.run(cypher.CREATE_HAS_CLASS, name=name, rows=list(chunk)).consume()
            tx.run(cypher.DELETE_EVIDENCE, name=name).consume()
            for chunk in _batches(evidence, batch_size):
                tx.run(cypher.CREATE_EVIDENCE, name=name, rows=list(chunk)).consume()
            tx.run(cypher.DELETE_STALE_DATASET_CONCEPTS).consume()
            tx.run(cypher.DELETE_ORPHAN_NEW_CONCEPTS, ids=before).consume()
            tx.run(cypher.DELETE_EMPTY_PENDING).consume()
            _bump_graph_version(tx, f"dataset:{name}")

        self._guarded_write([IS_A_GUARD], work)

    def apply_sync(
        self,
        *,
        concepts: Sequence[dict[str, Any]],
        links: Sequence[dict[str, Any]],
        meta: dict[str, str],
        changed: str | None = None,
        batch_size: int = 5000,
    ) -> None:
        """Write a sync's concepts (``{id, props}``) and links (``{child, parent, kind, source,
        method, score, evidence}``) and its meta values in one transaction.

        Args:
            changed: When the sync added or changed concepts, why (e.g. ``"sync:<run id>"``):
                ``graph.version`` is bumped in the same transaction, as every graph write does.

        Raises:
            InvariantViolation: a link would close an IS_A cycle (nothing is written).
        """

        def work(tx: neo4j.Transaction) -> None:
            for chunk in _batches(concepts, batch_size):
                tx.run(cypher.UPSERT_CONCEPTS, rows=list(chunk)).consume()
            for chunk in _batches(links, batch_size):
                tx.run(cypher.UPSERT_LINKS, rows=list(chunk)).consume()
            _refuse_cycles(tx, links, batch_size)
            for key, value in meta.items():
                tx.run(cypher.SET_META, key=key, value=value).consume()
            if changed:
                _bump_graph_version(tx, changed)

        self._guarded_write([IS_A_GUARD], work)

    def missing_concepts(self, ids: Sequence[str], *, batch_size: int = 5000) -> list[str]:
        """Those of ``ids`` that are no concept's id."""
        return [
            r["id"]
            for start in range(0, len(ids), batch_size)
            for r in self._read(cypher.MISSING_CONCEPTS, ids=list(ids[start : start + batch_size]))
        ]

    def is_a_children(self, ids: Sequence[str], *, batch_size: int = 5000) -> list[tuple[str, str]]:
        """The IS_A edges into ``ids``, as ``(child, parent)`` pairs."""
        return [
            (r["child"], r["parent"])
            for start in range(0, len(ids), batch_size)
            for r in self._read(cypher.IS_A_CHILDREN_OF, ids=list(ids[start : start + batch_size]))
        ]

    def placements(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The existing concepts among ``ids`` with their placement: ``{id: {"lemmas", "review",
        "parent", "method", "score"}}`` (``parent`` None when the concept has none)."""
        return {r["id"]: r for r in self._read(cypher.PLACEMENTS, ids=list(ids))}

    def place_concepts(
        self,
        placements: Sequence[dict[str, Any]],
        props: Sequence[dict[str, Any]] = (),
        *,
        why: str,
        batch_size: int = 5000,
    ) -> None:
        """In one transaction: give concepts a new parent (``{id, parent, method, score,
        evidence, source}``, replacing the old one) and set properties (``{id, props}``).

        Raises:
            InvariantViolation: a placement would close an IS_A cycle (nothing is written).
        """

        def work(tx: neo4j.Transaction) -> None:
            for chunk in _batches(placements, batch_size):
                tx.run(cypher.PLACE_CONCEPTS, rows=list(chunk)).consume()
            _refuse_cycles(tx, [{"child": p["id"], "parent": p["parent"]} for p in placements], batch_size)
            for chunk in _batches(props, batch_size):
                tx.run(cypher.UPSERT_CONCEPTS, rows=list(chunk)).consume()
            if placements or props:
                _bump_graph_version(tx, why)

        self._guarded_write([IS_A_GUARD], work)

    def review_items(self, *, dataset: str | None = None, limit: int = 100) -> ReviewItems:
        """What awaits a person, least sure first, at most ``limit`` of each kind.

        Args:
            dataset: Only the items of this dataset.
            limit: Most items of each kind.
        """
        return ReviewItems(
            placements=[
                ReviewPlacement(**r) for r in self._read(cypher.REVIEW_CONCEPTS, dataset=dataset, limit=limit)
            ],
            classes=[
                ReviewClass(**r) for r in self._read(cypher.REVIEW_CLASSES, dataset=dataset, limit=limit)
            ],
        )

    def review_placement(self, concept: str, *, by: str, parent: str | None = None) -> None:
        """A person accepts a new concept's placement, or moves it under ``parent``.

        The checks and the write are one transaction under the IS_A guard, so two moves at once
        (``a`` under ``b``, ``b`` under ``a``) cannot together make a cycle: the second sees the first.

        Raises:
            ConceptNotFound: ``concept`` (or ``parent``) does not exist.
            InvariantViolation: ``parent`` is ``concept`` or lies under it (a cycle); nothing is written.
            ConfigurationError: ``concept`` is WordNet's (only the concepts datasets and Wikidata
                brought are placed by review).
        """
        params: dict[str, Any]
        stmt, params = (
            (cypher.ACCEPT_PLACEMENT, {"id": concept, "by": by})
            if parent is None
            else (cypher.MOVE_PLACEMENT, {"id": concept, "parent": parent, "by": by})
        )

        def work(tx: neo4j.Transaction) -> None:
            found = tx.run(cypher.PLACEMENTS, ids=[concept]).data()
            if not found:
                raise ConceptNotFound(concept)
            if parent is not None:
                if not tx.run(cypher.CONCEPT, id=parent).data():
                    raise ConceptNotFound(parent)
                if parent == concept:
                    raise InvariantViolation(f"{concept} cannot go under itself: that is an IS_A cycle")
                if tx.run(cypher.CYCLE_EDGES, rows=[{"child": concept, "parent": parent}]).data():
                    raise InvariantViolation(
                        f"{parent} lies under {concept}: moving {concept} there makes an IS_A cycle"
                    )
            if found[0]["source"] not in ("datasets", "wikidata"):
                raise ConfigurationError(
                    f"{concept} is not a concept the datasets or Wikidata brought; only those are placed"
                )
            if not tx.run(stmt, params).data():  # accepting a concept that has no placement yet
                raise ConceptNotFound(concept)
            _bump_graph_version(tx, f"review:{concept}")

        self._guarded_write([IS_A_GUARD], work)

    def review_class(self, dataset: str, index: int, *, by: str, concept: str | None = None) -> None:
        """A person accepts a dataset class's concept, or re-points the class to ``concept``.

        Raises:
            ConceptNotFound: ``concept`` does not exist.
            DatasetNotFound: no such dataset or class index.
        """
        if concept is not None:
            self.concept(concept)
        params: dict[str, Any]
        stmt, params = (
            (cypher.ACCEPT_CLASS, {"dataset": dataset, "index": index, "by": by})
            if concept is None
            else (cypher.MOVE_CLASS, {"dataset": dataset, "index": index, "concept": concept, "by": by})
        )

        def work(tx: neo4j.ManagedTransaction) -> bool:
            found = tx.run(stmt, params).data()
            if found:
                _bump_graph_version(tx, f"review:{dataset}#{index}")
            return bool(found)

        if not self._write_tx(work):
            raise DatasetNotFound(f"{dataset} has no class {index}")

    def cast_vote(self, *, annotator: str, concept: str, tag: Tag, value: bool, at: str) -> TagDecision:
        """Record ``annotator``'s vote (replacing their earlier one) and update the decision.

        The rules are read and the vote written in one transaction under the guard of the
        concept's tag, so concurrent votes are counted one after the other: never a sixth, and
        none refused for a mere write conflict.

        Raises:
            ConceptNotFound: unknown concept.
            VoteRejected: a sixth annotator on a tag, or *common* on a concept not decided visual.
            GraphBusy: the vote kept meeting other processes' votes (nothing was written).
        """

        def work(tx: neo4j.Transaction) -> TagDecision:
            found = tx.run(cypher.CONCEPT, id=concept).data()
            if not found:
                raise ConceptNotFound(concept)
            if tag == "common" and found[0]["concept"].get("visual") is not True:
                raise VoteRejected(
                    f"{concept} is not decided visual yet; *common* is voted on visual concepts only"
                )
            votes = [r for r in tx.run(cypher.VOTES, id=concept).data() if r["tag"] == tag]
            voters = {r["annotator"] for r in votes}
            if annotator not in voters and len(voters) >= MAX_VOTES:
                raise VoteRejected(
                    f"{concept} already has {MAX_VOTES} votes on {tag!r}, the most a tag takes; "
                    "only those annotators may change theirs"
                )
            tx.run(
                cypher.UPSERT_VOTE, annotator=annotator, concept=concept, tag=tag, value=value, at=at
            ).consume()
            counts = tally([r["value"] for r in votes if r["annotator"] != annotator] + [value])
            setter = cypher.SET_VISUAL if tag == "visual" else cypher.SET_COMMON
            tx.run(setter, id=concept, value=counts.value).consume()
            tx.run(cypher.SET_META, key="tags.version", value=uuid.uuid4().hex).consume()
            return TagDecision(concept, tag, counts.yes, counts.no, counts.value)

        result: TagDecision = self._guarded_write(_vote_guards(concept, tag), work)
        return result

    # --- reads ------------------------------------------------------------------------------

    def datasets(self) -> list[Dataset]:
        """Every dataset, by name."""
        return [
            Dataset(name=str(r["dataset"]["name"]), classes=int(r["classes"]), props=dict(r["dataset"]))
            for r in self._read(cypher.DATASETS)
        ]

    def dataset_classes(self, name: str) -> list[DatasetClass]:
        """Classes of a dataset in index order.

        Raises:
            DatasetNotFound: no dataset of that name.
        """
        rows = self._read(cypher.DATASET_CLASSES, name=name)
        if not rows and not self._read(cypher.DATASET_EXISTS, name=name):
            raise DatasetNotFound(name, known=[d.name for d in self.datasets()])
        return [DatasetClass(**r) for r in rows]

    def review_counts(self) -> dict[str, int]:
        """Dataset name -> its classes flagged for review (a close sense or a weak placement)."""
        return {r["dataset"]: int(r["n"]) for r in self._read(cypher.REVIEW_COUNTS)}

    def dataset_method_counts(self) -> dict[str, dict[str, int]]:
        """Dataset name -> mapping method -> number of classes."""
        out: dict[str, dict[str, int]] = {}
        for r in self._read(cypher.DATASET_METHOD_COUNTS):
            out.setdefault(r["dataset"], {})[str(r["method"])] = int(r["n"])
        return out

    def concept_datasets(self, concept_id: str) -> list[ClassMapping]:
        """The dataset classes mapped to this concept, by dataset and index."""
        return [
            ClassMapping(concept=concept_id, **r) for r in self._read(cypher.CONCEPT_DATASETS, id=concept_id)
        ]

    def concept(self, concept_id: str) -> Concept:
        """The concept with ``concept_id``.

        Raises:
            ConceptNotFound: no such concept.
        """
        rows = self._read(cypher.CONCEPT, id=concept_id)
        if not rows:
            raise ConceptNotFound(concept_id)
        return Concept.from_properties(rows[0]["concept"])

    def find_concepts(self, text: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """Concepts named ``text`` (their name or a lemma, case-folded), most common sense first,
        then those whose name starts with it: ``{id, name, gloss, tag_count, match}`` each."""
        text = " ".join(text.replace("_", " ").split())
        rows = self._read(cypher.FIND_CONCEPTS, text=text, lower=text.lower(), limit=limit)
        exact = [r for r in rows if r["match"] == "exact"]
        prefix = [r for r in rows if r["match"] == "prefix" and r["id"] not in {e["id"] for e in exact}]
        key = lambda r: (-int(r["tag_count"] or 0), str(r["id"]))  # noqa: E731
        return (sorted(exact, key=key) + sorted(prefix, key=key))[:limit]

    def concepts(self, concept_ids: Sequence[str]) -> dict[str, Concept]:
        """The concepts among ``concept_ids`` that exist, by id (one query; unknown ids are left out)."""
        rows = self._read(cypher.CONCEPTS_BY_ID, ids=list(dict.fromkeys(concept_ids)))
        found = (Concept.from_properties(r["concept"]) for r in rows)
        return {c.id: c for c in found}

    def exists(self, concept_id: str) -> bool:
        """Whether a concept with ``concept_id`` exists."""
        return bool(self._read(cypher.CONCEPT, id=concept_id))

    def _require(self, concept_id: str, rows: list[dict[str, Any]]) -> None:
        if not rows and not self.exists(concept_id):
            raise ConceptNotFound(concept_id)

    def _related(self, query: str, concept_id: str, attribute: str) -> list[ConceptRef]:
        """The concepts ``query`` reads around ``concept_id``, each with the row's ``attribute``
        (``kind`` or ``depth``); raises ConceptNotFound when there is no such concept."""
        rows = self._read(query, id=concept_id)
        self._require(concept_id, rows)
        return [ConceptRef(r["id"], r["name"], **{attribute: r[attribute]}) for r in rows]

    def parents(self, concept_id: str) -> list[ConceptRef]:
        """Direct parents, each with its edge ``kind``.

        Raises:
            ConceptNotFound: no such concept.
        """
        return self._related(cypher.PARENTS, concept_id, "kind")

    def children(self, concept_id: str) -> list[ConceptRef]:
        """Direct children, each with its edge ``kind``.

        Raises:
            ConceptNotFound: no such concept.
        """
        return self._related(cypher.CHILDREN, concept_id, "kind")

    def ancestors(self, concept_id: str) -> list[ConceptRef]:
        """All ancestors, nearest first (``depth`` = shortest number of IS_A edges)."""
        return self._related(cypher.ANCESTORS, concept_id, "depth")

    def descendants(self, concept_id: str, *, cursor: str | None = None, limit: int = 1000) -> Page:
        """One page of descendants in id order; ``cursor`` is the previous page's ``next_cursor``."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        rows = self._read(cypher.DESCENDANTS_PAGE, id=concept_id, after=cursor or "", limit=limit + 1)
        if cursor is None:
            self._require(concept_id, rows)
        # The query reads one row past the page, so whether another page follows is known here.
        ids, next_cursor = keyset_page([r["id"] for r in rows], None, limit)
        return Page(items=[ConceptRef(r["id"], r["name"]) for r in rows[: len(ids)]], next_cursor=next_cursor)

    def iter_descendants(self, concept_id: str, *, page_size: int = 5000) -> Iterator[ConceptRef]:
        """Every descendant in id order, read ``page_size`` at a time."""
        cursor: str | None = None
        while True:
            page = self.descendants(concept_id, cursor=cursor, limit=page_size)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def all_concepts(self) -> list[dict[str, Any]]:
        """Every concept's full property map, in no particular order."""
        return [r["props"] for r in self._read(cypher.ALL_CONCEPTS)]

    def evidence(self, concept: str) -> list[dict[str, Any]]:
        """The datasets' hierarchy evidence from ``concept``: ``{"concept", "kind", "dataset"}``."""
        return self._read(cypher.EVIDENCE_OF, id=concept)

    def all_evidence(self) -> list[dict[str, Any]]:
        """Every dataset-hierarchy evidence edge as ``{"child", "parent", "kind", "dataset"}``."""
        return self._read(cypher.ALL_EVIDENCE)

    def scan_concepts(self, consume: Callable[[dict[str, Any]], None]) -> int:
        """Hand every concept's property map to ``consume`` as it streams in, in no particular order;
        returns the count. The maps come in batches of about a thousand a record: one record per
        concept cost the Bolt client more than the maps themselves."""
        count = 0

        def batch(record: neo4j.Record) -> None:
            nonlocal count
            for props in record["rows"]:
                consume(props)
                count += 1

        self._scan(cypher.CONCEPT_BATCHES, batch, batches=max(1, self.count_concepts() // 1000))
        return count

    def is_a_rows(self) -> list[list[Any]]:
        """Every IS_A edge as ``[child, parent, kind, source, method, score]``, in no particular order."""
        return self._rows(cypher.IS_A_ROWS)

    def _rows(self, query: str) -> list[list[Any]]:
        """The one list a ``RETURN collect([...]) AS rows`` query gives."""
        rows: list[list[list[Any]]] = []
        self._scan(query, lambda r: rows.append(r["rows"]))
        return rows[0] if rows else []

    def scan_graph(
        self, consume: Callable[[dict[str, Any]], None]
    ) -> tuple[list[list[Any]], list[ClassMapping]]:
        """One whole-graph read: every concept's map to ``consume`` as it streams in (this thread),
        while the IS_A edges (rows as :meth:`is_a_rows` gives them) and the dataset classes are read
        concurrently in two more sessions; returns ``(edge rows, dataset classes)``."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2, thread_name_prefix="bamboo-graph-read") as pool:
            edges_done = pool.submit(self.is_a_rows)
            classes_done = pool.submit(self.all_dataset_classes)
            self.scan_concepts(consume)
            return edges_done.result(), classes_done.result()

    def all_is_a(self) -> list[dict[str, Any]]:
        """Every IS_A edge as ``{"child", "parent", "kind", "source"}``."""
        return self._read(cypher.ALL_IS_A)

    def count_concepts(self) -> int:
        """Number of concepts."""
        return int(self._read(cypher.COUNT_CONCEPTS)[0]["n"])

    def count_is_a(self) -> int:
        """Number of IS_A edges."""
        return int(self._read(cypher.COUNT_IS_A)[0]["n"])
