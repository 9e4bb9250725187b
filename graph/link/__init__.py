"""Linking concepts that are not WordNet synsets (Wikidata items, dataset classes) into the backbone.

Three strategies, each returning ranked :class:`Link` candidates with ``method``, ``score`` and
``evidence``: :mod:`~bamboo.graph.wikidata.chain` (subclass-of / parent-taxon chain up to an item with a
known synset), :mod:`~bamboo.graph.link.head` (head-compound parsing with spaCy) and
:mod:`~bamboo.graph.link.embed` (nearest synset by sentence-embedding cosine, faiss). A
:class:`~bamboo.graph.link.policy.LinkPolicy` combines them. :mod:`~bamboo.graph.mapping.pending`
places the dataset classes import left pending; :mod:`bamboo.graph.wikidata.sync` places Wikidata items and
repairs cycles and shortcuts so the graph stays a DAG. :mod:`~bamboo.graph.link.evaluate` measures
them.
"""

from __future__ import annotations

from bamboo.graph.link.lexicon import Lexicon, Link

__all__ = ["Lexicon", "Link"]
