# The names this room re-exports, read by lazy_loader.attach_stub (and by type checkers).

from .chain import chain_links as chain_links
from .client import (
    DEFAULT_ENDPOINT as DEFAULT_ENDPOINT,
    LANGUAGES as LANGUAGES,
    WikidataClient as WikidataClient,
    WikidataError as WikidataError,
    WikidataItem as WikidataItem,
    oxigraph_server as oxigraph_server,
    read_dump as read_dump,
)
from .names import NameLinker as NameLinker, NameLinkReport as NameLinkReport
from .sync import SyncReport as SyncReport, read_wn31_map as read_wn31_map, sync_wikidata as sync_wikidata
