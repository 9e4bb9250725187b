# The names this room re-exports, read by lazy_loader.attach_stub (and by type checkers).

from .pairs import (
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
from .plan import (
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
