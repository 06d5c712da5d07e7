"""Registry: duplicate names, unknown-name messages, lazy entries, lazy package import, entry points, built-ins."""

from __future__ import annotations

import sys
import types
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from eva_bench import registry as registry_module
from eva_bench.registry import Registry, UnknownNameError


def make_registry() -> Registry:
    """A registry whose 'package' is a harmless stdlib module (importing it registers nothing)."""
    return Registry("thing", "json")


def test_register_returns_entry_and_get_finds_it() -> None:
    reg = make_registry()
    entry = object()
    assert reg.register("alpha", entry) is entry
    assert reg.get("alpha") is entry


def test_duplicate_register_raises_value_error() -> None:
    reg = make_registry()
    reg.register("alpha", 1)
    with pytest.raises(ValueError, match="'alpha'"):
        reg.register("alpha", 2)
    assert reg.get("alpha") == 1  # the first entry is kept


def test_duplicates_across_eager_and_lazy_entries_raise() -> None:
    reg = make_registry()
    reg.register("eager", 1)
    reg.register_lazy("lazy", lambda: 2)
    with pytest.raises(ValueError, match="thing 'eager' is already registered"):
        reg.register_lazy("eager", lambda: 3)
    with pytest.raises(ValueError, match="thing 'lazy' is already registered"):
        reg.register("lazy", 4)
    with pytest.raises(ValueError, match="thing 'lazy' is already registered"):
        reg.register_lazy("lazy", lambda: 5)
    assert reg.get("eager") == 1
    assert reg.get("lazy") == 2


def test_unknown_name_lists_available_and_suggests_close_match() -> None:
    reg = make_registry()
    names = ["alpha", "beta", "gamma"]
    for i, name in enumerate(names):
        reg.register(name, i)
    with pytest.raises(UnknownNameError, match="unknown thing 'alpah'") as info:
        reg.get("alpah")
    message = str(info.value)
    assert isinstance(info.value, KeyError)  # callers catching KeyError still work
    assert message.startswith("unknown thing 'alpah'")  # str() is the message itself, not a quoted repr
    assert "Did you mean 'alpha'?" in message
    assert message.endswith("Available: " + ", ".join(sorted(names)))


def test_unknown_name_without_close_match_has_no_hint() -> None:
    reg = make_registry()
    reg.register("alpha", 1)
    reg.register("beta", 2)
    with pytest.raises(UnknownNameError, match="unknown thing 'zzzzzzzz'") as info:
        reg.get("zzzzzzzz")
    message = str(info.value)
    assert "Did you mean" not in message
    assert "'zzzzzzzz'" in message
    assert "alpha, beta" in message


def test_register_lazy_loads_only_on_first_get() -> None:
    reg = make_registry()
    calls: list[int] = []
    sentinel = object()

    def loader() -> object:
        calls.append(1)
        return sentinel

    reg.register_lazy("heavy", loader)
    assert "heavy" in reg.names()
    assert "heavy" in reg
    assert list(reg) == ["heavy"]
    assert calls == []  # listing and membership do not load
    assert reg.get("heavy") is sentinel
    assert len(calls) == 1
    assert reg.get("heavy") is sentinel
    assert len(calls) == 1  # cached after the first load
    assert reg.names() == ["heavy"]


def test_lazy_loader_error_propagates() -> None:
    reg = make_registry()

    def broken() -> object:
        raise ImportError("optional dependency missing")

    reg.register_lazy("broken", broken)
    with pytest.raises(ImportError, match="optional dependency missing"):
        reg.get("broken")


def test_names_sorted_and_membership() -> None:
    reg = make_registry()
    order = ["delta", "alpha", "charlie", "bravo"]
    for name in order[:2]:
        reg.register(name, name.upper())
    for name in order[2:]:
        reg.register_lazy(name, lambda name=name: name.upper())
    assert reg.names() == sorted(order)
    assert list(reg) == sorted(order)
    for name in order:
        assert name in reg
    assert "echo" not in reg
    assert "" not in reg
    assert reg.get("charlie") == "CHARLIE"
    assert reg.names() == sorted(order)  # loading a lazy entry does not change the listing


@pytest.fixture
def plugin_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A throwaway module that registers 'builtin' into a registry when imported; yields (registry, module name)."""
    tag = uuid.uuid4().hex[:12]
    holder_name, package_name = f"_eva_holder_{tag}", f"_eva_builtins_{tag}"
    reg = Registry("widget", package_name)
    holder = types.ModuleType(holder_name)
    holder.REG = reg
    holder.imports = 0
    monkeypatch.setitem(sys.modules, holder_name, holder)
    (tmp_path / f"{package_name}.py").write_text(
        f"import {holder_name} as holder\nholder.imports += 1\nholder.REG.register('builtin', 'from-package')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield reg, package_name, holder
    sys.modules.pop(package_name, None)


def test_package_is_imported_lazily_once(plugin_package) -> None:
    reg, package_name, holder = plugin_package
    reg.register("early", "registered before load")
    assert package_name not in sys.modules  # constructing and registering does not import the package
    assert holder.imports == 0
    assert reg.names() == ["builtin", "early"]
    assert package_name in sys.modules
    assert reg.get("builtin") == "from-package"
    assert "builtin" in reg
    assert holder.imports == 1


def test_unknown_lookup_triggers_package_load(plugin_package) -> None:
    reg, _, holder = plugin_package
    with pytest.raises(UnknownNameError, match="Did you mean 'builtin'"):
        reg.get("builtn")
    assert holder.imports == 1


def test_entry_points_add_lazy_entries_without_overriding(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []

    def fake_entry_point(name: str) -> SimpleNamespace:
        def load() -> str:
            loads.append(name)
            return f"plugin:{name}"

        return SimpleNamespace(name=name, load=load)

    groups: list[str] = []

    def fake_entry_points(group: str) -> list[SimpleNamespace]:
        groups.append(group)
        return [fake_entry_point("plug"), fake_entry_point("own")]

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    reg = Registry("thing", "json", entry_point_group="my.group")
    reg.register("own", "built-in")
    assert reg.names() == ["own", "plug"]
    assert groups == ["my.group"]
    assert loads == []  # entry points are not loaded until looked up
    assert reg.get("own") == "built-in"  # an entry point does not replace a registered name
    assert reg.get("plug") == "plugin:plug"
    assert loads == ["plug"]
    reg.names()
    assert groups == ["my.group"]  # the group is scanned only once


def test_builtin_tasks_registered() -> None:
    from eva_bench.task import TASKS, Task

    builtins = {"click_bell", "handover_block", "place_container_plate"}
    assert builtins <= set(TASKS.names())
    for name in builtins:
        assert name in TASKS
        cls = TASKS.get(name)
        assert issubclass(cls, Task)
        assert cls.name == name
        assert cls.step_limit > 0
        assert cls.arms in ("single", "dual")


def test_builtin_policies_registered() -> None:
    from eva_bench.policy import POLICIES, Policy

    builtins = {"expert", "idle", "random"}
    assert builtins <= set(POLICIES.names())
    for name in builtins:
        assert name in POLICIES
        cls = POLICIES.get(name)
        assert issubclass(cls, Policy)
        assert cls.name == name


def test_real_registries_reject_unknown_names_with_hint() -> None:
    from eva_bench.policy import POLICIES
    from eva_bench.task import TASKS

    with pytest.raises(UnknownNameError, match="Did you mean 'click_bell'"):
        TASKS.get("clik_bell")
    with pytest.raises(UnknownNameError, match="Did you mean 'expert'"):
        POLICIES.get("expret")


def test_failing_lazy_loader_can_be_retried() -> None:
    registry = Registry("thing", "json")
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise ImportError("optional dependency missing")
        return "loaded"

    registry.register_lazy("heavy", flaky)
    with pytest.raises(ImportError, match="optional dependency missing"):
        registry.get("heavy")
    assert "heavy" in registry.names()
    assert registry.get("heavy") == "loaded"
