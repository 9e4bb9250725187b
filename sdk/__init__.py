"""What training jobs use.

- :mod:`bamboo.sdk.labels`: :class:`LabelSpace`, the :class:`LabelSystem` protocol and
  :class:`OfflineLabels` (answers from a ``bamboo snapshot`` file, no network);
- :mod:`bamboo.sdk.client`: :class:`BambooClient` / :class:`AsyncBambooClient` for the API;
- :mod:`bamboo.sdk.ood`: OOD rectification of classification and detection pools (torch);
- :mod:`bamboo.sdk.dedup`: DHash de-duplication against downstream test sets (faiss).

``ood`` and ``dedup`` need the ``sdk`` extra (torch, faiss, pillow) and are imported explicitly.
"""

from __future__ import annotations

from bamboo.sdk.client import AsyncBambooClient, BambooClient
from bamboo.sdk.labels import LabelSpace, LabelSystem, OfflineLabels

__all__ = ["AsyncBambooClient", "BambooClient", "LabelSpace", "LabelSystem", "OfflineLabels"]
