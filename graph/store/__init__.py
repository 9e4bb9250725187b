"""The graph store: the one place that talks to the database.

:class:`GraphStore` (every Cypher statement the project runs lives in :mod:`.cypher`), the
connection settings and driver, the embedded ArcadeDB server, the WordNet build, statistics and
exports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from bamboo.graph.store.build import (
        BuildReport as BuildReport,
        build_wordnet as build_wordnet,
    )
    from bamboo.graph.store.connection import (
        GraphSettings as GraphSettings,
        default_data_dir as default_data_dir,
        open_driver as open_driver,
        reader_credentials as reader_credentials,
    )
    from bamboo.graph.store.embedded import (
        EmbeddedServer as EmbeddedServer,
        ServerInfo as ServerInfo,
        create_database as create_database,
        drop_database as drop_database,
        server_status as server_status,
        start_server as start_server,
        stop_server as stop_server,
    )
    from bamboo.graph.store.export import (
        BAMBOO_NS as BAMBOO_NS,
        ExportFormat as ExportFormat,
        export as export,
    )
    from bamboo.graph.store.graph_store import (
        GraphStore as GraphStore,
    )
    from bamboo.graph.store.stats import (
        GraphStats as GraphStats,
        by_key as by_key,
        graph_stats as graph_stats,
        invariants_summary as invariants_summary,
    )

# Re-exported lazily: importing the room loads none of its modules until a name is used.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "build": ["BuildReport", "build_wordnet"],
        "connection": ["GraphSettings", "default_data_dir", "open_driver", "reader_credentials"],
        "embedded": [
            "EmbeddedServer",
            "ServerInfo",
            "create_database",
            "drop_database",
            "server_status",
            "start_server",
            "stop_server",
        ],
        "export": ["BAMBOO_NS", "ExportFormat", "export"],
        "graph_store": ["GraphStore"],
        "stats": ["GraphStats", "by_key", "graph_stats", "invariants_summary"],
    },
)
