"""The policy combining the three strategies.

Precedence: a subclass/parent-taxon chain to a known synset wins (score >= 0.5). Otherwise the
head-compound parse names the parent word, and when that word has several senses the embedding
cosine between the query ("name: description") and each sense's "name: gloss" picks one. Without a
head, the nearest synset by embedding is taken when its cosine reaches ``embed_threshold``. A link
goes to the review queue (``review=True``) when the head sense is a guess (several senses, no
embedding to choose), when head and embedding disagree on a weak head, or when nothing clears its
threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bamboo.graph.link.embed import SynsetIndex, synset_text
from bamboo.graph.link.head import HeadLinker
from bamboo.graph.link.lexicon import Link

__all__ = ["Decision", "LinkPolicy", "Query"]


@dataclass(frozen=True)
class Query:
    name: str
    description: str = ""
    chain: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The chosen link (``None`` when nothing was found), whether a person should review it, and
    every strategy's ranked candidates."""

    link: Link | None
    review: bool
    candidates: dict[str, list[Link]] = field(default_factory=dict)


class LinkPolicy:
    def __init__(
        self,
        head: HeadLinker,
        embed: SynsetIndex | None = None,
        *,
        chain_threshold: float = 0.5,
        embed_threshold: float = 0.55,
        k: int = 5,
    ) -> None:
        self.head, self.embed = head, embed
        self.chain_threshold, self.embed_threshold, self.k = chain_threshold, embed_threshold, k

    def decide_many(self, queries: Sequence[Query]) -> list[Decision]:
        heads = self.head.link_many([q.name for q in queries], self.k)
        texts = [f"{q.name}: {q.description}".strip(": ") for q in queries]
        embeds = self.embed.link_many(texts, self.k) if self.embed else [[] for _ in queries]
        chosen = self._choose_senses(texts, heads)
        out = []
        for q, head, emb, sense in zip(queries, heads, embeds, chosen, strict=True):
            cands = {"chain": list(q.chain), "head": head, "embedding": emb}
            if q.chain and q.chain[0].score >= self.chain_threshold:
                out.append(Decision(q.chain[0], False, cands))
            elif sense is not None:
                link, sure = sense
                agrees = any(e.concept == link.concept for e in emb)
                out.append(Decision(link, not (sure or agrees), cands))
            elif emb and emb[0].score >= self.embed_threshold:
                out.append(Decision(emb[0], False, cands))
            else:
                best = (emb or [None])[0]
                out.append(Decision(best, True, cands))
        return out

    def _choose_senses(
        self, texts: Sequence[str], heads: Sequence[list[Link]]
    ) -> list[tuple[Link, bool] | None]:
        """Per query: the head sense to take and whether it is sure (one sense, or picked by cosine)."""
        if self.embed is None:
            return [(h[0], len(h) == 1 or h[0].score >= 0.7) if h else None for h in heads]
        lex = self.head.lexicon
        need = sorted({link.concept for h in heads if len(h) > 1 for link in h})
        vectors = dict(
            zip(need, self.embed.embedder.encode([synset_text(lex, c) for c in need]), strict=True)
        )
        ambiguous = [i for i, h in enumerate(heads) if len(h) > 1]
        queries = self.embed.embedder.encode([texts[i] for i in ambiguous]) if ambiguous else np.zeros((0, 1))
        out: list[tuple[Link, bool] | None] = [(h[0], True) if h else None for h in heads]
        for row, i in enumerate(ambiguous):
            sims = [float(vectors[link.concept] @ queries[row]) for link in heads[i]]
            best = int(np.argmax(sims))
            link = heads[i][best]
            out[i] = (
                Link(
                    link.concept,
                    link.score,
                    link.method,
                    f"{link.evidence}; sense by cosine {sims[best]:.3f}",
                ),
                True,
            )
        return out
