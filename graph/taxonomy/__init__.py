"""The pure taxonomy: the label system as data, with no database in reach.

The DAG and its queries (:class:`Taxonomy`: ancestors, descendants, depth, lowest common
ancestors, paths), related-category sets, name search, tag-vote rules, WordNet reading, the packed
arrays and the snapshot file training jobs load. Nothing here imports the store or a driver: the SDK
and the snapshot path load only this room.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from bamboo.graph.taxonomy.hierarchy import (
        READABLE_FORMATS as READABLE_FORMATS,
        SNAPSHOT_FORMAT as SNAPSHOT_FORMAT,
        Taxonomy as Taxonomy,
        join_rows as join_rows,
        split_rows as split_rows,
    )
    from bamboo.graph.taxonomy.invariants import (
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
    from bamboo.graph.taxonomy.model import (
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
    from bamboo.graph.taxonomy.packed import (
        EDGE_COLUMNS as EDGE_COLUMNS,
        EdgeTable as EdgeTable,
        PackedProps as PackedProps,
        PropsPacker as PropsPacker,
        cyclic_gc_paused as cyclic_gc_paused,
        jsonable as jsonable,
    )
    from bamboo.graph.taxonomy.related import (
        DEFAULT_LEVELS as DEFAULT_LEVELS,
        RelatedSets as RelatedSets,
        related_sets as related_sets,
    )
    from bamboo.graph.taxonomy.search import (
        SearchHit as SearchHit,
        SearchIndex as SearchIndex,
        labels_of as labels_of,
        normalize as normalize,
    )
    from bamboo.graph.taxonomy.snapshot import (
        taxonomy_and_edges as taxonomy_and_edges,
        taxonomy_from_contents as taxonomy_from_contents,
        taxonomy_from_edges as taxonomy_from_edges,
        write_snapshot as write_snapshot,
    )
    from bamboo.graph.taxonomy.tags import (
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
    from bamboo.graph.taxonomy.wordnet import (
        WordNetNouns as WordNetNouns,
        close_wordnet as close_wordnet,
        find_wordnet_dir as find_wordnet_dir,
        open_wordnet as open_wordnet,
        read_member_meronyms as read_member_meronyms,
        read_nouns as read_nouns,
        read_sense_index as read_sense_index,
    )

# Re-exported lazily: importing the room loads none of its modules until a name is used.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "hierarchy": ["READABLE_FORMATS", "SNAPSHOT_FORMAT", "Taxonomy", "join_rows", "split_rows"],
        "invariants": [
            "GraphContents",
            "InvariantReport",
            "check_edges",
            "check_invariants",
            "check_placements",
            "concept_line",
            "content_hash",
            "edge_line",
            "hash_lines",
            "placement_cycle",
            "read_contents",
        ],
        "model": [
            "ClassMapping",
            "Concept",
            "ConceptRef",
            "Dataset",
            "DatasetClass",
            "ENTITY_ID",
            "Page",
            "ReviewClass",
            "ReviewItems",
            "ReviewPlacement",
            "Vote",
            "concept_id_for_offset",
            "keyset_page",
        ],
        "packed": ["EDGE_COLUMNS", "EdgeTable", "PackedProps", "PropsPacker", "cyclic_gc_paused", "jsonable"],
        "related": ["DEFAULT_LEVELS", "RelatedSets", "related_sets"],
        "search": ["SearchHit", "SearchIndex", "labels_of", "normalize"],
        "snapshot": ["taxonomy_and_edges", "taxonomy_from_contents", "taxonomy_from_edges", "write_snapshot"],
        "tags": [
            "MAX_VOTES",
            "QueueOrder",
            "Tag",
            "TagDecision",
            "Tally",
            "VISUAL_PRIOR",
            "VOTES_TO_DECIDE",
            "decide",
            "queue_order",
            "tag_queue",
            "tally",
            "visual_prior",
        ],
        "wordnet": [
            "WordNetNouns",
            "close_wordnet",
            "find_wordnet_dir",
            "open_wordnet",
            "read_member_meronyms",
            "read_nouns",
            "read_sense_index",
        ],
    },
)
