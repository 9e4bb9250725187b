"""Place names WordNet lacks through Wikidata: the items whose English label or alias is the name, then
up their classes to an item the label system already links to a WordNet synset.

For each name:

0. **by id**: a name the list gives a Freebase id (Open Images' MIDs, ``/m/0k4j``) is first looked up
   by that id (``wdt:P646``, one ``VALUES`` query per batch). The item that carries it *is* the class:
   it outranks every item matched by label, and the label lookup is skipped for that name. An id not
   shaped like a Freebase id (``/m/`` or ``/g/`` and lower-case letters, digits, underscores) is not
   sent; the name is looked up by label;
1. **look up** the items whose English label (else alias) equals it, ignoring case: one ``VALUES``
   query per batch of names, sending the spellings as written, lower case, Capitalised, Title Case
   and UPPER (an index lookup on the Wikidata Query Service, where a case-folding ``FILTER`` over all
   labels would time out), kept only when they equal the name case-folded. Items that are
   disambiguation pages, lists, categories or names (given, family) are dropped;
2. **walk up**: from an item's ``P279`` subclass-of (and ``P171`` parent-taxon) targets, or from its
   ``P31`` instance-of targets when it has neither (a car model is an instance of *automobile
   model*), then ``P279`` / ``P171`` one level at a time (``VALUES`` batches, never a ``P279*``
   closure), at most ``max_depth`` levels, stopping at the first level that reaches an **anchor**:
   an item the label system links to a WordNet synset (a synset's ``qid``, written by ``bamboo sync
   wikidata``), or an item with a WordNet 3.1 id that resolves to one as the sync resolves it
   (:func:`~bamboo.graph.wikidata.sync.wordnet_anchor`). The path and its score come from
   :func:`~bamboo.graph.wikidata.chain.chain_links` (0.95 at one step, x0.9 per further step);
3. **decide**: a match by alias, and a walk that began at ``P31``, each cost x0.9. The places the
   name's items lead to (one above another counting as one place, the deeper kept) are filtered to
   the list's domain when it has one; one place left is proposed (x0.9 when the domain chose it
   among several); several are flagged for review with no proposal; none inside the domain leaves
   the name where it was, noted.

An endpoint that cannot be reached, or that fails part-way, proposes nothing: the report says why
(:attr:`NameLinker.report`), and the caller's offline placements stand.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bamboo.errors import BambooError
from bamboo.graph.link.external import NamePlacement
from bamboo.graph.link.lexicon import Lexicon
from bamboo.graph.wikidata.chain import chain_links
from bamboo.graph.wikidata.client import WikidataClient, WikidataItem
from bamboo.graph.wikidata.sync import wordnet_anchor

__all__ = ["FREEBASE_ID", "MAX_DEPTH", "NOT_CONCEPTS", "NameLinker", "NameLinkReport", "spellings"]

#: Levels walked up from a name's item before giving up on it.
MAX_DEPTH = 5
#: Items a name may match before it is too common a label to decide by (``Paris``).
MAX_ITEMS = 20
#: ``P31`` classes of items that are no concept: Wikimedia disambiguation page, list article and
#: category; family name; given name, male and female given name.
NOT_CONCEPTS = frozenset(
    {"Q4167410", "Q13406463", "Q4167836", "Q101352", "Q202444", "Q12308941", "Q11879590"}
)
#: Confidence factors: a match by alias rather than label, a walk that began at ``P31``, and a place
#: the list's domain chose among several.
ALIAS, INSTANCE, BY_DOMAIN = 0.9, 0.9, 0.9
_QID = re.compile(r"^Q[1-9][0-9]*$")
#: A Freebase id as Open Images and Wikidata's ``P646`` write it.
FREEBASE_ID = re.compile(r"^/[mg]/[0-9a-z_]{1,20}$")
_PREFIXES = (
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
)


@dataclass
class NameLinkReport:
    """What one run of the linker did.

    Attributes:
        endpoint: The SPARQL endpoint asked.
        skipped: Why nothing was proposed (the endpoint unreachable or failing), else empty.
        names: Names looked up.
        by_id: Names whose item was found by the Freebase id the list gives them.
        matched: Names with at least one item.
        placed: Names given a parent.
        ambiguous: Names whose items lead to several places that the domain did not separate.
        outside_domain: Names whose items lead only outside the list's domain.
        no_path: Names with items none of which reaches an anchor within the depth.
        items: Items read (matches and the classes above them).
        requests: SPARQL requests sent.
        seconds: Wall time.
        by_name: The proposals, by name.
    """

    endpoint: str
    skipped: str = ""
    names: int = 0
    by_id: int = 0
    matched: int = 0
    placed: int = 0
    ambiguous: int = 0
    outside_domain: int = 0
    no_path: int = 0
    items: int = 0
    requests: int = 0
    seconds: float = 0.0
    by_name: dict[str, NamePlacement] = field(default_factory=dict, repr=False)


def spellings(name: str) -> list[str]:
    """The spellings of ``name`` sent to the endpoint (labels are matched exactly there).

    >>> spellings("boeing 737")
    ['boeing 737', 'Boeing 737', 'BOEING 737']
    """
    forms = (name, name.lower(), name[:1].upper() + name[1:].lower(), name.title(), name.upper())
    return list(dict.fromkeys(forms))


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _literal(text: str) -> str:
    """``text`` as a SPARQL English literal (quotes, backslashes and line breaks escaped).

    >>> print(_literal('say "hi"\\\\'))
    "say \\"hi\\"\\\\"@en
    """
    return f'"{text.translate(_ESCAPES)}"@en'


@dataclass(frozen=True)
class _Match:
    qid: str
    how: str  # "label", "alias" or "Freebase id /m/..."


@dataclass(frozen=True)
class _Place:
    concept: str
    score: float
    qid: str
    evidence: str


class NameLinker:
    """Proposes parents for names through a Wikidata endpoint (a :class:`~bamboo.graph.link.external.
    PlaceNames`); see the module docstring.

    Args:
        client: The endpoint.
        lexicon: The label system's WordNet concepts; those with a ``qid`` are anchors.
        wn31_map: WordNet 3.1 to 3.0 ids (:func:`~bamboo.graph.wikidata.sync.read_wn31_map`) for
            items with a ``P8814`` id.
        max_depth: Levels walked up from an item.
        probe: Checks that the endpoint answers before any work (a short timeout, no retries),
            so an unreachable one costs seconds; ``None`` skips the check.
        log: Receives progress lines.
    """

    def __init__(
        self,
        client: WikidataClient,
        lexicon: Lexicon,
        *,
        wn31_map: Mapping[str, str] | None = None,
        max_depth: int = MAX_DEPTH,
        probe: WikidataClient | None = None,
        log: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.client = client
        self.lexicon = lexicon
        self.wn31_map = wn31_map
        self.max_depth = max_depth
        self.probe = probe
        self.log = log
        self.anchors: dict[str, str] = {
            str(c["qid"]): cid for cid, c in sorted(lexicon.concepts.items()) if c.get("qid")
        }
        self.report = NameLinkReport(client.endpoint)

    def __call__(
        self, names: Sequence[str], domain: Sequence[str] = (), *, freebase: Mapping[str, str] | None = None
    ) -> dict[str, NamePlacement]:
        """Proposals for ``names`` (those the endpoint says something about); ``domain``: the
        concepts the list's classes fall under; ``freebase``: the Freebase id the list gives a name
        (Open Images). Sets :attr:`report`; an endpoint error proposes nothing and is reported as
        ``skipped``."""
        started = time.perf_counter()
        sent = self.client.requests + (self.probe.requests if self.probe else 0)
        self.report = NameLinkReport(self.client.endpoint, names=len(names))
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        found: dict[str, NamePlacement] = {}
        if names:
            try:
                if self.probe is not None:
                    self.probe.select("SELECT * WHERE { } LIMIT 1")
                found = self._link(names, domain, freebase or {})
            except (BambooError, OSError, ValueError, SPARQLWrapperException) as exc:
                # unreachable, refused, timed out, not found, or not answering SPARQL JSON
                why = (str(exc).splitlines() or [""])[0][:300] or type(exc).__name__
                self.report = NameLinkReport(self.client.endpoint, skipped=why, names=len(names))
                found = {}
        self.report.by_name = found
        self.report.requests = self.client.requests + (self.probe.requests if self.probe else 0) - sent
        self.report.seconds = round(time.perf_counter() - started, 2)
        return found

    # -- the steps --------------------------------------------------------------------------------

    def _link(
        self, names: Sequence[str], domain: Sequence[str], freebase: Mapping[str, str]
    ) -> dict[str, NamePlacement]:
        by_id = self._by_freebase({n: freebase[n] for n in names if n in freebase})
        self.report.by_id = len(by_id)
        found = {**self._lookup([n for n in names if n not in by_id]), **by_id}
        common = {name for name, ms in found.items() if len(ms) > MAX_ITEMS}  # too common to decide by
        items = self._fetch(sorted({m.qid for name, ms in found.items() if name not in common for m in ms}))
        matches: dict[str, list[_Match]] = {}
        for name, ms in found.items():
            concepts = ms if name in common else [m for m in ms if _concept(items.get(m.qid))]
            # the item with the list's own id outranks any label; a label outranks an alias
            exact = [m for m in concepts if m.how.startswith("Freebase id")]
            labelled = [m for m in concepts if m.how == "label"]
            if exact or labelled or concepts:
                matches[name] = exact or labelled or concepts
        self.report.matched = len(matches)
        starts = sorted({m.qid for name, ms in matches.items() if name not in common for m in ms})
        places = self._walk(starts, items)
        self.report.items = len(items)
        out = {}
        for name, ms in sorted(matches.items()):
            out[name] = decision = self._decide(name, ms, places, items, domain)
            if decision.concept is not None:
                self.report.placed += 1
        self.log(
            f"wikidata: {self.report.matched} of {len(names)} names match an item; "
            f"{self.report.placed} placed, {self.report.ambiguous} ambiguous, "
            f"{self.report.outside_domain} outside the domain, {self.report.no_path} without a path"
        )
        return out

    def _by_freebase(self, ids: Mapping[str, str]) -> dict[str, list[_Match]]:
        """The items whose ``P646`` (Freebase id) is the id the list gives each name; names whose id is
        not shaped like one, or that no item carries, are left out."""
        wanted: dict[str, list[str]] = {}
        for name, mid in ids.items():
            if FREEBASE_ID.match(mid):
                wanted.setdefault(mid, []).append(name)
        out: dict[str, list[_Match]] = {}
        mids = sorted(wanted)
        for i in range(0, len(mids), self.client.batch):
            values = " ".join(f'"{m}"' for m in mids[i : i + self.client.batch])  # shapes checked above
            rows = self.client.select(
                "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\n"
                f"SELECT ?item ?id WHERE {{ VALUES ?id {{ {values} }} ?item wdt:P646 ?id . }}"
            )
            for r in rows:
                qid = r["item"].rsplit("/", 1)[-1]
                if _QID.match(qid) and r["id"] in wanted:
                    for name in wanted[r["id"]]:
                        out.setdefault(name, []).append(_Match(qid, f"Freebase id {r['id']}"))
        return {name: sorted(ms, key=lambda m: m.qid) for name, ms in out.items()}

    def _lookup(self, names: Sequence[str]) -> dict[str, list[_Match]]:
        """The items whose English label or alias is each name, ignoring case (a label when it is
        both); names without one are left out."""
        by_fold: dict[str, list[str]] = {}
        for name in dict.fromkeys(names):
            by_fold.setdefault(name.casefold(), []).append(name)
        hits: dict[str, dict[str, str]] = {}  # folded name -> item -> how
        unique = [n for ns in by_fold.values() for n in ns]
        for i in range(0, len(unique), self.client.batch):
            texts = {s for n in unique[i : i + self.client.batch] for s in spellings(n)}
            values = " ".join(_literal(t) for t in sorted(texts))
            rows = self.client.select(
                _PREFIXES + f"SELECT ?item ?text ?how WHERE {{ VALUES ?text {{ {values} }}\n"
                '  { ?item rdfs:label ?text . BIND("label" AS ?how) }\n'
                '  UNION { ?item skos:altLabel ?text . BIND("alias" AS ?how) }\n'
                "}"
            )
            for r in rows:
                qid = r["item"].rsplit("/", 1)[-1]
                fold = r["text"].casefold()
                if _QID.match(qid) and fold in by_fold:
                    seen = hits.setdefault(fold, {})
                    if seen.get(qid) != "label":
                        seen[qid] = r["how"]
        return {
            name: [_Match(q, how) for q, how in sorted(found.items())]
            for fold, found in hits.items()
            for name in by_fold[fold]
        }

    def _fetch(
        self, qids: Iterable[str], into: dict[str, WikidataItem] | None = None
    ) -> dict[str, WikidataItem]:
        """Read ``qids`` (batched) and remember those that anchor through a WordNet 3.1 id."""
        items = into if into is not None else {}
        wanted = [q for q in qids if q not in items]
        if wanted:
            for qid, item in self.client.items(wanted).items():
                items[qid] = item
                if qid not in self.anchors:
                    found = wordnet_anchor(item.wordnet31, item.label, self.lexicon, self.wn31_map)
                    if found is not None:
                        self.anchors[qid] = found
        return items

    def _walk(self, starts: Sequence[str], items: dict[str, WikidataItem]) -> dict[str, list[_Place]]:
        """For each start item, the anchors reached first going up, one level at a time for all of
        them together."""
        first = {q: _first_step(items[q]) for q in starts}
        frontier = {q: set(first[q][0]) for q in starts}
        seen = {q: {q, *first[q][0]} for q in starts}
        for level in range(1, self.max_depth + 1):
            self._fetch(sorted({p for f in frontier.values() for p in f}), items)
            done = {q for q in frontier if frontier[q] & self.anchors.keys()}
            if level == self.max_depth:
                break
            nxt: dict[str, set[str]] = {}
            for q, here in frontier.items():
                if q in done:
                    continue
                up = {p for h in here if h in items for p in items[h].parents} - seen[q]
                seen[q] |= up
                if up:
                    nxt[q] = up
            frontier = {**{q: frontier[q] for q in done}, **nxt}
            if not nxt:
                break
        places: dict[str, list[_Place]] = {}
        for q in starts:
            parents, route = first[q]
            view = {**items, q: replace(items[q], subclass_of=parents, parent_taxon=())}
            links = chain_links(q, view, self.anchors, self.max_depth)
            factor = INSTANCE if route == "P31" else 1.0
            places[q] = [
                _Place(
                    link.concept,
                    round(link.score * factor, 4),
                    q,
                    link.evidence.replace(f"{q} -> ", f"{q} -{route}-> ", 1),
                )
                for link in links
            ]
        return places

    def _decide(
        self,
        name: str,
        matches: Sequence[_Match],
        places: Mapping[str, Sequence[_Place]],
        items: Mapping[str, WikidataItem],
        domain: Sequence[str],
    ) -> NamePlacement:
        """One name's proposal from the places its items lead to (see the module docstring)."""
        how = {m.qid: m.how for m in matches}
        best: dict[str, _Place] = {}
        for m in matches:
            for p in places.get(m.qid, ()):
                score = round(p.score * (ALIAS if m.how == "alias" else 1.0), 4)
                if p.concept not in best or score > best[p.concept].score:
                    best[p.concept] = replace(p, score=score)
        if len(matches) > MAX_ITEMS:
            self.report.ambiguous += 1
            return NamePlacement(
                name, None, review=True, note=f"{len(matches)} Wikidata items have this name"
            )
        if not best:
            self.report.no_path += 1
            shown = ", ".join(m.qid for m in matches[:5])
            return NamePlacement(
                name, None, note=f"Wikidata {shown}: no known concept within {self.max_depth} levels"
            )
        deepest = self._deepest(best)
        inside = [c for c in deepest if not domain or set(domain) & self.lexicon.ancestors(c)]
        candidates = tuple(sorted(deepest, key=lambda c: (-best[c].score, c)))
        if not inside:
            self.report.outside_domain += 1
            return NamePlacement(
                name,
                None,
                candidates=candidates,
                note=f"Wikidata leads to {', '.join(candidates)}, outside the list domain",
            )
        if len(inside) > 1:
            self.report.ambiguous += 1
            return NamePlacement(
                name,
                None,
                review=True,
                candidates=candidates,
                note="ambiguous in Wikidata: "
                + "; ".join(f"{best[c].qid} -> {c} {self.lexicon.name(c)!r}" for c in candidates),
            )
        chosen = best[inside[0]]
        by_domain = len(deepest) > 1
        score = round(chosen.score * (BY_DOMAIN if by_domain else 1.0), 4)
        label = items[chosen.qid].label or chosen.qid
        return NamePlacement(
            name,
            chosen.concept,
            score=score,
            evidence=f"wikidata {chosen.qid} {label!r} ({how[chosen.qid]}): {chosen.evidence}",
            qid=chosen.qid,
            candidates=(chosen.concept, *[c for c in candidates if c != chosen.concept]),
            note=f"chosen by the list domain among {len(deepest)} Wikidata places" if by_domain else "",
        )

    def _deepest(self, places: Mapping[str, _Place]) -> list[str]:
        """The places with none of the others below them (one above another is one place)."""
        return sorted(c for c in places if not any(o != c and c in self.lexicon.ancestors(o) for o in places))


def _concept(item: WikidataItem | None) -> bool:
    """Whether an item read from the endpoint is a concept (not a disambiguation page, a list, a
    category or a name)."""
    return item is not None and not set(item.instance_of) & NOT_CONCEPTS


def _first_step(item: WikidataItem) -> tuple[tuple[str, ...], str]:
    """Where the walk starts from an item: its subclass-of / parent-taxon targets, else its
    instance-of targets, with the property that led there."""
    if item.parents:
        return item.parents, "P279" if item.subclass_of else "P171"
    return item.instance_of, "P31"
