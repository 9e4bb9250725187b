"""What training jobs use.

- :mod:`bamboo.sdk.labels`: :class:`LabelSpace`, the :class:`LabelSystem` protocol and
  :class:`OfflineLabels` (answers from a ``bamboo snapshot`` file, no network);
- :mod:`bamboo.sdk.client`: :class:`BambooClient` / :class:`AsyncBambooClient` for the API;
- :mod:`bamboo.sdk.ood`: OOD rectification of classification and detection pools (torch);
- :mod:`bamboo.sdk.dedup`: DHash de-duplication against downstream test sets (faiss);
- :mod:`bamboo.sdk.growth`: :class:`DatasetGrowth`, growing a dataset from a stream (InfoGrowth);
- :mod:`bamboo.sdk.retrieve`: :func:`retrieve_for_concepts`, prompt-ensemble retrieval with human
  verification and time buckets (CLEAR); encoders in :mod:`bamboo.sdk.encoders`.

``ood``, ``dedup``, ``growth`` and ``retrieve`` need the ``sdk`` extra (torch, faiss, pillow);
``DatasetGrowth``, ``GrowthConfig``, ``retrieve_for_concepts`` and ``bucket_by_time`` are imported
from here on first use only, so ``import bamboo.sdk`` stays light.
"""

from __future__ import annotations

from bamboo.sdk.client import AsyncBambooClient, BambooClient
from bamboo.sdk.labels import LabelSpace, LabelSystem, OfflineLabels

__all__ = [
    "AsyncBambooClient",
    "BambooClient",
    "DatasetGrowth",
    "GrowthConfig",
    "LabelSpace",
    "LabelSystem",
    "OfflineLabels",
    "bucket_by_time",
    "retrieve_for_concepts",
]

_LAZY = {
    "DatasetGrowth": "bamboo.sdk.growth",
    "GrowthConfig": "bamboo.sdk.growth",
    "bucket_by_time": "bamboo.sdk.retrieve",
    "retrieve_for_concepts": "bamboo.sdk.retrieve",
}


def __getattr__(name: str) -> object:
    """The growth and retrieval names, imported on first use (they need faiss)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bamboo.sdk' has no attribute {name!r}")
