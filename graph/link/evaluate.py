"""``bamboo eval linking``: how well each strategy and the combined policy place concepts.

(a) WordNet leaf re-attachment: hide ``n`` random leaf synsets (depth > 3), link each by its name
and gloss against the rest of WordNet, and score the proposed parent against the true parents:
Hit@1, Hit@5, mean Wu-Palmer similarity of the top proposal, and coverage (share with any
proposal). The chain strategy needs Wikidata items, so it is not applicable here. Strategies: head
noun, embedding (parents' glosses), siblings (:class:`~bamboo.graph.link.embed.SiblingVote`) and the policy.
(b) A gold file of ``name<TAB>wnid`` pairs (the concept the name denotes): Hit@1 of the name's
concept among each strategy's proposals, and of the policy.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bamboo.errors import ConceptNotFound, MalformedFile
from bamboo.graph.link.embed import Embedder, SiblingVote, SynsetIndex
from bamboo.graph.link.genus import GenusVote
from bamboo.graph.link.head import HeadLinker
from bamboo.graph.link.lexicon import Lexicon, Link
from bamboo.graph.link.policy import LinkPolicy, Query
from bamboo.loaders.base import read_lines

__all__ = ["StrategyScore", "evaluate_gold", "evaluate_leaves", "read_gold"]


@dataclass(frozen=True)
class StrategyScore:
    """How one strategy did on the evaluation queries.

    Attributes:
        strategy: The strategy's name.
        n: Queries scored.
        hit1: Share whose first candidate is a true parent.
        hit5: Share with a true parent among the first five (``None`` when not ranked).
        wu_palmer: Mean Wu-Palmer similarity of the first candidate to the truth.
        coverage: Share of queries given any candidate.
    """

    strategy: str
    n: int
    hit1: float
    hit5: float | None
    wu_palmer: float
    coverage: float


def _score(name: str, full: Lexicon, truths: list[set[str]], preds: list[list[Link]]) -> StrategyScore:
    n = len(truths)
    hit1 = sum(1 for t, p in zip(truths, preds, strict=True) if p and p[0].concept in t)
    hit5 = sum(1 for t, p in zip(truths, preds, strict=True) if any(x.concept in t for x in p[:5]))
    wup = sum(
        max(full.wu_palmer(p[0].concept, x) for x in t) for t, p in zip(truths, preds, strict=True) if p
    )
    covered = sum(1 for p in preds if p)
    return StrategyScore(name, n, hit1 / n, hit5 / n, wup / n, covered / n)


def _strategies(
    full: Lexicon,
    lex: Lexicon,
    queries: list[Query],
    truths: list[set[str]],
    embedder: Embedder | None,
    nlp: Any | None,
    cache_dir: Path | None,
) -> tuple[list[StrategyScore], float]:
    """Score head, embedding and the policy; embedding candidates are the synsets that have
    children in the full graph (a concept's parent always does)."""
    head = HeadLinker(lex, nlp)
    # every visible concept may be a sibling: its vectors are the cost (82K texts on full WordNet),
    # encoded once; the embedding strategy searches the parents among them
    every = SynsetIndex(lex, embedder or Embedder(), sorted(lex.concepts), cache_dir)
    embed = every.subset([c for c in lex.concepts if full.children.get(c)])
    texts = [f"{q.name}: {q.description}".strip(": ") for q in queries]
    heads = head.link_many([q.name for q in queries])
    embeds = embed.link_many(texts)
    vote = SiblingVote(every)
    siblings = vote.link_many(texts)
    genus = GenusVote(vote, head.nlp).link_many([q.name for q in queries], [q.description for q in queries])
    decisions = LinkPolicy(head, embed).decide_many(queries)
    rows = [
        _score("head", full, truths, heads),
        _score("embedding", full, truths, embeds),
        _score("siblings", full, truths, siblings),
        _score("genus+siblings", full, truths, genus),
        replace(_score("policy", full, truths, [[d.link] if d.link else [] for d in decisions]), hit5=None),
    ]  # the policy makes one decision: Hit@5 does not apply
    return rows, sum(1 for d in decisions if d.review) / max(len(decisions), 1)


def evaluate_leaves(
    concepts: Iterable[dict[str, Any]],
    edges: Iterable[dict[str, Any]],
    *,
    n: int = 1000,
    seed: int = 0,
    embedder: Embedder | None = None,
    nlp: Any | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Evaluation (a); returns ``{"rows": [StrategyScore...], "n", "seed", "seconds"}`` as JSON-able."""
    started = time.perf_counter()
    concepts, edges = list(concepts), list(edges)
    full = Lexicon(concepts, edges)
    leaves = sorted(c for c in full.concepts if not full.children.get(c) and full.depth(c) > 3)
    hidden = random.Random(seed).sample(leaves, min(n, len(leaves)))
    lex = Lexicon(concepts, edges, hidden=hidden)
    queries = [Query(full.name(h).replace("_", " "), full.gloss(h)) for h in hidden]
    truths = [set(full.parents[h]) for h in hidden]
    rows, review = _strategies(full, lex, queries, truths, embedder, nlp, cache_dir)
    return {
        "evaluation": "wordnet-leaf-reattachment",
        "n": len(hidden),
        "seed": seed,
        "rows": [asdict(r) for r in rows],
        "chain": "not applicable (WordNet leaves have no Wikidata chain)",
        "policy_review_share": review,
        "seconds": round(time.perf_counter() - started, 1),
    }


def read_gold(path: Path) -> list[tuple[str, str]]:
    """``name<TAB>wnid`` lines (``#`` comments allowed)."""
    pairs = []
    for number, line in read_lines(path):
        if line.startswith("#"):
            continue
        name, sep, wnid = line.partition("\t")
        wnid = wnid.strip().removeprefix("wn:")
        if (
            not sep
            or not name.strip()
            or not (wnid.startswith("n") and wnid[1:].isdigit() and len(wnid) == 9)
        ):
            raise MalformedFile(path, number, f"expected 'name<TAB>wnid', got {line[:80]!r}")
        pairs.append((name.strip(), f"wn:{wnid}"))
    if not pairs:
        raise MalformedFile(path, None, "no pairs")
    return pairs


def evaluate_gold(
    concepts: Iterable[dict[str, Any]],
    edges: Iterable[dict[str, Any]],
    gold: list[tuple[str, str]],
    *,
    hide: bool = False,
    embedder: Embedder | None = None,
    nlp: Any | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Evaluation (b): does each strategy's first proposal place the name right?

    A linker proposes *parents*, so a hit is the gold concept itself or one of its parents. With
    ``hide`` the gold concepts are removed from the lexicon first (as if the names were new
    concepts), so only a parent counts.
    """
    started = time.perf_counter()
    concepts, edges = list(concepts), list(edges)
    full = Lexicon(concepts, edges)
    unknown = sorted({wn for _, wn in gold if wn not in full.concepts})
    if unknown:
        raise ConceptNotFound(unknown[0])
    lex = Lexicon(concepts, edges, hidden=[wn for _, wn in gold]) if hide else full
    truths = [set(full.parents.get(wn, ())) | (set() if hide else {wn}) for _, wn in gold]
    rows, review = _strategies(full, lex, [Query(name) for name, _ in gold], truths, embedder, nlp, cache_dir)
    return {
        "evaluation": "gold-pairs" + (" (gold concepts hidden)" if hide else ""),
        "n": len(gold),
        "rows": [asdict(r) for r in rows],
        "policy_review_share": review,
        "seconds": round(time.perf_counter() - started, 1),
    }
