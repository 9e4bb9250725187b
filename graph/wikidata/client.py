"""Wikidata items for the label system: from a SPARQL endpoint (SPARQLWrapper) or a JSON dump.

Per item: English label, aliases and description; labels in zh/es/nl/it (crawl-query
translations); ``P279`` subclass of, ``P31`` instance of, ``P171`` parent taxon, ``P8814`` WordNet
3.1 synset id, ``P646`` Freebase id (Open Images MIDs), ``P2888`` exact match.

The client keeps to the Wikidata Query Service's rules: one request at a time with a minimum gap, a
real User-Agent, a 60 s timeout, HTTP 429/503 answered by waiting ``Retry-After`` (or an exponential
back-off) and trying again, and no ``wdt:P279*`` closures: subtrees are paged one level at a time
with small ``VALUES`` batches.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import json
import os
import time
import urllib.error
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from bamboo.errors import GraphUnavailable, MalformedFile, WikidataError

__all__ = [
    "oxigraph_server",
    "DEFAULT_ENDPOINT",
    "LANGUAGES",
    "WikidataClient",
    "WikidataError",
    "WikidataItem",
    "read_dump",
]

DEFAULT_ENDPOINT = "https://query.wikidata.org/sparql"
USER_AGENT = "bamboo-labels/0.1 (https://github.com/bamboo-labels/bamboo; label-system sync) SPARQLWrapper"
#: Languages whose labels are kept besides English (crawl-query translations).
LANGUAGES = ("zh", "es", "nl", "it")
_PROPS = {
    "P279": "subclass_of",
    "P31": "instance_of",
    "P171": "parent_taxon",
    "P8814": "wordnet31",
    "P646": "freebase",
    "P2888": "exact_match",
}
_ENTITY = "http://www.wikidata.org/entity/"


@dataclass(frozen=True)
class WikidataItem:
    """One Wikidata item as the label system uses it."""

    qid: str
    label: str | None = None
    aliases: tuple[str, ...] = ()
    description: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    subclass_of: tuple[str, ...] = ()
    instance_of: tuple[str, ...] = ()
    parent_taxon: tuple[str, ...] = ()
    wordnet31: tuple[str, ...] = ()
    freebase: tuple[str, ...] = ()
    exact_match: tuple[str, ...] = ()
    modified: str | None = None

    @property
    def parents(self) -> tuple[str, ...]:
        """Items above this one: subclass-of, then parent taxon (taxa are not under P279)."""
        return tuple(dict.fromkeys((*self.subclass_of, *self.parent_taxon)))


def _qid(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


class WikidataClient:
    """A polite SPARQL client for the Wikidata Query Service (or any endpoint with its data shape).

    Args:
        endpoint: SPARQL endpoint URL.
        timeout_s: Per-request timeout (the service's own limit is 60 s).
        min_interval_s: Minimum gap between two requests (one request at a time).
        max_retries: Tries per request on 429/503/timeouts before :class:`WikidataError`.
        max_wait_s: The longest single wait, whatever ``Retry-After`` says.
        sleep: Injected for tests that count waits; defaults to :func:`time.sleep`.
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        timeout_s: float = 60.0,
        min_interval_s: float = 1.0,
        max_retries: int = 8,
        max_wait_s: float = 300.0,
        batch: int = 50,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from SPARQLWrapper import JSON, POST, SPARQLWrapper

        self.endpoint = endpoint
        self._sparql = SPARQLWrapper(endpoint, agent=user_agent)
        self._sparql.setReturnFormat(JSON)
        self._sparql.setMethod(POST)
        self._sparql.setTimeout(int(timeout_s))
        self._min_interval = min_interval_s
        self._max_retries = max_retries
        self._max_wait = max_wait_s
        self._sleep = sleep
        self._last = 0.0
        self.batch = batch
        self.requests = 0
        self.waits: list[float] = []

    def select(self, query: str) -> list[dict[str, str]]:
        """Rows of a SELECT query as ``{variable: value}`` (URIs and literals as strings)."""
        from SPARQLWrapper.SPARQLExceptions import EndPointInternalError, QueryBadFormed

        for attempt in range(self._max_retries + 1):
            gap = self._last + self._min_interval - time.monotonic()
            if gap > 0:
                self._sleep(gap)
            self._last = time.monotonic()
            self.requests += 1
            self._sparql.setQuery(query)
            try:
                answer = self._sparql.query()
                try:
                    result = answer.convert()
                finally:
                    answer.response.close()
            except urllib.error.HTTPError as exc:
                exc.close()  # the error carries the open response
                if exc.code not in (429, 502, 503, 504) or attempt == self._max_retries:
                    raise WikidataError(f"{self.endpoint} answered HTTP {exc.code}: {exc.reason}") from exc
                self._wait(attempt, exc.headers.get("Retry-After") if exc.headers else None)
                continue
            except EndPointInternalError as exc:  # WDQS reports its own query timeouts as 500
                if attempt == self._max_retries:
                    raise WikidataError(f"{self.endpoint} failed: {str(exc)[:200]}") from exc
                self._wait(attempt, None)
                continue
            except QueryBadFormed as exc:
                raise WikidataError(f"bad SPARQL query: {str(exc)[:300]}") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt == self._max_retries:
                    raise GraphUnavailable(f"cannot reach SPARQL endpoint {self.endpoint}: {exc}") from exc
                self._wait(attempt, None)
                continue
            if not isinstance(result, dict):
                raise WikidataError(f"{self.endpoint} did not answer SPARQL JSON")
            return [
                {k: v["value"] for k, v in row.items()}
                | {f"{k}@lang": v.get("xml:lang", "") for k, v in row.items()}
                for row in result["results"]["bindings"]
            ]
        raise WikidataError("unreachable")  # pragma: no cover

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        seconds = min(2.0**attempt, 60.0)
        if retry_after:
            try:
                seconds = float(retry_after)
            except ValueError:
                with contextlib.suppress(TypeError, ValueError):
                    seconds = parsedate_to_datetime(retry_after).timestamp() - time.time()
        seconds = max(0.0, min(seconds, self._max_wait))
        self.waits.append(seconds)
        self._sleep(seconds)

    # --- the queries -------------------------------------------------------------------------

    def wordnet_anchors(self, page: int = 10000) -> dict[str, list[str]]:
        """Every item with a WordNet 3.1 synset id (``P8814``), paged with LIMIT/OFFSET."""
        out: dict[str, list[str]] = {}
        offset = 0
        while True:
            rows = self.select(
                "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\n"
                f"SELECT ?item ?wn WHERE {{ ?item wdt:P8814 ?wn }} LIMIT {page} OFFSET {offset}"
            )
            for r in rows:
                out.setdefault(_qid(r["item"]), []).append(r["wn"])
            if len(rows) < page:
                return out
            offset += page

    def children(self, parents: Sequence[str]) -> list[tuple[str, str]]:
        """``(child, parent)`` for the direct subclasses and child taxa of ``parents`` (one level)."""
        out: list[tuple[str, str]] = []
        for chunk in _chunks(parents, self.batch):
            values = " ".join(f"wd:{q}" for q in chunk)
            rows = self.select(
                "PREFIX wd: <http://www.wikidata.org/entity/>\n"
                "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\n"
                f"SELECT ?child ?parent WHERE {{ VALUES ?parent {{ {values} }} "
                "?child wdt:P279|wdt:P171 ?parent . }"
            )
            out.extend((_qid(r["child"]), _qid(r["parent"])) for r in rows)
        return out

    def items(self, qids: Sequence[str]) -> dict[str, WikidataItem]:
        """Labels, aliases, description, translations and the linking properties of ``qids``."""
        langs = ", ".join(f'"{lang}"' for lang in ("en", *LANGUAGES))
        props = " ".join(f"wdt:{p}" for p in _PROPS)
        out: dict[str, WikidataItem] = {}
        for chunk in _chunks(qids, self.batch):
            values = " ".join(f"wd:{q}" for q in chunk)
            rows = self.select(
                "PREFIX wd: <http://www.wikidata.org/entity/>\n"
                "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\n"
                "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
                "PREFIX schema: <http://schema.org/>\n"
                f"SELECT ?item ?p ?v WHERE {{ VALUES ?item {{ {values} }}\n"
                f'  {{ ?item rdfs:label ?v . BIND("label" AS ?p) FILTER(LANG(?v) IN ({langs})) }}\n'
                '  UNION { ?item skos:altLabel ?v . BIND("alias" AS ?p) FILTER(LANG(?v) = "en") }\n'
                '  UNION { ?item schema:description ?v . BIND("description" AS ?p)\n'
                '          FILTER(LANG(?v) = "en") }\n'
                '  UNION { ?item schema:dateModified ?v . BIND("modified" AS ?p) }\n'
                f"  UNION {{ VALUES ?prop {{ {props} }} ?item ?prop ?v . "
                "BIND(STR(?prop) AS ?p) }\n"
                "}"
            )
            out.update(_items_from_rows(rows))
        return out


def _items_from_rows(rows: Iterable[dict[str, str]]) -> dict[str, WikidataItem]:
    acc: dict[str, dict[str, Any]] = {}
    for r in rows:
        qid = _qid(r["item"])
        a = acc.setdefault(qid, {"labels": {}, "aliases": []})
        p, v, lang = r["p"], r["v"], r.get("v@lang", "")
        if p == "label":
            if lang == "en":
                a["label"] = v
            else:
                a["labels"][lang] = v
        elif p == "alias":
            a["aliases"].append(v)
        elif p in ("description", "modified"):
            a[p] = v
        else:
            name = _PROPS.get(p.rsplit("/", 1)[-1])
            if name:
                a.setdefault(name, []).append(_qid(v) if v.startswith(_ENTITY) else v)
    return {
        qid: WikidataItem(
            qid=qid,
            label=a.get("label"),
            aliases=tuple(sorted(set(a["aliases"]))),
            description=a.get("description"),
            labels=dict(sorted(a["labels"].items())),
            modified=a.get("modified"),
            **{name: tuple(sorted(set(a.get(name, [])))) for name in _PROPS.values()},
        )
        for qid, a in acc.items()
    }


def _chunks(seq: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def read_dump(path: str | os.PathLike[str]) -> Iterator[WikidataItem]:
    """Stream items from a Wikidata JSON dump (``latest-all.json`` plain, ``.gz`` or ``.bz2``).

    The dump is a JSON array with one entity per line; lines are parsed one at a time, so memory
    stays flat. Properties (``P...``) and lexemes are skipped.

    Raises:
        MalformedFile: a line that is not an entity (the message names file and line).
    """
    path = Path(path)
    openers: dict[str, Callable[..., Any]] = {".gz": gzip.open, ".bz2": bz2.open}
    opener = openers.get(path.suffix, open)
    with opener(path, "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.strip().rstrip(",")
            if line in ("[", "]", ""):
                continue
            try:
                entity = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MalformedFile(path, number, f"not a JSON entity: {exc.msg}") from exc
            if not isinstance(entity, dict) or "id" not in entity:
                raise MalformedFile(path, number, "entity without an id")
            if entity.get("type", "item") != "item":
                continue
            yield _item_from_entity(entity)


def _item_from_entity(e: dict[str, Any]) -> WikidataItem:
    def text(block: str, lang: str) -> str | None:
        value = (e.get(block) or {}).get(lang)
        return value.get("value") if isinstance(value, dict) else None

    claims = e.get("claims") or {}

    def values(prop: str) -> tuple[str, ...]:
        out = []
        for claim in claims.get(prop, []):
            snak = claim.get("mainsnak", {})
            if snak.get("snaktype") != "value" or claim.get("rank") == "deprecated":
                continue
            v = snak.get("datavalue", {}).get("value")
            out.append(v["id"] if isinstance(v, dict) and "id" in v else str(v))
        return tuple(sorted(set(out)))

    return WikidataItem(
        qid=e["id"],
        label=text("labels", "en"),
        aliases=tuple(sorted({a["value"] for a in (e.get("aliases") or {}).get("en", [])})),
        description=text("descriptions", "en"),
        labels={lang: v for lang in LANGUAGES if (v := text("labels", lang))},
        modified=e.get("modified"),
        subclass_of=values("P279"),
        instance_of=values("P31"),
        parent_taxon=values("P171"),
        wordnet31=values("P8814"),
        freebase=values("P646"),
        exact_match=values("P2888"),
    )


@contextlib.contextmanager
def oxigraph_server(
    *, location: Path | None = None, load: Path | None = None, turtle: bytes | None = None
) -> Iterator[str]:
    """A local oxigraph SPARQL server on 127.0.0.1 (the ``oxigraph`` package's binary) for a
    Wikidata extract; yields its query URL (``.../query``) and stops it on exit.

    Args:
        location: The store folder (in memory when None).
        load: An N-Triples / Turtle file bulk-loaded into ``location`` before serving.
        turtle: Turtle posted into the running server.
    """
    import shutil
    import socket
    import subprocess
    import sys

    import httpx

    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    where = ["--location", str(location)] if location is not None else []
    if load is not None:
        if location is None:
            raise ValueError("a bulk load needs a store location")
        subprocess.run([exe, "load", *where, "--file", str(load)], check=True, capture_output=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen([exe, "serve", *where, "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/query", params={"query": "ASK {}"}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        if turtle is not None:
            r = httpx.post(base + "/store?default", content=turtle, headers={"Content-Type": "text/turtle"})
            r.raise_for_status()
        yield base + "/query"
    finally:
        proc.terminate()
        proc.wait(10)
