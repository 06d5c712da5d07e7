"""Typed configuration dataclasses: field documentation, and building one from KEY=VALUE options.

Every configurable piece (a policy, an evaluation run, a trainer) has one dataclass whose Google-style docstring
documents each field under "Args:". That docstring is the single place a setting is explained: `field_docs`
reads it for `--help` texts and error messages, and `build_config` turns user options (strings from the command
line, or Python values) into a validated instance, so an unknown key or a wrong type fails with one line that
lists the valid fields.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from eva_bench.errors import UserError

C = TypeVar("C")
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def field_docs(cls: type) -> dict[str, str]:
    """Field name -> its one-paragraph description from the "Args:" sections of `cls`'s docstring and of its
    base classes' (a subclass documents its own fields and the ones whose meaning or default it changes)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is not object and "__doc__" in vars(klass):
            docs.update(_own_field_docs(vars(klass)["__doc__"]))
    return docs


def _own_field_docs(docstring: str | None) -> dict[str, str]:
    doc = inspect.cleandoc(docstring or "")
    match = re.search(r"^Args:\n(.*?)(?:\n\S|\Z)", doc, re.S | re.M)
    docs: dict[str, str] = {}
    if not match:
        return docs
    name = None
    for line in match.group(1).splitlines():
        head = re.match(r"^    (\w+)(?: \([^)]*\))?: ?(.*)$", line)
        if head:
            name = head.group(1)
            docs[name] = head.group(2).strip()
        elif name and line.strip():
            docs[name] = f"{docs[name]} {line.strip()}".strip()
    return docs


def field_default(cls: type, name: str) -> Any:
    """The default of field `name` of dataclass `cls` (calling its default factory)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
            raise KeyError(f"{cls.__name__}.{name} has no default")
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def describe_fields(cls: type) -> list[tuple[str, str, Any, str]]:
    """(name, type text, default or MISSING, description) of every init field of dataclass `cls`."""
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    rows = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        try:
            default = field_default(cls, f.name)
        except KeyError:
            default = dataclasses.MISSING
        rows.append((f.name, _type_name(hints[f.name]), default, docs.get(f.name, "")))
    return rows


def build_config(cls: type[C], options: Mapping[str, Any], what: str) -> C:
    """An instance of dataclass `cls` from `options` (strings are parsed to the field types).

    Args:
        cls: The config dataclass.
        options: Field name -> value; string values are converted to the field's type.
        what: What is configured, for messages ("policy 'expert'").

    Raises:
        UserError: An unknown key, a value that does not convert, or a value the dataclass rejects
            (its `__post_init__` raising ValueError/TypeError); the message lists the valid fields.
    """
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise UserError(f"{what} has no option {', '.join(map(repr, unknown))}; {valid_fields(cls)}")
    values = {}
    for key, value in options.items():
        try:
            values[key] = convert(value, hints[key])
        except (TypeError, ValueError) as error:
            raise UserError(f"{what}: option {key}={value!r}: {error}; {valid_fields(cls)}") from None
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise UserError(f"{what}: {error}") from None


def valid_fields(cls: type) -> str:
    """One line naming every field with its type and default, for error messages."""
    parts = [f"{name} ({kind}, default {default!r})" if default is not dataclasses.MISSING else f"{name} ({kind})"
             for name, kind, default, _ in describe_fields(cls)]
    return "valid options: " + (", ".join(parts) if parts else "none")


def convert(value: Any, kind: Any) -> Any:
    """`value` as type `kind` (int, float, bool, str, X | None, tuple/list of those); strings are parsed."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        is_none = value is None or (isinstance(value, str) and value.lower() in ("none", "null"))
        if is_none and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return convert(value, arg)
            except (TypeError, ValueError) as error:
                errors.append(str(error))
        raise ValueError("; ".join(errors))
    if origin in (tuple, list):
        items = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
        fixed = origin is tuple and Ellipsis not in args  # tuple[int, int]: one type per position
        if fixed and len(items) != len(args):
            raise ValueError(f"expected {len(args)} comma-separated values, got {len(items)}")
        kinds = args if fixed else [args[0] if args else str] * len(items)
        return origin(convert(v, k) for v, k in zip(items, kinds, strict=True))
    if kind is Any:
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ValueError(f"expected true or false, got {value!r}")
    if kind in (int, float):
        what = "an integer" if kind is int else "a number"
        if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"expected {what}, got {value!r}")
        try:
            return kind(value)
        except ValueError:
            raise ValueError(f"expected {what}, got {value!r}") from None
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
        return value
    raise TypeError(f"options of type {_type_name(kind)} are not supported")


def _type_name(kind: Any) -> str:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is not None:
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args)}]"
    return "None" if kind is type(None) else getattr(kind, "__name__", str(kind))
