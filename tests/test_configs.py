"""Typed config dataclasses: field docs from docstrings, options parsed to field types, one-line errors."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from eva_bench.configs import build_config, convert, describe_fields, field_default, field_docs
from eva_bench.errors import UserError


@dataclass
class Example:
    """A config for the tests.

    Args:
        steps: Optimizer steps,
            continued on a second line.
        size: (width, height).
        name: Optional name.
        flags: Several values.
        rate: A rate in (0, 1].
    """

    steps: int = 10
    size: tuple[int, int] = (4, 3)
    name: str | None = None
    flags: list[str] = field(default_factory=list)
    rate: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.rate <= 1:
            raise ValueError(f"rate must be in (0, 1], got {self.rate}")


def test_field_docs_read_every_field_including_continuation_lines() -> None:
    docs = field_docs(Example)
    assert docs["steps"] == "Optimizer steps, continued on a second line."
    assert list(docs) == ["steps", "size", "name", "flags", "rate"]
    assert field_default(Example, "flags") == [] and field_default(Example, "size") == (4, 3)
    assert [row[:2] for row in describe_fields(Example)][:3] == [("steps", "int"), ("size", "tuple[int, int]"),
                                                                 ("name", "str | None")]


def test_options_are_parsed_to_the_field_types() -> None:
    config = build_config(Example, {"steps": "12", "size": "8,6", "name": "none", "flags": "a, b", "rate": "1"},
                          "example")
    assert config == Example(steps=12, size=(8, 6), name=None, flags=["a", "b"], rate=1.0)
    assert build_config(Example, {"steps": 3, "name": "x"}, "example") == Example(steps=3, name="x")


@pytest.mark.parametrize(
    ("options", "message"),
    [({"stpes": "1"}, r"example has no option 'stpes'; valid options: steps \(int, default 10\), size"),
     ({"steps": "1.5"}, r"option steps='1.5': expected an integer"),
     ({"steps": True}, r"option steps=True: expected an integer"),
     ({"size": "8"}, r"option size='8': expected 2 comma-separated values, got 1"),
     ({"rate": "2"}, r"example: rate must be in \(0, 1\], got 2.0")],
)
def test_bad_options_fail_with_one_line_naming_the_fields(options: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        build_config(Example, options, "example")


def test_booleans_accept_the_usual_words_only() -> None:
    assert convert("Yes", bool) is True and convert("off", bool) is False
    with pytest.raises(ValueError, match="expected true or false, got 'maybe'"):
        convert("maybe", bool)
