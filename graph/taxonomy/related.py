"""Related-category sets (paper §4.1.3): which label-space classes are "related" to a query concept.

Definition. For a query concept ``q``, a label space ``L`` (an ordered list of concepts) and a
climbing *rule*, ``q`` climbs its IS_A edges upwards through the ancestors the rule admits (an
ancestor is reached only through admitted ones); the related set is the set of positions ``j`` in
``L`` such that

* ``L[j]`` lies in the subtree of ``q`` or of a reached ancestor, i.e. that node is an
  ancestor-or-self of ``L[j]``; or
* ``L[j]`` is an ancestor of ``q`` (at any distance).

The query's own subtree is always related, whatever the rule. The rules (the default is
:data:`DEFAULT_RULE`, a share bound of 20 %; ``levels=k`` asks for today's ``k`` levels):

* :class:`Levels` ``(k)``: admit ancestors at most ``k`` edges up (shortest path). ``k = 0`` gives
  the query's own descendants and ancestors in ``L``; ``k = 1`` adds its siblings' subtrees (for
  *dog*: every breed, wolf and fox class under *canine*); a large ``k`` reaches *entity* and makes
  everything related. High in the tree one level is already wide: *bird*'s parent is *vertebrate*.
* :class:`ShareBound` ``(x)``: admit ancestors whose subtree holds at most a share ``x`` of ``L``
  (climb while the meaning stays narrow *in this label space*).
* :class:`InformationBound` ``(t)``: admit ancestors whose intrinsic information content
  ``1 - log(1 + descendants) / log(concepts)`` (Seco et al., 2004, over the whole taxonomy) is at
  least ``t``.
* :class:`WuPalmerBound` ``(s)``: admit ancestors ``a`` with Wu-Palmer similarity
  ``2 d(a) / (d(q) + d(a)) >= s``, ``d`` counting nodes from a root (shortest path, root = 1).

The three bounds are monotone along upward paths for share and information content (a parent's
subtree holds its child's), so for them "reached" equals "admitted"; Wu-Palmer depth is not
(a concept can have a parent deeper than itself), so the climb matters there. An image queried
with ``q`` is out of distribution when none of the model's top-5 classes is in this set.
:func:`explain` says, for one query, which ancestors a rule reached and where (and why) it stopped.

Everything is computed with sparse matrix products (scipy), once per distinct query, so all
21,841 ImageNet-22K classes against ImageNet-1K take about a second.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bamboo.graph.taxonomy.hierarchy import Taxonomy

__all__ = [
    "DEFAULT_LEVELS",
    "DEFAULT_RULE",
    "Climb",
    "InformationBound",
    "Levels",
    "RelatedSets",
    "Rule",
    "ShareBound",
    "WuPalmerBound",
    "descendant_counts",
    "explain",
    "information_content",
    "related_sets",
]

DEFAULT_LEVELS = 1


@dataclass(frozen=True)
class Levels:
    """Climb at most ``k`` IS_A edges (the paper's "hypernyms of the query word", one level by default)."""

    k: int = DEFAULT_LEVELS

    def __str__(self) -> str:
        return f"levels {self.k}"


@dataclass(frozen=True)
class ShareBound:
    """Climb while the ancestor's subtree holds at most ``max_share`` (0-1) of the label space."""

    max_share: float

    def __str__(self) -> str:
        return f"share <= {self.max_share:.0%}"


@dataclass(frozen=True)
class InformationBound:
    """Climb while the ancestor's intrinsic information content (0 at a root of everything, 1 at a
    leaf) is at least ``min_ic``."""

    min_ic: float

    def __str__(self) -> str:
        return f"IC >= {self.min_ic:.2f}"


@dataclass(frozen=True)
class WuPalmerBound:
    """Climb while the Wu-Palmer similarity of the query and the ancestor is at least ``min_similarity``."""

    min_similarity: float

    def __str__(self) -> str:
        return f"Wu-Palmer >= {self.min_similarity:.2f}"


Rule = Levels | ShareBound | InformationBound | WuPalmerBound
#: The rule :func:`related_sets` uses when given neither ``levels`` nor ``rule``: chosen on the dev split
#: of ``benchmarks/rectify.py`` (real photos, queries at three heights) among the rules that relate at
#: most 20 % of ImageNet-1K to *person*, *bird* and *dog* (docs/results/2026-12-07-rectify.md).
DEFAULT_RULE: Rule = ShareBound(0.2)


@dataclass(frozen=True)
class RelatedSets:
    """Related label-space positions per query, as CSR rows (``indptr``/``indices``), in query order."""

    queries: list[str]
    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int32]
    label_space_size: int

    def __getitem__(self, i: int) -> npt.NDArray[np.int32]:
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def as_dict(self) -> dict[str, list[int]]:
        """Each query's related positions as a list."""
        return {q: self[i].tolist() for i, q in enumerate(self.queries)}

    def mask(self) -> sp.csr_matrix:
        """Boolean (queries × label space) sparse matrix."""
        data = np.ones(len(self.indices), dtype=bool)
        return sp.csr_matrix(
            (data, self.indices, self.indptr), shape=(len(self.queries), self.label_space_size)
        )


@dataclass(frozen=True)
class Climb:
    """How a rule climbed from one query.

    Attributes:
        query: The query concept.
        rule: The rule, in words.
        reached: The highest reached ancestors (none of their parents was admitted); empty when the
            rule admitted no ancestor (the set is the query's own subtree and ancestors).
        stopped: ``(ancestor, why)`` for each parent of a reached node (or of the query) that the
            rule refused, with the measured value against the bound.
        size: Related classes in the label space.
        own: Of them, those in the query's own subtree or above it (related under any rule).
    """

    query: str
    rule: str
    reached: list[str]
    stopped: list[tuple[str, str]]
    size: int
    own: int

    def __str__(self) -> str:
        up = ", ".join(self.reached) if self.reached else "nowhere (own subtree only)"
        why = "; ".join(f"not {a}: {reason}" for a, reason in self.stopped) or "reached the top"
        return f"{self.query} under {self.rule}: climbed to {up}; {why}; {self.size} related ({self.own} own)"


# --- sparse helpers ---------------------------------------------------------------------------


def _parent_matrix(tax: Taxonomy) -> sp.csr_matrix:
    n = len(tax)
    data = np.ones(len(tax.parent_indices), dtype=np.float32)
    return sp.csr_matrix((data, tax.parent_indices, tax.parent_indptr), shape=(n, n))


def _selection(positions: npt.NDArray[np.int64], n: int) -> sp.csr_matrix:
    rows = np.arange(len(positions))
    return sp.csr_matrix(
        (np.ones(len(positions), dtype=np.float32), (rows, positions)), shape=(len(positions), n)
    )


def _climb(start: sp.csr_matrix, parents: sp.csr_matrix, levels: int | None) -> sp.csr_matrix:
    """Rows of ``start`` widened by their ancestors up to ``levels`` steps (None: all the way)."""
    reach = start.copy()
    frontier = start
    step = 0
    while frontier.nnz and (levels is None or step < levels):
        step += 1
        nxt = (frontier @ parents).astype(bool).astype(np.float32)
        new = nxt - nxt.multiply(reach.astype(bool))
        new.eliminate_zeros()
        reach = (reach + new).astype(bool).astype(np.float32)
        frontier = new
    return reach.tocsr()


def _only_into(parents: sp.csr_matrix, admitted: npt.NDArray[np.bool_]) -> sp.csr_matrix:
    """The parent matrix keeping only edges into admitted nodes."""
    return (parents @ sp.diags(admitted.astype(np.float32))).tocsr()


_DESCENDANTS: weakref.WeakKeyDictionary[Taxonomy, npt.NDArray[np.int64]] = weakref.WeakKeyDictionary()


def descendant_counts(tax: Taxonomy) -> npt.NDArray[np.int64]:
    """Number of distinct descendants of every concept (computed once per taxonomy object)."""
    if tax not in _DESCENDANTS:
        n = len(tax)
        closure = _climb(sp.identity(n, dtype=np.float32, format="csr"), _parent_matrix(tax), None)
        _DESCENDANTS[tax] = np.asarray(closure.sum(axis=0)).ravel().astype(np.int64) - 1
    return _DESCENDANTS[tax]


def information_content(tax: Taxonomy) -> npt.NDArray[np.float64]:
    """Intrinsic information content of every concept, ``1 - log(1 + descendants) / log(concepts)``."""
    return 1.0 - np.log1p(descendant_counts(tax)) / np.log(max(len(tax), 2))


@dataclass
class _Context:
    """What the rules measure, for one taxonomy and label space."""

    tax: Taxonomy
    parents: sp.csr_matrix
    label_up: sp.csr_matrix  # label class x concept: the class and all its ancestors
    size: int

    def coverage(self) -> npt.NDArray[np.int64]:
        """Label-space classes under each concept (itself included)."""
        return np.asarray(self.label_up.sum(axis=0)).ravel().astype(np.int64)

    def node_depth(self) -> npt.NDArray[np.int64]:
        """Wu-Palmer depth: nodes from a root on the shortest path, the root counting 1."""
        return self.tax.root_depths().astype(np.int64) + 1

    def why_not(self, rule: Rule, query: int, node: int) -> str:
        """Why ``rule`` refuses ``node`` for ``query``, with the measured value."""
        if isinstance(rule, ShareBound):
            c = int(self.coverage()[node])
            return f"covers {c} of {self.size} classes ({c / max(self.size, 1):.1%}) > {rule.max_share:.1%}"
        if isinstance(rule, InformationBound):
            ic = float(information_content(self.tax)[node])
            return f"information content {ic:.3f} < {rule.min_ic:.3f}"
        if isinstance(rule, WuPalmerBound):
            d = self.node_depth()
            s = 2 * d[node] / (d[query] + d[node])
            return f"Wu-Palmer {s:.3f} < {rule.min_similarity:.3f} (depths {d[query]} and {d[node]})"
        return f"more than {rule.k} level(s) up"


def _reach(ctx: _Context, rule: Rule, q_pos: npt.NDArray[np.int64]) -> sp.csr_matrix:
    """Queries x concepts: each query and the ancestors its rule reaches."""
    n = len(ctx.tax)
    start = _selection(q_pos, n)
    if isinstance(rule, Levels):
        if rule.k < 0:
            raise ValueError("levels must be >= 0")
        return _climb(start, ctx.parents, rule.k)
    if isinstance(rule, ShareBound):
        if not 0 <= rule.max_share <= 1:
            raise ValueError("max_share must be between 0 and 1")
        admitted = ctx.coverage() <= rule.max_share * ctx.size
        return _climb(start, _only_into(ctx.parents, admitted), None)
    if isinstance(rule, InformationBound):
        admitted = information_content(ctx.tax) >= rule.min_ic
        return _climb(start, _only_into(ctx.parents, admitted), None)
    if not 0 < rule.min_similarity <= 1:
        raise ValueError("min_similarity must be in (0, 1]")
    # wup(q, a) >= s  <=>  d(a) >= s d(q) / (2 - s): one climb per distinct query depth.
    depth = ctx.node_depth()
    rows: list[sp.csr_matrix] = []
    order = np.zeros(len(q_pos), dtype=np.int64)
    done = 0
    for dq in np.unique(depth[q_pos]):
        members = np.flatnonzero(depth[q_pos] == dq)
        admitted = depth * (2 - rule.min_similarity) >= rule.min_similarity * dq - 1e-9
        rows.append(_climb(_selection(q_pos[members], n), _only_into(ctx.parents, admitted), None))
        order[members] = np.arange(done, done + len(members))
        done += len(members)
    stacked = sp.vstack(rows).tocsr() if rows else sp.csr_matrix((0, n), dtype=np.float32)
    return stacked[order]


def _context(tax: Taxonomy, label_space: Sequence[str]) -> tuple[_Context, sp.csr_matrix]:
    parents = _parent_matrix(tax)
    l_sel = _selection(tax.indices(label_space), len(tax))
    return _Context(tax, parents, _climb(l_sel, parents, None), len(label_space)), l_sel


def _resolve(levels: int | None, rule: Rule | None) -> Rule:
    if levels is not None and rule is not None:
        raise ValueError("give levels or rule, not both")
    if levels is not None:
        return Levels(levels)
    return rule if rule is not None else DEFAULT_RULE


def related_sets(
    tax: Taxonomy,
    queries: Sequence[str],
    label_space: Sequence[str],
    *,
    levels: int | None = None,
    rule: Rule | None = None,
) -> RelatedSets:
    """Related label-space positions for each query (see the module docstring for the definition).

    Args:
        tax: The taxonomy.
        queries: Query concept ids (repeats are computed once).
        label_space: Concept ids in label-space order.
        levels: Shorthand for ``rule=Levels(levels)``.
        rule: The climbing rule (default :data:`DEFAULT_RULE`).

    Raises:
        ConceptNotFound: a query or label-space id is not in the taxonomy.
        ValueError: ``levels`` is negative, a bound is out of range, or both ``levels`` and ``rule``
            are given.
    """
    chosen = _resolve(levels, rule)
    ctx, l_sel = _context(tax, label_space)
    distinct = list(dict.fromkeys(queries))
    q_pos = tax.indices(distinct)
    near = _reach(ctx, chosen, q_pos)  # q plus the ancestors the rule reaches
    every = _climb(_selection(q_pos, len(tax)), ctx.parents, None)  # q plus all ancestors

    related = (near @ ctx.label_up.T).astype(bool)  # a reached node is ancestor-or-self of L[j]
    related = related + (every @ l_sel.T).astype(bool)  # L[j] is an ancestor of q (or q itself)
    related = related.tocsr()
    related.sort_indices()

    row_of = {q: i for i, q in enumerate(distinct)}
    rows = [related.indices[related.indptr[row_of[q]] : related.indptr[row_of[q] + 1]] for q in queries]
    indptr = np.zeros(len(queries) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, dtype=np.int32)
    return RelatedSets(list(queries), indptr, indices, len(label_space))


def _named(tax: Taxonomy, pos: int) -> str:
    return f"{tax.ids[pos]} ({tax.names[pos]})"


def explain(tax: Taxonomy, query: str, label_space: Sequence[str], rule: Rule | None = None) -> Climb:
    """Which ancestors ``rule`` (default :data:`DEFAULT_RULE`) reaches from ``query``, and why it stops.

    Raises:
        ConceptNotFound: ``query`` or a label-space id is not in the taxonomy.
    """
    chosen = _resolve(None, rule)
    ctx, _ = _context(tax, label_space)
    q = tax.index(query)
    reached = set(_reach(ctx, chosen, np.array([q], dtype=np.int64)).indices.tolist())
    stopped: dict[int, str] = {}
    top: list[str] = []
    for node in sorted(reached, key=lambda p: str(tax.ids[p])):
        up = tax.parent_positions(node).tolist()
        if node != q and not any(p in reached for p in up):
            top.append(_named(tax, node))
        for p in up:
            if p not in reached and p not in stopped:
                stopped[p] = ctx.why_not(chosen, q, p)
    size = len(related_sets(tax, [query], label_space, rule=chosen)[0])
    own = len(related_sets(tax, [query], label_space, rule=Levels(0))[0])
    return Climb(
        _named(tax, q),
        str(chosen),
        top,
        [(_named(tax, p), why) for p, why in sorted(stopped.items(), key=lambda kv: str(tax.ids[kv[0]]))],
        size,
        own,
    )
