"""Crawl queries (paper §4.1.1): the query strings to crawl for each concept, and the
concept pairs for detection crawls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from bamboo.graph.crawl.pairs import (
        DIVERSITY as DIVERSITY,
        KIND_PENALTY as KIND_PENALTY,
        MENTION_BONUS as MENTION_BONUS,
        SCENE_PRIOR_WEIGHT as SCENE_PRIOR_WEIGHT,
        Pair as Pair,
        PairPlanner as PairPlanner,
        gloss_mentions as gloss_mentions,
        lexical_encoder as lexical_encoder,
        scene_prior as scene_prior,
    )
    from bamboo.graph.crawl.plan import (
        COMMON_MIN_SCORE as COMMON_MIN_SCORE,
        DOMINANCE as DOMINANCE,
        ENTRY_LEVEL_VOCABULARY as ENTRY_LEVEL_VOCABULARY,
        VISUAL_WEIGHTS as VISUAL_WEIGHTS,
        CachingEncoder as CachingEncoder,
        CrawlPlan as CrawlPlan,
        DatasetInfo as DatasetInfo,
        PriorAgreement as PriorAgreement,
        QueryForm as QueryForm,
        QueryWords as QueryWords,
        Signals as Signals,
        commonness as commonness,
        default_encoder as default_encoder,
        prior_agreement as prior_agreement,
        query_forms as query_forms,
        signals as signals,
        visual_features as visual_features,
        visual_probability as visual_probability,
    )

# Re-exported lazily: importing the room loads none of its modules until a name is used.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "pairs": [
            "DIVERSITY",
            "KIND_PENALTY",
            "MENTION_BONUS",
            "Pair",
            "PairPlanner",
            "SCENE_PRIOR_WEIGHT",
            "gloss_mentions",
            "lexical_encoder",
            "scene_prior",
        ],
        "plan": [
            "COMMON_MIN_SCORE",
            "CachingEncoder",
            "CrawlPlan",
            "DOMINANCE",
            "DatasetInfo",
            "ENTRY_LEVEL_VOCABULARY",
            "PriorAgreement",
            "QueryForm",
            "QueryWords",
            "Signals",
            "VISUAL_WEIGHTS",
            "commonness",
            "default_encoder",
            "prior_agreement",
            "query_forms",
            "signals",
            "visual_features",
            "visual_probability",
        ],
    },
)
