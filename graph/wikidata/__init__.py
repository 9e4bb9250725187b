"""Wikidata: the SPARQL client and the sync that brings Wikidata concepts into the label system.

Placing names uses the strategies in :mod:`bamboo.graph.link`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from bamboo.graph.wikidata.chain import (
        chain_links as chain_links,
    )
    from bamboo.graph.wikidata.client import (
        DEFAULT_ENDPOINT as DEFAULT_ENDPOINT,
        LANGUAGES as LANGUAGES,
        WikidataClient as WikidataClient,
        WikidataError as WikidataError,
        WikidataItem as WikidataItem,
        oxigraph_server as oxigraph_server,
        read_dump as read_dump,
    )
    from bamboo.graph.wikidata.sync import (
        SyncReport as SyncReport,
        read_wn31_map as read_wn31_map,
        sync_wikidata as sync_wikidata,
    )

# Re-exported lazily: importing the room loads none of its modules until a name is used.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "chain": ["chain_links"],
        "client": [
            "DEFAULT_ENDPOINT",
            "LANGUAGES",
            "WikidataClient",
            "WikidataError",
            "WikidataItem",
            "oxigraph_server",
            "read_dump",
        ],
        "sync": ["SyncReport", "read_wn31_map", "sync_wikidata"],
    },
)
