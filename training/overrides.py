"""``key=value`` overrides of a config dataclass, read by the type of each field.

One parser for every training config (:class:`~bamboo.training.config.TrainConfig`,
:class:`~bamboo.training.study.StudyConfig`): an unknown key is an error that names the valid keys,
and a value is read as its field's declared type.

>>> from dataclasses import dataclass
>>> @dataclass
... class Demo:
...     epochs: int = 1
...     amp: bool = True
...     seeds: tuple[int, ...] = (0,)
>>> parse_overrides(Demo, ["epochs=5", "amp=off", "seeds=0,1,2"])
{'epochs': 5, 'amp': False, 'seeds': (0, 1, 2)}
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Iterable
from typing import Any

from bamboo.errors import ConfigurationError

__all__ = ["coerce", "parse_overrides"]

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _scalar(name: str, raw: str, kind: Any) -> Any:
    if kind is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ConfigurationError(f"{name}: expected a boolean (true/false), got {raw!r}")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError as exc:
            raise ConfigurationError(f"{name}: cannot read {raw!r} as {kind.__name__}") from exc
    if kind is str or kind is Any:
        return raw
    raise ConfigurationError(f"{name}: cannot set a {kind} from the command line")


def coerce(name: str, raw: str, kind: Any) -> Any:
    """Read one override value as the type ``kind``.

    Booleans accept 1/0, true/false, yes/no and on/off; tuples are comma-separated (empty items are
    skipped; a fixed-length tuple needs exactly its length); dicts are JSON.

    Args:
        name: The setting's name, for error messages.
        raw: The text after ``=``.
        kind: The field's type (a resolved annotation such as ``int`` or ``tuple[str, ...]``).

    Returns:
        The value as ``kind``.

    Raises:
        ConfigurationError: When ``raw`` cannot be read as ``kind``.

    >>> coerce("worker_accuracy", "0.7,0.9", tuple[float, float])
    (0.7, 0.9)
    """
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is tuple:
        items = [v for v in raw.split(",") if v]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_scalar(name, v, args[0]) for v in items)
        if len(items) != len(args):
            raise ConfigurationError(f"{name}: expected {len(args)} comma-separated values, got {raw!r}")
        return tuple(_scalar(name, v, a) for v, a in zip(items, args, strict=True))
    if origin is dict or kind is dict:
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise ConfigurationError(f"{name}: cannot read {raw!r} as a JSON object") from exc
        if not isinstance(value, dict):
            raise ConfigurationError(f"{name}: cannot read {raw!r} as a JSON object")
        return value
    if origin in (typing.Union, types.UnionType):  # e.g. ``str | None``: the first non-None type
        return coerce(name, raw, next(a for a in args if a is not type(None)))
    return _scalar(name, raw, kind)


def parse_overrides(cls: type[Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Parse ``key=value`` items into values for the dataclass ``cls``, each read as its field's type.

    Args:
        cls: A dataclass (the config being overridden).
        overrides: ``key=value`` strings; a later item for the same key wins.

    Returns:
        ``{field name: value}``, ready for :func:`dataclasses.replace`.

    Raises:
        ConfigurationError: On an item without ``=``, an unknown key (the message lists the valid keys)
            or a value that cannot be read as its field's type.
    """
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    values: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigurationError(f"override {item!r}: expected key=value")
        if key not in names:
            raise ConfigurationError(
                f"unknown setting {key!r} in {item!r}: expected key=value with a {cls.__name__} key, "
                f"one of {', '.join(names)}"
            )
        values[key] = coerce(key, raw, hints[key])
    return values
