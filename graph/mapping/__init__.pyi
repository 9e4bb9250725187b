# The names this room re-exports, read by lazy_loader.attach_stub (and by type checkers).

from .datasets import (
    PROGRESS_EVERY as PROGRESS_EVERY,
    REVIEW_BELOW as REVIEW_BELOW,
    ClassMapper as ClassMapper,
    DatasetReport as DatasetReport,
    ImportProgress as ImportProgress,
    MappedClass as MappedClass,
    import_label_set as import_label_set,
    new_concept_id as new_concept_id,
)
from .evaluate import (
    GoldClass as GoldClass,
    MappingScore as MappingScore,
    TaxonomyScore as TaxonomyScore,
    evaluate_mapping as evaluate_mapping,
    evaluate_taxonomy as evaluate_taxonomy,
    read_gold as read_gold,
    read_taxon_gold as read_taxon_gold,
)
from .pending import PendingReport as PendingReport, link_pending as link_pending
from .senses import (
    PHYSICAL_LEXNAMES as PHYSICAL_LEXNAMES,
    PHYSICAL_OBJECT as PHYSICAL_OBJECT,
    SenseChoice as SenseChoice,
    SenseContext as SenseContext,
    choose_sense as choose_sense,
)
from .taxa import (
    KINGDOMS as KINGDOMS,
    TAXON_RANKS as TAXON_RANKS,
    TaxonIndex as TaxonIndex,
    TaxonPlacement as TaxonPlacement,
)
