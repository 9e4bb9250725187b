"""In-memory name search over concept names, lemmas and per-language labels (prefix + fuzzy).

Neither backend offers a portable full-text index (ArcadeDB has no FULLTEXT over Bolt), so the
service builds this index from one read of the graph and keeps it beside its taxonomy cache.
Prefix matches come from a sorted array (bisect); fuzzy matches from RapidFuzz.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
    """Search entries ``(text, lang, concept)`` built from concept property maps."""

    def __init__(self, concepts: Iterable[dict[str, Any]]) -> None:
        entries: list[tuple[str, str, str, str]] = []  # (normalized, lang, id, original)
        self._names: dict[str, str] = {}
        for props in concepts:
            cid = props["id"]
            self._names[cid] = props.get("name") or cid
            for lang, texts in labels_of(props).items():
                for text in texts:
                    entries.append((normalize(text), lang, cid, text))
        entries.sort()
        self._keys = [e[0] for e in entries]
        self._entries = entries
        self._choices = sorted(set(self._keys))
        self._by_key: dict[str, list[int]] = {}
        for i, key in enumerate(self._keys):
            self._by_key.setdefault(key, []).append(i)

    def __len__(self) -> int:
        return len(self._entries)

    def search(
        self, query: str, *, lang: str | None = None, limit: int = 20, fuzzy: bool = True
    ) -> list[SearchHit]:
        """Exact, then prefix, then fuzzy matches; one hit per concept, best first."""
        q = normalize(query)
        if not q:
            return []
        hits: dict[str, SearchHit] = {}

        def add(i: int, match: str, score: float) -> None:
            key, entry_lang, cid, original = self._entries[i]
            if lang is not None and entry_lang != lang:
                return
            if cid not in hits:
                hits[cid] = SearchHit(cid, self._names[cid], original, entry_lang, match, score)

        for i in self._by_key.get(q, []):
            add(i, "exact", 100.0)
        start = bisect.bisect_left(self._keys, q)
        for i in range(start, len(self._keys)):
            if len(hits) >= limit or not self._keys[i].startswith(q):
                break
            add(i, "prefix", 90.0)
        if fuzzy and len(hits) < limit and len(q) >= 3:
            for key, score, _ in process.extract(
                q, self._choices, scorer=fuzz.ratio, limit=limit * 3, score_cutoff=75
            ):
                for i in self._by_key[key]:
                    add(i, "fuzzy", float(score) * 0.85)
                if len(hits) >= limit:
                    break
        order = {"exact": 0, "prefix": 1, "fuzzy": 2}
        ranked = sorted(hits.values(), key=lambda h: (order[h.match], -h.score, len(h.matched), h.id))
        return ranked[:limit]
