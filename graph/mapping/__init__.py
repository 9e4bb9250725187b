"""Dataset mapping: public datasets' class lists integrated into the label system (one concept
per meaning, each decision with provenance and confidence), sense choice, taxa, and the
mapping's evaluation on gold data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from bamboo.graph.mapping.datasets import (
        PROGRESS_EVERY as PROGRESS_EVERY,
        REVIEW_BELOW as REVIEW_BELOW,
        ClassMapper as ClassMapper,
        DatasetReport as DatasetReport,
        ImportProgress as ImportProgress,
        MappedClass as MappedClass,
        import_label_set as import_label_set,
        new_concept_id as new_concept_id,
    )
    from bamboo.graph.mapping.evaluate import (
        GoldClass as GoldClass,
        MappingScore as MappingScore,
        TaxonomyScore as TaxonomyScore,
        evaluate_mapping as evaluate_mapping,
        evaluate_taxonomy as evaluate_taxonomy,
        read_gold as read_gold,
        read_taxon_gold as read_taxon_gold,
    )
    from bamboo.graph.mapping.pending import (
        PendingReport as PendingReport,
        link_pending as link_pending,
    )
    from bamboo.graph.mapping.senses import (
        PHYSICAL_LEXNAMES as PHYSICAL_LEXNAMES,
        PHYSICAL_OBJECT as PHYSICAL_OBJECT,
        SenseChoice as SenseChoice,
        SenseContext as SenseContext,
        choose_sense as choose_sense,
    )
    from bamboo.graph.mapping.taxa import (
        KINGDOMS as KINGDOMS,
        TAXON_RANKS as TAXON_RANKS,
        TaxonIndex as TaxonIndex,
        TaxonPlacement as TaxonPlacement,
    )

# Re-exported lazily: importing the room loads none of its modules until a name is used.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "datasets": [
            "ClassMapper",
            "DatasetReport",
            "ImportProgress",
            "MappedClass",
            "PROGRESS_EVERY",
            "REVIEW_BELOW",
            "import_label_set",
            "new_concept_id",
        ],
        "evaluate": [
            "GoldClass",
            "MappingScore",
            "TaxonomyScore",
            "evaluate_mapping",
            "evaluate_taxonomy",
            "read_gold",
            "read_taxon_gold",
        ],
        "pending": ["PendingReport", "link_pending"],
        "senses": ["PHYSICAL_LEXNAMES", "PHYSICAL_OBJECT", "SenseChoice", "SenseContext", "choose_sense"],
        "taxa": ["KINGDOMS", "TAXON_RANKS", "TaxonIndex", "TaxonPlacement"],
    },
)
