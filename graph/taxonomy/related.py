"""Related-category sets (paper §4.1.3): which label-space classes are "related" to a query concept.

Definition. For a query concept ``q``, a label space ``L`` (an ordered list of concepts) and a
number of levels ``k`` (default :data:`DEFAULT_LEVELS` = 1), the related set is the set of positions
``j`` in ``L`` such that

* ``L[j]`` lies in the subtree of ``q`` or of an ancestor of ``q`` at most ``k`` IS_A edges up
  (shortest path), i.e. that node is an ancestor-or-self of ``L[j]``; or
* ``L[j]`` is an ancestor of ``q`` (at any distance).

So ``k = 0`` gives the query's own descendants and ancestors in ``L``; ``k = 1`` adds its siblings'
subtrees (for *dog*: every breed, wolf and fox classes under *canine*); a large ``k`` reaches
*entity* and makes everything related. An image queried with ``q`` is out of distribution when
none of the model's top-5 classes is in this set.

Everything is computed with sparse matrix products (scipy), once per distinct query, so all
21,841 ImageNet-22K classes against ImageNet-1K take well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bamboo.graph.taxonomy.hierarchy import Taxonomy

__all__ = ["DEFAULT_LEVELS", "RelatedSets", "related_sets"]

DEFAULT_LEVELS = 1


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


def related_sets(
    tax: Taxonomy, queries: Sequence[str], label_space: Sequence[str], *, levels: int = DEFAULT_LEVELS
) -> RelatedSets:
    """Related label-space positions for each query (see the module docstring for the definition).

    Raises:
        ConceptNotFound: a query or label-space id is not in the taxonomy.
        ValueError: ``levels`` is negative.
    """
    if levels < 0:
        raise ValueError("levels must be >= 0")
    n = len(tax)
    parents = _parent_matrix(tax)
    distinct = list(dict.fromkeys(queries))
    q_sel = _selection(tax.indices(distinct), n)
    l_sel = _selection(tax.indices(label_space), n)

    near = _climb(q_sel, parents, levels)  # q plus ancestors within k levels
    every = _climb(q_sel, parents, None)  # q plus all ancestors
    label_up = _climb(l_sel, parents, None)  # each label class plus all its ancestors

    related = (near @ label_up.T).astype(bool)  # some near-ancestor of q is ancestor-or-self of L[j]
    related = related + (every @ l_sel.T).astype(bool)  # L[j] is an ancestor of q (or q itself)
    related = related.tocsr()
    related.sort_indices()

    row_of = {q: i for i, q in enumerate(distinct)}
    rows = [related.indices[related.indptr[row_of[q]] : related.indptr[row_of[q] + 1]] for q in queries]
    indptr = np.zeros(len(queries) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, dtype=np.int32)
    return RelatedSets(list(queries), indptr, indices, len(label_space))
