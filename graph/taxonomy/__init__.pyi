# The names this room re-exports, read by lazy_loader.attach_stub (and by type checkers).

from .codec import (
    LEMMA_SEP as LEMMA_SEP,
    NONE_ROW as NONE_ROW,
    ROW_SEP as ROW_SEP,
    join_rows as join_rows,
    split_rows as split_rows,
)
from .hierarchy import (
    READABLE_FORMATS as READABLE_FORMATS,
    SNAPSHOT_FORMAT as SNAPSHOT_FORMAT,
    Taxonomy as Taxonomy,
)
from .invariants import (
    GraphContents as GraphContents,
    InvariantReport as InvariantReport,
    check_edges as check_edges,
    check_invariants as check_invariants,
    check_placements as check_placements,
    concept_line as concept_line,
    content_hash as content_hash,
    edge_line as edge_line,
    hash_lines as hash_lines,
    placement_cycle as placement_cycle,
    read_contents as read_contents,
)
from .model import (
    ENTITY_ID as ENTITY_ID,
    ClassMapping as ClassMapping,
    Concept as Concept,
    ConceptRef as ConceptRef,
    Dataset as Dataset,
    DatasetClass as DatasetClass,
    Page as Page,
    ReviewClass as ReviewClass,
    ReviewItems as ReviewItems,
    ReviewPlacement as ReviewPlacement,
    Vote as Vote,
    concept_id_for_offset as concept_id_for_offset,
    keyset_page as keyset_page,
)
from .packed import (
    EDGE_COLUMNS as EDGE_COLUMNS,
    EdgeTable as EdgeTable,
    PackedProps as PackedProps,
    PropsPacker as PropsPacker,
    cyclic_gc_paused as cyclic_gc_paused,
    jsonable as jsonable,
)
from .related import (
    DEFAULT_LEVELS as DEFAULT_LEVELS,
    RelatedSets as RelatedSets,
    related_sets as related_sets,
)
from .search import (
    SearchHit as SearchHit,
    SearchIndex as SearchIndex,
    labels_of as labels_of,
    normalize as normalize,
)
from .snapshot import (
    taxonomy_and_edges as taxonomy_and_edges,
    taxonomy_from_contents as taxonomy_from_contents,
    taxonomy_from_edges as taxonomy_from_edges,
    write_snapshot as write_snapshot,
)
from .tags import (
    MAX_VOTES as MAX_VOTES,
    VISUAL_PRIOR as VISUAL_PRIOR,
    VOTES_TO_DECIDE as VOTES_TO_DECIDE,
    QueueOrder as QueueOrder,
    Tag as Tag,
    TagDecision as TagDecision,
    Tally as Tally,
    decide as decide,
    queue_order as queue_order,
    tag_queue as tag_queue,
    tally as tally,
    visual_prior as visual_prior,
)
from .wordnet import (
    WordNetNouns as WordNetNouns,
    close_wordnet as close_wordnet,
    find_wordnet_dir as find_wordnet_dir,
    open_wordnet as open_wordnet,
    read_member_meronyms as read_member_meronyms,
    read_modifiers as read_modifiers,
    read_nouns as read_nouns,
    read_sense_index as read_sense_index,
)
