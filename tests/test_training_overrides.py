"""The one ``key=value`` parser of the training configs: typed by each field, strict about keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bamboo.errors import ConfigurationError
from bamboo.training.config import TrainConfig, load_config
from bamboo.training.overrides import coerce, parse_overrides
from bamboo.training.study import StudyConfig, config_from


@dataclass
class Demo:
    name: str = "a"
    epochs: int = 1
    lr: float = 0.1
    amp: bool = True
    seeds: tuple[int, ...] = (0,)
    words: tuple[str, ...] = ("x",)
    span: tuple[float, float] = (0.0, 1.0)
    extra: dict[str, Any] = field(default_factory=dict)


def test_values_are_read_as_their_fields_type() -> None:
    got = parse_overrides(
        Demo,
        [
            "name=b=c",
            "epochs=3",
            "lr=1e-3",
            "amp=no",
            "seeds=1,2,",
            "words=dog,cat",
            "span=0.5,0.75",
            'extra={"k": [1]}',
            "epochs=4",
        ],
    )
    assert got == {
        "name": "b=c",
        "epochs": 4,
        "lr": 1e-3,
        "amp": False,
        "seeds": (1, 2),
        "words": ("dog", "cat"),
        "span": (0.5, 0.75),
        "extra": {"k": [1]},
    }
    assert all(coerce("amp", v, bool) is True for v in ("1", "true", "YES", "on"))


@pytest.mark.parametrize(
    ("item", "match"),
    [
        ("epochs", "expected key=value"),
        ("epochs=x", "epochs: cannot read 'x' as int"),
        ("lr=fast", "lr: cannot read 'fast' as float"),
        ("amp=maybe", "amp: expected a boolean"),
        ("seeds=1,b", "seeds: cannot read 'b' as int"),
        ("span=1,2,3", "span: expected 2 comma-separated values"),
        ("extra=[1]", "extra: cannot read"),
    ],
)
def test_bad_values_name_the_setting(item: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        parse_overrides(Demo, [item])


def test_an_unknown_key_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_overrides(Demo, ["epoch=3"])
    message = str(info.value)
    assert "unknown setting 'epoch'" in message and "key=value" in message
    assert "name, epochs, lr, amp, seeds, words, span, extra" in message


def test_both_configs_use_the_same_rules() -> None:
    """The study used to read ``amp``-style booleans and unknown keys differently from training."""
    assert load_config(None, ["seed=3", "epochs=2"]) == TrainConfig(seed=3, epochs=2)
    assert config_from(["seeds=3", "budget=2"]) == StudyConfig(seeds=(3,), budget=2)
    for parse, cls in ((lambda o: load_config(None, o), TrainConfig), (config_from, StudyConfig)):
        with pytest.raises(ConfigurationError, match=f"unknown setting 'nope'.*with a {cls.__name__} key"):
            parse(["nope=1"])
        with pytest.raises(ConfigurationError, match="cannot read 'x' as int"):
            parse(["seed=x" if cls is TrainConfig else "seeds=x"])


def test_unknown_yaml_keys_list_the_valid_ones(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("model: resnet18\nepoch: 3\n")
    with pytest.raises(
        ConfigurationError, match=r"unknown setting\(s\) epoch; valid keys: model, pretrained"
    ):
        load_config(tmp_path / "c.yaml")
