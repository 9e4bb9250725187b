"""In-memory name search over concept names, lemmas and per-language labels (prefix + fuzzy).

Neither backend offers a portable full-text index (ArcadeDB has no FULLTEXT over Bolt), so the
service builds this index from one read of the graph and keeps it beside its taxonomy cache.
Prefix matches come from a sorted array (bisect); fuzzy matches from RapidFuzz.
"""

from __future__ import annotations

import bisect
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

__all__ = ["SearchHit", "SearchIndex", "labels_of", "normalize", "split_qualifier"]


_QUALIFIED = re.compile(r"^(.*?)\s*\(([^()]+)\)\s*$")


def split_qualifier(name: str) -> tuple[str, str]:
    """A class name and its trailing parenthesised qualifier (``""`` when it has none).

    >>> split_qualifier("Seal (Animal)"), split_qualifier("Iron (Golf)"), split_qualifier("dog")
    (('Seal', 'Animal'), ('Iron', 'Golf'), ('dog', ''))
    """
    m = _QUALIFIED.match(name)
    return (m.group(1), m.group(2)) if m else (name, "")


def normalize(text: str) -> str:
    """Case-, accent- and separator-insensitive form used for matching."""
    if text.isascii():  # the same result without the per-character Unicode pass (most labels)
        return " ".join(text.replace("_", " ").lower().split())
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
        # Until sealed: one column per entry field (key, language code, concept number, original
        # text or None where it equals the key).
        self._pending: tuple[list[str], list[int], list[int], list[str | None]] | None = ([], [], [], [])
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
        keys, codes, numbers, originals = self._pending
        cid = props["id"]
        number = len(self._ids)
        self._ids.append(cid)
        self._names.append(props.get("name") or cid)
        for lang, texts in labels_of(props).items():
            code = self._langs.setdefault(lang, len(self._langs))
            for text in texts:
                key = normalize(text)
                keys.append(key)
                codes.append(code)
                numbers.append(number)
                originals.append(None if text == key else text)

    def seal(self) -> None:
        """Build the lookup structures from everything added (once; later calls return at once).
        Thread-safe: concurrent first searches wait for one build."""
        if self._pending is None:
            return
        with self._seal_lock:
            if self._pending is not None:
                self._build()

    def _build(self) -> None:
        """Sort the entries as the tuples (key, language, concept id, original text) sort, with
        array sorts over ranks rather than a Python sort over 750K tuples."""
        assert self._pending is not None
        keys, codes, numbers, originals = self._pending
        n = len(keys)
        self._choices = sorted(set(keys))
        self._slot = {key: k for k, key in enumerate(self._choices)}
        key_rank = np.fromiter((self._slot[k] for k in keys), dtype=np.int64, count=n)
        self._lang_names = [""] * len(self._langs)
        lang_rank = np.zeros(max(len(self._langs), 1), dtype=np.int64)
        for i, name in enumerate(sorted(self._langs)):
            self._lang_names[self._langs[name]] = name
            lang_rank[self._langs[name]] = i
        id_rank = np.empty(len(self._ids), dtype=np.int64)
        id_rank[sorted(range(len(self._ids)), key=self._ids.__getitem__)] = np.arange(len(self._ids))
        code = np.asarray(codes, dtype=np.int16)
        number = np.asarray(numbers, dtype=np.int32)
        order = np.lexsort((id_rank[number], lang_rank[code], key_rank)) if n else np.zeros(0, np.int64)
        # Entries equal on (key, language, concept) - "Dog" and "dog" - go by their original text.
        same = np.flatnonzero((np.diff(key_rank[order]) == 0) & (np.diff(number[order]) == 0))
        same = same[code[order][same] == code[order][same + 1]]
        if len(same):
            starts = same[np.r_[True, np.diff(same) > 1]]
            ends = same[np.r_[np.diff(same) > 1, True]] + 2
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
                order[a:b] = sorted(order[a:b].tolist(), key=lambda j: originals[j] or keys[j])
        self._bounds = np.concatenate([[0], np.cumsum(np.bincount(key_rank, minlength=len(self._choices)))])
        self._lang = code[order]
        self._concept = number[order]
        self._original = [originals[j] for j in order.tolist()]
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
        self,
        query: str,
        *,
        lang: str | None = None,
        limit: int = 20,
        fuzzy: bool = True,
        prior: Callable[[str], float] | None = None,
    ) -> list[SearchHit]:
        """Exact, then prefix, then fuzzy matches; one hit per concept, best first.

        ``prior`` (concept id -> how common it is, e.g. its sense's tag count) breaks ties between
        equally good matches: of the five concepts named exactly *dog*, the animal comes first.
        """
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
        common = prior or (lambda _cid: 0.0)
        ranked = sorted(
            hits.values(), key=lambda h: (order[h.match], -h.score, len(h.matched), -common(h.id), h.id)
        )
        return ranked[:limit]
