"""Name -> class registries for tasks and policies.

A registry loads its built-in package lazily (so `import eva_bench` stays light) and, for policies, the
third-party entry-point group. Lookups that miss fail loudly with the available names and a close match.
"""

from __future__ import annotations

import difflib
import importlib
import logging
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class UnknownNameError(KeyError):
    """A registry lookup for a name that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0])


class Registry(Generic[T]):
    """A registry of named entries.

    Args:
        kind: What the entries are ("task", "policy"), for messages.
        package: Module imported on first use; importing it registers the built-in entries.
        entry_point_group: Optional entry-point group through which other packages add entries.
    """

    def __init__(self, kind: str, package: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.package = package
        self.entry_point_group = entry_point_group
        self._entries: dict[str, T] = {}
        self._lazy: dict[str, Callable[[], T]] = {}
        self._summaries: dict[str, str] = {}
        self._loaded = False

    def register(self, name: str, entry: T) -> T:
        """Add `entry` under `name`; a duplicate name is an error."""
        if name in self._entries or name in self._lazy:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def register_lazy(self, name: str, loader: Callable[[], T], summary: str = "") -> None:
        """Add an entry that is only imported when first looked up (heavy policies); `summary` describes it
        in listings without importing it."""
        if name in self._entries or name in self._lazy:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._lazy[name] = loader
        if summary:
            self._summaries[name] = summary

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        importlib.import_module(self.package)
        if self.entry_point_group:
            for ep in entry_points(group=self.entry_point_group):
                if ep.name not in self._entries and ep.name not in self._lazy:
                    self._lazy[ep.name] = ep.load

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self._load()
        return sorted({*self._entries, *self._lazy})

    def summary(self, name: str) -> str:
        """One line about `name`: the summary given at lazy registration, else the first docstring line of the
        entry (which imports it)."""
        self._load()
        if name in self._summaries:
            return self._summaries[name]
        doc = getattr(self.get(name), "__doc__", None) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""

    def get(self, name: str) -> T:
        """The entry for `name`.

        Raises:
            UnknownNameError: `name` is not registered; the message lists what is.
        """
        self._load()
        if name in self._entries:
            return self._entries[name]
        if name in self._lazy:
            entry = self._lazy[name]()  # a failing loader (missing extra) leaves the entry for a later retry
            self._entries[name] = entry
            del self._lazy[name]
            return entry
        close = difflib.get_close_matches(name, self.names(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownNameError(f"unknown {self.kind} {name!r}.{hint} Available: {', '.join(self.names())}")

    def __contains__(self, name: str) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
