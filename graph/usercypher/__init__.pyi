# The names this room re-exports, read by lazy_loader.attach_stub (and by type checkers).

from .guard import (
    ALLOWED_FUNCTIONS as ALLOWED_FUNCTIONS,
    ALLOWED_PROCEDURES as ALLOWED_PROCEDURES,
    MAX_GROWTH as MAX_GROWTH,
    MAX_NESTING as MAX_NESTING,
    MAX_RANGE as MAX_RANGE,
    MAX_REPARSE as MAX_REPARSE,
    MAX_TOKENS as MAX_TOKENS,
    check_read_only as check_read_only,
)
from .runner import (
    ByteCap as ByteCap,
    CypherLimits as CypherLimits,
    CypherResult as CypherResult,
    RunningStatement as RunningStatement,
    UserCypher as UserCypher,
)
