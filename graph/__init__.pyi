# The names bamboo.graph re-exports, read by lazy_loader.attach_stub (and by type checkers).

from . import (
    crawl as crawl,
    link as link,
    mapping as mapping,
    store as store,
    tasks as tasks,
    taxonomy as taxonomy,
    usercypher as usercypher,
    wikidata as wikidata,
)
from .store.build import BuildReport as BuildReport, build_wordnet as build_wordnet
from .store.connection import GraphSettings as GraphSettings, open_driver as open_driver
from .store.graph_store import GraphStore as GraphStore
from .taxonomy.hierarchy import Taxonomy as Taxonomy
from .taxonomy.model import ENTITY_ID as ENTITY_ID, Concept as Concept, ConceptRef as ConceptRef, Page as Page
