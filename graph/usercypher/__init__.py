"""Users' Cypher: the read-only guard and the isolated runner.

:func:`check_read_only` parses a statement and allowlists what it may do (never pattern matching);
:mod:`.runner` runs what passed as a least-privilege user with time, row and byte limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from bamboo.graph.usercypher.guard import (
        ALLOWED_FUNCTIONS as ALLOWED_FUNCTIONS,
        ALLOWED_PROCEDURES as ALLOWED_PROCEDURES,
        MAX_GROWTH as MAX_GROWTH,
        MAX_NESTING as MAX_NESTING,
        MAX_RANGE as MAX_RANGE,
        MAX_REPARSE as MAX_REPARSE,
        MAX_TOKENS as MAX_TOKENS,
        check_read_only as check_read_only,
    )
    from bamboo.graph.usercypher.runner import (
        ByteCap as ByteCap,
        CypherLimits as CypherLimits,
        CypherResult as CypherResult,
        RunningStatement as RunningStatement,
        UserCypher as UserCypher,
    )

# Re-exported lazily: importing the room loads none of its modules until a name is used.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "guard": [
            "ALLOWED_FUNCTIONS",
            "ALLOWED_PROCEDURES",
            "MAX_GROWTH",
            "MAX_NESTING",
            "MAX_RANGE",
            "MAX_REPARSE",
            "MAX_TOKENS",
            "check_read_only",
        ],
        "runner": ["ByteCap", "CypherLimits", "CypherResult", "RunningStatement", "UserCypher"],
    },
)
