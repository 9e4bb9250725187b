# The names this room re-exports, read by lazy_loader.attach_stub (and by type checkers).

from .build import BuildReport as BuildReport, build_wordnet as build_wordnet
from .connection import (
    GraphSettings as GraphSettings,
    default_data_dir as default_data_dir,
    open_driver as open_driver,
    reader_credentials as reader_credentials,
)
from .embedded import (
    EmbeddedServer as EmbeddedServer,
    ServerInfo as ServerInfo,
    create_database as create_database,
    drop_database as drop_database,
    server_status as server_status,
    start_server as start_server,
    stop_server as stop_server,
)
from .export import BAMBOO_NS as BAMBOO_NS, ExportFormat as ExportFormat, export as export
from .graph_store import GraphStore as GraphStore
from .stats import (
    GraphStats as GraphStats,
    by_key as by_key,
    graph_stats as graph_stats,
    invariants_summary as invariants_summary,
    under_entity as under_entity,
)
