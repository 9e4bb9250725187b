"""The policy combining the three strategies.

Precedence:

1. a subclass/parent-taxon chain to a known synset wins (score >= ``chain_threshold``);
2. head and embedding together: the head-compound parse names a word that is often an ancestor
   of the right parent rather than the parent itself ("Sumatran orangutan" -> "orangutan", but
   "wire-haired fox terrier" -> "terrier" when the parent is "fox terrier"), so the best-ranked
   embedding candidate lying under one of the head's senses is taken (``method="head+embedding"``)
   if its cosine is within ``head_margin`` of the embedding's best;
3. the head alone when there is no embedding to check it against: when its word has several senses,
   the cosine between the query ("name: description") and each sense's "name: gloss" picks one;
4. head and embedding disagreeing (no top-``pool`` embedding candidate under the head): review,
   proposing the embedding's best, or the head's sense when that is a single-sense leaf word (a
   compound of a leaf word names a kind of it: "Sumatran orangutan");
5. without a head, the nearest synset by embedding when its cosine reaches ``embed_threshold``.

On 1,000 hidden WordNet leaves (``bamboo eval linking``, seed 0) rule 4 proposing the head's sense
was right 3 times where the embedding's best was right 71 times; the leaf exception costs 19 hits
there, since a hidden leaf's parent is never a leaf, but it is what places dataset classes such as
"Sumatran orangutan". ``head_margin`` 0.15 loses nothing against no margin on that sample.

A query may carry a ``scope`` (a dataset's domain or its parent class): candidates outside it are
dropped, and when none is left the scope itself is proposed for review. A link goes to the review
queue (``review=True``) when the head sense is a guess (several senses, no embedding to choose),
when head and embedding disagree on a weak head, or when nothing clears its threshold.
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
    """One name to place under a synset.

    Attributes:
        name: The name (a dataset class or a Wikidata label).
        description: Its description, compared with the glosses.
        chain: Links found by walking the source's own hierarchy to an anchor, best first.
        scope: A concept every candidate must lie under (a dataset's domain or parent class).
    """

    name: str
    description: str = ""
    chain: tuple[Link, ...] = ()
    scope: str | None = None


@dataclass(frozen=True)
class Decision:
    """The chosen link (``None`` when nothing was found), whether a person should review it, and
    every strategy's ranked candidates."""

    link: Link | None
    review: bool
    candidates: dict[str, list[Link]] = field(default_factory=dict)


class LinkPolicy:
    """Chooses one link per query from the chain, head-noun and embedding strategies.

    Args:
        head: The head-noun linker.
        embed: The embedding index (head nouns and chains only when ``None``).
        chain_threshold: A chain link at least this good is taken as sure.
        embed_threshold: Least cosine for an embedding candidate to be proposed.
        k: Candidates kept per strategy.
        pool: Embedding neighbours searched before filtering.
        head_margin: How far a sense must lead the next to be chosen without review.
    """

    def __init__(
        self,
        head: HeadLinker,
        embed: SynsetIndex | None = None,
        *,
        chain_threshold: float = 0.5,
        embed_threshold: float = 0.55,
        k: int = 5,
        pool: int = 20,
        head_margin: float = 0.15,
    ) -> None:
        self.head, self.embed = head, embed
        self.chain_threshold, self.embed_threshold, self.k = chain_threshold, embed_threshold, k
        self.pool, self.head_margin = pool, head_margin

    def decide_many(self, queries: Sequence[Query]) -> list[Decision]:
        """One decision per query, in order: the link, whether to review it, and the candidates."""
        lex = self.head.lexicon
        heads = self.head.link_many([q.name for q in queries], self.k)
        texts = [f"{q.name}: {q.description}".strip(": ") for q in queries]
        embeds = self.embed.link_many(texts, self.pool) if self.embed else [[] for _ in queries]
        for i, q in enumerate(queries):
            if q.scope:
                heads[i] = [h for h in heads[i] if q.scope in lex.ancestors(h.concept)]
                embeds[i] = [e for e in embeds[i] if q.scope in lex.ancestors(e.concept)]
        chosen = self._choose_senses(texts, heads)
        out = []
        for q, head, emb, sense in zip(queries, heads, embeds, chosen, strict=True):
            cands = {"chain": list(q.chain), "head": head, "embedding": emb[: self.k]}
            under = self._under_head(head, emb)
            if q.chain and q.chain[0].score >= self.chain_threshold:
                out.append(Decision(q.chain[0], False, cands))
            elif under is not None:
                out.append(Decision(under, False, cands))
            elif sense is not None and not emb:
                link, sure = sense
                out.append(Decision(link, not sure, cands))
            elif sense is not None:  # head and embedding disagree: a person decides
                link, _ = sense
                leaf = len(head) == 1 and not lex.children.get(link.concept)
                out.append(Decision(link if leaf else emb[0], True, cands))
            elif emb and emb[0].score >= self.embed_threshold:
                out.append(Decision(emb[0], False, cands))
            elif emb:
                out.append(Decision(emb[0], True, cands))
            elif q.scope and q.scope in lex.concepts:
                out.append(Decision(Link(q.scope, 0.3, "scope", "the query's scope"), True, cands))
            else:
                out.append(Decision(None, True, cands))
        return out

    def _under_head(self, head: list[Link], emb: list[Link]) -> Link | None:
        """The best-ranked embedding candidate that is one of the head's senses or lies below one."""
        if not head or not emb:
            return None
        lex = self.head.lexicon
        senses = {h.concept: h for h in head}
        for rank, e in enumerate(emb):
            if e.score < emb[0].score - self.head_margin:
                break
            hit = next((s for s in lex.ancestors(e.concept) if s in senses), None)
            if hit is not None:
                return Link(
                    e.concept,
                    round(max(e.score, senses[hit].score), 4),
                    "head+embedding",
                    f"{senses[hit].evidence}; embedding rank {rank + 1} ({e.evidence}) under it",
                )
        return None

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
