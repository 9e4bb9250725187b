"""``bamboo sync wikidata``: grow the label system with Wikidata items, incrementally and idempotently.

One run:

1. **anchors**: items with a WordNet synset id (``P8814``, WordNet 3.1, mapped to 3.0 through a
   ``wn31<TAB>wn30`` mapping file such as the ILI's, else through the item's English label when it
   names exactly one 3.0 sense);
2. **discover**: walk down from the roots (default: every anchor) one level at a time through
   ``P279`` subclass-of and ``P171`` parent-taxon, ``max_depth`` levels;
3. **fetch** the items' labels, aliases, descriptions, translations and properties;
4. **link**: an item becomes the concept ``wd:Q...`` under its Wikidata parents that are in the
   graph (anchors resolve to their synsets); an item none of whose parents is known is linked by
   the policy (chain, then head-compound, then embedding) and flagged for review when unsure. An
   anchor is not duplicated: its synset gains the Wikidata properties;
5. **repair**: cycles among the new edges are broken and shortcut edges (a parent that is already an
   ancestor through another parent) dropped, so the graph stays a DAG;
6. **write** what differs from the graph (new and changed items, links it lacks) in one
   transaction, after checking the invariants on the would-be graph.

A checkpoint file (``wikidata-sync.json``) is written after each phase, so an interrupted run
resumes where it stopped; an audit line per run (added / changed / unchanged / repaired) goes to
``wikidata-audit.jsonl``. ``--since`` skips re-writing known items not modified since that time.
Running twice gives the same graph.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import networkx as nx

from bamboo import paths
from bamboo.atomic import write_text_atomic
from bamboo.errors import InvariantViolation, MalformedFile
from bamboo.graph.link.lexicon import Lexicon
from bamboo.graph.link.policy import Decision, LinkPolicy, Query
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import GraphContents, check_invariants, read_contents
from bamboo.graph.taxonomy.model import ENTITY_ID
from bamboo.graph.wikidata.chain import chain_links
from bamboo.graph.wikidata.client import LANGUAGES, WikidataClient, WikidataItem
from bamboo.loaders.base import read_lines

__all__ = ["SyncReport", "read_wn31_map", "sync_wikidata", "wordnet_anchor"]

CHECKPOINT = "wikidata-sync.json"
AUDIT = "wikidata-audit.jsonl"


@dataclass
class SyncReport:
    """What one sync did.

    Attributes:
        run_id: This run's id (also on every link it wrote).
        endpoint: The SPARQL endpoint read.
        started: When the run started (ISO, UTC).
        finished: When it finished (empty while running).
        resumed: Whether it went on from a checkpoint.
        anchors: Wikidata items anchored to WordNet synsets.
        items: Items read.
        added: Concepts added.
        changed: Concepts whose properties changed.
        unchanged: Concepts left as they were.
        skipped_since: Items skipped as not modified since ``since``.
        links: New parent links per method.
        review: Links flagged for a person to review.
        repaired: What was repaired to keep the graph's invariants.
        requests: SPARQL requests sent.
        waited_s: Seconds spent waiting on the endpoint's rate limits.
    """

    run_id: str
    endpoint: str
    started: str
    finished: str = ""
    resumed: bool = False
    anchors: int = 0
    items: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped_since: int = 0
    links: dict[str, int] = field(default_factory=dict)
    review: int = 0
    repaired: list[str] = field(default_factory=list)
    requests: int = 0
    waited_s: float = 0.0


def read_wn31_map(path: Path) -> dict[str, str]:
    """``wn31<TAB>wn30`` offset pairs (``02086723-n<TAB>02084071-n``) -> {wn31: concept id}."""
    out = {}
    for number, line in read_lines(path):
        if line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(p.strip()[:8].isdigit() for p in parts):
            raise MalformedFile(path, number, f"expected 'wn31<TAB>wn30', got {line[:80]!r}")
        out[parts[0].strip()] = f"wn:n{parts[1].strip()[:8]}"
    return out


def wordnet_anchor(
    wordnet31: Sequence[str], label: str | None, lexicon: Lexicon, wn31_map: Mapping[str, str] | None
) -> str | None:
    """The WordNet 3.0 concept of an item with WordNet 3.1 synset ids (``P8814``): through
    ``wn31_map`` when it maps one to a concept of ``lexicon``, else the one sense of its English
    ``label`` when the label has exactly one; ``None`` otherwise (and for an item without ids)."""
    if not wordnet31:
        return None
    mapped = [
        wn31_map[w] for w in wordnet31 if wn31_map and w in wn31_map and wn31_map[w] in lexicon.concepts
    ]
    if mapped:
        return sorted(mapped)[0]
    senses = lexicon.senses(label) if label else []
    return senses[0] if len(senses) == 1 else None


def sync_wikidata(
    store: GraphStore,
    client: WikidataClient,
    *,
    state_dir: Path,
    roots: list[str] | None = None,
    max_depth: int = 3,
    since: str | None = None,
    wn31_map: dict[str, str] | None = None,
    policy: Callable[[Lexicon], LinkPolicy] | None = None,
    cache_dir: Path | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> SyncReport:
    """Run one sync (see the module docstring).

    Args:
        store: The label system written to.
        client: The Wikidata endpoint read from.
        state_dir: Folder of the checkpoint that lets an interrupted sync resume.
        roots: Wikidata items whose subtrees are synced (the WordNet anchors when ``None``).
        max_depth: Levels of subclasses paged below each root.
        since: Only items modified after this ISO date are re-read.
        wn31_map: WordNet 3.1 to 3.0 synset ids (:func:`read_wn31_map`), for ``P8814`` anchors.
        policy: Builds the linking policy for items without a parent in the graph (heads and
            embeddings when ``None``).
        cache_dir: Where the default policy caches synset vectors (:func:`bamboo.paths.cache_dir`
            when ``None``).
        log: Receives progress lines.

    Returns:
        What the sync did.

    Raises:
        MalformedFile: The checkpoint in ``state_dir`` is not one this version can resume.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    scope = _Scope(endpoint=client.endpoint, roots=roots, max_depth=max_depth)
    ckpt = _Checkpoint.resume(state_dir / CHECKPOINT, scope)
    report = SyncReport(
        run_id=ckpt.run_id, endpoint=client.endpoint, started=ckpt.started, resumed=ckpt.resumed
    )
    graph = _GraphNow.read(store)  # read once: lexicon, repair and the invariant check use it

    anchors = _find_anchors(client, ckpt, graph, wn31_map, log)
    _discover(client, ckpt, sorted(roots or anchors), max_depth, log)
    items = _fetch(client, ckpt)
    report.anchors, report.items = len(anchors), len(items)
    linked = _link_items(items, anchors, graph, since, policy, cache_dir, report)
    linked.links, report.repaired = _repair(linked.links, graph.contents.edges)
    _write(store, client, graph, items, anchors, linked, report)
    with open(state_dir / AUDIT, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(dataclasses.asdict(report)) + "\n")
    ckpt.path.unlink(missing_ok=True)
    return report


# -- the checkpoint -------------------------------------------------------------------------------

Phase = Literal["anchors", "discover", "discovered", "fetched"]
"""The last phase a checkpoint saved: anchors found, some levels walked, the walk done, items read."""


@dataclass(frozen=True)
class _Scope:
    """What a checkpoint is valid for: a saved sync resumes only under the same scope."""

    endpoint: str
    roots: list[str] | None
    max_depth: int


@dataclass
class _Checkpoint:
    """A sync's progress, saved to ``wikidata-sync.json`` (one JSON object, one key per field) after
    each phase and each level of the walk, so an interrupted run resumes where it stopped.

    Attributes:
        path: Where it is saved (not itself saved).
        config: The :class:`_Scope` it was saved under, as a JSON object.
        run_id: The run it belongs to.
        started: When that run started (ISO, UTC).
        resumed: Whether it was read from a file (not itself saved).
        phase: The last phase saved (``None`` before the first).
        anchors: Wikidata item -> WordNet concept id, once the anchors are found.
        level: Levels of the walk done.
        frontier: Items whose children the next level reads.
        edges: ``[child, parent]`` pairs the walk found.
        seen: Items the walk has reached (``None`` before the first level: the frontier).
        discovered: Every item the walk reached, once it is done.
        items: The items read, once fetched.
    """

    path: Path
    config: dict[str, Any]
    run_id: str
    started: str
    resumed: bool = False
    phase: Phase | None = None
    anchors: dict[str, str] | None = None
    level: int = 0
    frontier: list[str] = field(default_factory=list)
    edges: list[list[str]] = field(default_factory=list)
    seen: list[str] | None = None
    discovered: list[str] = field(default_factory=list)
    items: dict[str, WikidataItem] = field(default_factory=dict)

    @classmethod
    def resume(cls, path: Path, scope: _Scope) -> _Checkpoint:
        """The checkpoint saved at ``path`` under the same scope, else a new run's."""
        config = dataclasses.asdict(scope)
        saved = json.loads(path.read_text()) if path.exists() else {}
        if not isinstance(saved, dict) or saved.get("config") != config:
            return cls(path=path, config=config, run_id=uuid.uuid4().hex[:12], started=_now())
        saved_fields = {f.name for f in dataclasses.fields(cls)} - {"path", "resumed"}
        unknown = sorted(set(saved) - saved_fields)
        if unknown or not (saved.get("run_id") and saved.get("started") and saved.get("phase")):
            raise MalformedFile(path, None, "not a sync checkpoint this version can resume; delete it")
        items = {q: _item(d) for q, d in (saved.pop("items", None) or {}).items()}
        return cls(path=path, resumed=True, items=items, **saved)

    def save(self, phase: Phase) -> None:
        """Record that ``phase`` is done and write the checkpoint atomically."""
        self.phase = phase
        fields = dataclasses.asdict(self)
        del fields["path"], fields["resumed"]
        write_text_atomic(self.path, json.dumps(fields))


# -- the phases -----------------------------------------------------------------------------------


@dataclass
class _GraphNow:
    """The graph as the sync found it."""

    contents: GraphContents
    wordnet: dict[str, dict[str, Any]]  # WordNet concepts by id
    existing: dict[str, dict[str, Any]]  # ``wd:`` concepts by id

    @classmethod
    def read(cls, store: GraphStore) -> _GraphNow:
        contents = read_contents(store)
        concepts = contents.concepts
        return cls(
            contents,
            wordnet={c["id"]: c for c in concepts if c.get("source") == "wordnet"},
            existing={c["id"]: c for c in concepts if c["id"].startswith("wd:")},
        )


def _find_anchors(
    client: WikidataClient,
    ckpt: _Checkpoint,
    graph: _GraphNow,
    wn31_map: dict[str, str] | None,
    log: Callable[[str], None],
) -> dict[str, str]:
    """Phase 1: the Wikidata items that are WordNet 3.0 synsets, through ``wn31_map`` or a label with
    exactly one sense."""
    if ckpt.anchors is not None:
        return ckpt.anchors
    raw = client.wordnet_anchors()
    lemma_index = Lexicon(list(graph.wordnet.values()), [])
    anchors: dict[str, str] = {}
    unresolved = sorted(q for q, wn in raw.items() if not any(w in (wn31_map or {}) for w in wn))
    labels = client.items(unresolved) if unresolved else {}
    for qid, ids in raw.items():
        label = labels.get(qid)
        found = wordnet_anchor(ids, label.label if label else None, lemma_index, wn31_map)
        if found is not None:
            anchors[qid] = found
    ckpt.anchors = anchors
    ckpt.save("anchors")
    log(f"anchors: {len(anchors)} of {len(raw)} items with a WordNet id resolve to WordNet 3.0")
    return anchors


def _discover(
    client: WikidataClient, ckpt: _Checkpoint, roots: list[str], max_depth: int, log: Callable[[str], None]
) -> None:
    """Phase 2: walk down from ``roots`` one level at a time, saving after each level."""
    if ckpt.phase not in (None, "anchors", "discover"):
        return
    frontier = ckpt.frontier or roots
    seen = set(frontier if ckpt.seen is None else ckpt.seen)
    while ckpt.level < max_depth and frontier:
        found = client.children(frontier)
        ckpt.edges.extend([c, p] for c, p in found)
        frontier = sorted({c for c, _ in found} - seen)
        seen.update(frontier)
        ckpt.level += 1
        ckpt.frontier, ckpt.seen = frontier, sorted(seen)
        ckpt.save("discover")
        log(f"level {ckpt.level}: {len(frontier)} new items")
    ckpt.discovered = sorted(seen)
    ckpt.save("discovered")


def _fetch(client: WikidataClient, ckpt: _Checkpoint) -> dict[str, WikidataItem]:
    """Phase 3: read the discovered items."""
    if ckpt.phase == "discovered":
        ckpt.items = client.items(ckpt.discovered)
        ckpt.save("fetched")
    return ckpt.items


@dataclass
class _Linked:
    """What the link phase decided."""

    new_items: list[str]  # items that become ``wd:`` concepts (anchors are not among them)
    links: list[dict[str, Any]]
    decisions: dict[str, Decision]  # for the items the policy linked


def _link_items(
    items: dict[str, WikidataItem],
    anchors: dict[str, str],
    graph: _GraphNow,
    since: str | None,
    policy: Callable[[Lexicon], LinkPolicy] | None,
    cache_dir: Path | None,
    report: SyncReport,
) -> _Linked:
    """Phase 4: link each new item under its parents in the graph, else by the policy."""
    new_items = [q for q in sorted(items) if q not in anchors]
    if since:
        fresh = [
            q for q in new_items if f"wd:{q}" not in graph.existing or (items[q].modified or "") >= since
        ]
        report.skipped_since = len(new_items) - len(fresh)
        new_items = fresh
    in_graph = set(anchors) | set(items)
    links: list[dict[str, Any]] = []
    needs_policy: list[str] = []
    for q in new_items:
        parents = [p for p in items[q].parents if p in in_graph and p != q]
        if parents:
            for p in parents:
                links.append(_link(q, _cid(p, anchors), "wikidata", 1.0, f"{q} P279/P171 {p}"))
        else:
            needs_policy.append(q)
    decisions: dict[str, Decision] = {}
    if needs_policy:
        lexicon = Lexicon(list(graph.wordnet.values()), graph.contents.edges)
        chooser = policy(lexicon) if policy else _default_policy(lexicon, cache_dir)
        queries = [
            Query(items[q].label or q, items[q].description or "", tuple(chain_links(q, items, anchors)))
            for q in needs_policy
        ]
        for q, d in zip(needs_policy, chooser.decide_many(queries), strict=True):
            decisions[q] = d
            if d.link is not None:
                links.append(_link(q, d.link.concept, d.link.method, d.link.score, d.link.evidence))
    report.review = sum(1 for d in decisions.values() if d.review or d.link is None)
    return _Linked(new_items, links, decisions)


def _write(
    store: GraphStore,
    client: WikidataClient,
    graph: _GraphNow,
    items: dict[str, WikidataItem],
    anchors: dict[str, str],
    linked: _Linked,
    report: SyncReport,
) -> None:
    """Phase 6: write what differs from the graph in one transaction, after checking the invariants
    on the would-be graph."""
    links = linked.links
    rows = _rows(items, anchors, linked)
    dirty: list[dict[str, Any]] = []  # only what differs from the graph is written
    for r in rows:
        before = graph.existing.get(r["id"]) if r["id"].startswith("wd:") else graph.wordnet.get(r["id"])
        if before is None:
            report.added += 1
        elif any(before.get(k) != v for k, v in r["props"].items() if v is not None or k in before):
            report.changed += 1
        else:
            report.unchanged += 1
            continue
        dirty.append(r)
    _check_would_be_graph(graph.contents, rows, links)
    known = {(e["child"], e["parent"]) for e in graph.contents.edges}
    dirty_ids = {r["id"] for r in dirty}
    new_links = [e for e in links if e["child"] in dirty_ids or (e["child"], e["parent"]) not in known]
    report.links = dict(Counter(e["method"] for e in links if e["child"].startswith("wd:")))
    report.requests, report.waited_s = client.requests, round(sum(client.waits), 1)
    report.finished = _now()
    store.apply_sync(
        concepts=dirty,
        links=new_links,
        meta={"sync.wikidata.last": report.finished},
        changed=f"sync:{report.run_id}" if report.added or report.changed else None,
    )


def _rows(items: dict[str, WikidataItem], anchors: dict[str, str], linked: _Linked) -> list[dict[str, Any]]:
    """The concepts the sync would write: each new item (an item left without a parent is hung at the
    root and flagged for review, its link added to ``linked.links``), then each anchor's synset."""
    rows: list[dict[str, Any]] = []
    has_parent = {e["child"] for e in linked.links}
    for q in linked.new_items:
        props = _props(items[q])
        if q in linked.decisions:
            d = linked.decisions[q]
            props["review"] = "check" if (d.review or d.link is None) else None
        if f"wd:{q}" not in has_parent:  # nothing to hang it on: at the root, flagged for review
            props["review"] = "check"
            linked.links.append(_link(q, ENTITY_ID, "review", 0.0, "no parent found"))
        rows.append({"id": f"wd:{q}", "props": props})
    for q, cid in sorted(anchors.items()):
        if q in items:
            rows.append({"id": cid, "props": _anchor_props(items[q])})
    return rows


def _default_policy(lexicon: Lexicon, cache_dir: Path | None) -> LinkPolicy:
    from bamboo.graph.link.embed import Embedder, SynsetIndex
    from bamboo.graph.link.head import HeadLinker

    internal = [c for c in lexicon.concepts if lexicon.children.get(c)]
    return LinkPolicy(
        HeadLinker(lexicon), SynsetIndex(lexicon, Embedder(), internal, cache_dir or paths.cache_dir())
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _cid(qid: str, anchors: dict[str, str]) -> str:
    return anchors.get(qid, f"wd:{qid}")


def _link(qid: str, parent: str, method: str, score: float, evidence: str) -> dict[str, Any]:
    return {
        "child": f"wd:{qid}",
        "parent": parent,
        "kind": "wikidata" if method == "wikidata" else "link",
        "source": "wikidata",
        "method": method,
        "score": score,
        "evidence": evidence,
    }


def _item(d: dict[str, Any]) -> WikidataItem:
    return WikidataItem(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def _props(item: WikidataItem) -> dict[str, Any]:
    name = item.label or item.qid
    props: dict[str, Any] = {
        "name": name,
        "lemmas": sorted({name, *item.aliases}),
        "gloss": item.description,
        "source": "wikidata",
        "modified": item.modified,
    }
    return props | _anchor_props(item)


def _anchor_props(item: WikidataItem) -> dict[str, Any]:
    """What a synset gains from its Wikidata item (and every ``wd:`` concept carries)."""
    props: dict[str, Any] = {"qid": item.qid, "freebase": list(item.freebase)}
    for lang in LANGUAGES:
        props[f"labels_{lang}"] = [item.labels[lang]] if lang in item.labels else None
    return props


def _repair(
    links: list[dict[str, Any]], graph_edges: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Drop new links that close a cycle (with each other or with the graph's edges) and new links
    to a parent that another parent already reaches (shortcuts); the graph's own edges stay."""
    repaired: list[str] = []
    g = nx.DiGraph()
    for e in links:
        g.add_edge(e["child"], e["parent"])
    existing = nx.DiGraph()
    existing.add_edges_from((e["child"], e["parent"]) for e in graph_edges)
    combined = nx.compose(existing, g)
    # cycles: only strongly connected components (one linear pass) can hold one
    knots = [c for c in nx.strongly_connected_components(combined) if len(c) > 1]
    while knots:
        part = combined.subgraph(knots.pop()).copy()
        try:
            cycle = nx.find_cycle(part)
        except nx.NetworkXNoCycle:
            continue
        new = [e for e in cycle if g.has_edge(e[0], e[1])]
        if not new:  # the graph itself has a cycle: the invariant check reports it
            continue
        # drop the new cycle edge whose child keeps the most other parents, so no item is orphaned
        child, parent = max(reversed(new), key=lambda e: combined.out_degree(e[0]))[:2]
        g.remove_edge(child, parent)
        combined.remove_edge(child, parent)
        part.remove_edge(child, parent)
        repaired.append(f"cycle: dropped {child} -> {parent}")
        knots.extend(c for c in nx.strongly_connected_components(part) if len(c) > 1)
    for child in [n for n in g.nodes if str(n).startswith("wd:")]:
        parents = list(combined.successors(child))
        for p in list(g.successors(child)):
            if any(q != p and p in nx.descendants(combined, q) for q in parents):
                g.remove_edge(child, p)
                combined.remove_edge(child, p)
                parents.remove(p)
                repaired.append(f"shortcut: dropped {child} -> {p}")
    kept = {(u, v) for u, v in g.edges}
    return [e for e in links if (e["child"], e["parent"]) in kept], repaired


def _check_would_be_graph(
    now: GraphContents, rows: list[dict[str, Any]], links: list[dict[str, Any]]
) -> None:
    ids = {c["id"] for c in now.concepts}
    concepts = now.concepts + [{"id": r["id"]} for r in rows if r["id"] not in ids]
    edges = now.edges + [{"child": e["child"], "parent": e["parent"]} for e in links]
    report = check_invariants(GraphContents(concepts=concepts, edges=edges))
    if not report.ok:
        raise InvariantViolation(f"the sync would break the graph: {report.describe()}; nothing written")
