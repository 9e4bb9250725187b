"""In-memory name search over concept names, lemmas and per-language labels (prefix + fuzzy).

Neither backend offers a portable full-text index (ArcadeDB has no FULLTEXT over Bolt), so the
service builds this index from one read of the graph and keeps it beside its taxonomy cache.
Prefix matches come from a sorted array (bisect); fuzzy matches from RapidFuzz.
"""

from __future__ import annotations

import bisect
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

__all__ = ["SearchHit", "SearchIndex", "labels_of", "normalize"]


def normalize(text: str) -> str:
    """Case-, accent- and separator-insensitive form used for matching."""
    text = unicodedata.normalize("NFKD", text.replace("_", " ")).casefold()
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())


def labels_of(props: dict[str, Any]) -> dict[str, list[str]]:
    """Labels per language of a concept: English from name + lemmas, others from ``labels_<lang>``."""
    out: dict[str, list[str]] = {}
    english = [props.get("name") or ""] + list(props.get("lemmas") or [])
    out["en"] = list(dict.fromkeys(t for t in english + list(props.get("labels_en") or []) if t))
    for key, value in props.items():
        if key.startswith("labels_") and key != "labels_en" and value:
            out[key[len("labels_") :]] = list(dict.fromkeys(value if isinstance(value, list) else [value]))
    return out


@dataclass(frozen=True)
class SearchHit:
    """One concept matched by a search, with the text, language and kind of match."""

    id: str
    name: str
    matched: str
    lang: str
    match: str  # "exact" | "prefix" | "fuzzy"
    score: float


class SearchIndex:
    """Search entries ``(text, lang, concept)`` built from concept property maps.

    Compact for 300K concepts and their ~750K labels: the distinct normalized keys in one sorted
    list (for bisect and RapidFuzz), and per entry a language code, a concept number and the
    original text only where it differs from its key.

    Args:
        concepts: Property maps (``id``, ``name``, ``lemmas``, ``labels_<lang>``); more may be
            given to :meth:`add` before the first search.
    """

    def __init__(self, concepts: Iterable[dict[str, Any]] = ()) -> None:
        self._pending: list[tuple[str, int, int, str | None]] | None = []
        self._seal_lock = threading.Lock()
        self._ids: list[str] = []
        self._names: list[str] = []
        self._langs: dict[str, int] = {}
        for props in concepts:
            self.add(props)

    def add(self, props: dict[str, Any]) -> None:
        """Index one more concept (only before the first search)."""
        if self._pending is None:
            raise RuntimeError("the index is sealed: add every concept before searching")
        cid = props["id"]
        number = len(self._ids)
        self._ids.append(cid)
        self._names.append(props.get("name") or cid)
        for lang, texts in labels_of(props).items():
            code = self._langs.setdefault(lang, len(self._langs))
            for text in texts:
                key = normalize(text)
                self._pending.append((key, code, number, None if text == key else text))

    def seal(self) -> None:
        """Build the lookup structures from everything added (once; later calls return at once).
        Thread-safe: concurrent first searches wait for one build."""
        if self._pending is None:
            return
        with self._seal_lock:
            if self._pending is not None:
                self._build()

    def _build(self) -> None:
        assert self._pending is not None
        lang_names = sorted(self._langs)
        rank = {self._langs[name]: i for i, name in enumerate(lang_names)}
        ids = self._ids
        # Sorted as the tuples (key, lang, id, original) sort.
        entries = sorted(self._pending, key=lambda e: (e[0], lang_names[rank[e[1]]], ids[e[2]], e[3] or e[0]))
        self._pending = None
        self._lang_names = [""] * len(self._langs)
        for name, code in self._langs.items():
            self._lang_names[code] = name
        self._choices: list[str] = []
        bounds = [0]
        for i, (key, *_rest) in enumerate(entries):
            if not self._choices or self._choices[-1] != key:
                if self._choices:
                    bounds.append(i)
                self._choices.append(key)
        bounds.append(len(entries))
        self._bounds = np.asarray(bounds, dtype=np.int64)
        self._lang = np.fromiter((e[1] for e in entries), dtype=np.int16, count=len(entries))
        self._concept = np.fromiter((e[2] for e in entries), dtype=np.int32, count=len(entries))
        self._original = [e[3] for e in entries]
        self._slot = {key: k for k, key in enumerate(self._choices)}
        self._pending = None  # last: another thread takes a None here as "built"

    def __len__(self) -> int:
        self.seal()
        return len(self._lang)

    def state(self) -> dict[str, Any]:
        """The sealed index as plain lists and arrays (see :meth:`from_state`)."""
        self.seal()
        return {
            "ids": self._ids,
            "names": self._names,
            "lang_names": self._lang_names,
            "choices": self._choices,
            "original": self._original,
            "bounds": self._bounds,
            "lang": self._lang,
            "concept": self._concept,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SearchIndex:
        """The index :meth:`state` described."""
        index = cls()
        index._pending = None
        index._ids, index._names = list(state["ids"]), list(state["names"])
        index._lang_names = list(state["lang_names"])
        index._langs = {name: i for i, name in enumerate(index._lang_names)}
        index._choices, index._original = list(state["choices"]), list(state["original"])
        index._bounds = np.asarray(state["bounds"], dtype=np.int64)
        index._lang = np.asarray(state["lang"], dtype=np.int16)
        index._concept = np.asarray(state["concept"], dtype=np.int32)
        index._slot = {key: k for k, key in enumerate(index._choices)}
        return index

    def search(
        self, query: str, *, lang: str | None = None, limit: int = 20, fuzzy: bool = True
    ) -> list[SearchHit]:
        """Exact, then prefix, then fuzzy matches; one hit per concept, best first."""
        self.seal()
        q = normalize(query)
        if not q:
            return []
        hits: dict[str, SearchHit] = {}

        def add_key(k: int, match: str, score: float) -> None:
            for i in range(int(self._bounds[k]), int(self._bounds[k + 1])):
                entry_lang = self._lang_names[self._lang[i]]
                if lang is not None and entry_lang != lang:
                    continue
                number = int(self._concept[i])
                cid = self._ids[number]
                if cid not in hits:
                    original = self._original[i] or self._choices[k]
                    hits[cid] = SearchHit(cid, self._names[number], original, entry_lang, match, score)

        if (k := self._slot.get(q)) is not None:
            add_key(k, "exact", 100.0)
        start = bisect.bisect_left(self._choices, q)
        for k in range(start, len(self._choices)):
            if len(hits) >= limit or not self._choices[k].startswith(q):
                break
            if self._choices[k] != q:
                add_key(k, "prefix", 90.0)
        if fuzzy and len(hits) < limit and len(q) >= 3:
            for key, score, _ in process.extract(
                q, self._choices, scorer=fuzz.ratio, limit=limit * 3, score_cutoff=75
            ):
                add_key(self._slot[key], "fuzzy", float(score) * 0.85)
                if len(hits) >= limit:
                    break
        order = {"exact": 0, "prefix": 1, "fuzzy": 2}
        ranked = sorted(hits.values(), key=lambda h: (order[h.match], -h.score, len(h.matched), h.id))
        return ranked[:limit]
