"""Import layering: the light contracts load without SAPIEN or torch, and the simulator never names the task layer."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import eva_bench.sim

SIM_DIR = Path(eva_bench.sim.__file__).parent
#: What the simulator may import from this package besides itself: leaf utilities with no eva_bench imports.
SIM_MAY_IMPORT = ("eva_bench.errors", "eva_bench.fileio", "eva_bench.paths")


def _imported_after(code: str, *modules: str) -> list[str]:
    """Which of `modules` are in `sys.modules` after running `code` in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {list(modules)!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return proc.stdout.split()


def test_contracts_import_without_sapien_or_torch() -> None:
    code = (
        "import eva_bench.policy, eva_bench.idm.reward, eva_bench.sim.embodiment, eva_bench.sim.cameras\n"
        "from eva_bench.idm.reward import RewardConfig\n"
        "from eva_bench.sim.cameras import CAMERAS, DEFAULT_RESOLUTION, check_camera_names, parse_resolution\n"
        "from eva_bench.sim.embodiment import CONTROL_DT, PHYSICS_HZ, SUBSTEPS\n"
        "assert RewardConfig().dt == CONTROL_DT == SUBSTEPS / PHYSICS_HZ\n"
        "check_camera_names(CAMERAS); assert parse_resolution('320x240') == DEFAULT_RESOLUTION\n"
    )
    assert _imported_after(code, "sapien", "torch") == []


def test_the_command_line_and_the_configs_it_reads_start_without_sapien_or_torch() -> None:
    """`eva-bench --help` stays fast: the CLI takes its defaults from config dataclasses that import neither."""
    code = ("import eva_bench.cli, eva_bench.run_config, eva_bench.idm.train_config, eva_bench.data.collect_config, "
            "eva_bench.training.config, eva_bench.checkpoint, eva_bench.store\n"
            "from eva_bench.policy import POLICIES; POLICIES.names()\n")
    assert _imported_after(code, "sapien", "torch", "accelerate") == []


def test_the_probe_sees_sapien_when_it_is_imported() -> None:
    """The check above can fail: the simulator itself does import SAPIEN."""
    assert _imported_after("import eva_bench.sim.env", "sapien", "torch") == ["sapien"]


def test_the_simulator_does_not_import_the_task_layer() -> None:
    """`eva_bench.sim` imports only `eva_bench.sim.*` (and leaf utilities) of this package: the env knows a task
    through `eva_bench.sim.contract`, not `eva_bench.task`."""
    outside = []
    for path in sorted(SIM_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.ImportFrom):
                outside.append(f"{path.name}: relative import")
            outside.extend(f"{path.name}: {n}" for n in names
                           if n.split(".")[0] == "eva_bench" and not n.startswith("eva_bench.sim")
                           and n not in SIM_MAY_IMPORT)
    assert outside == []
    loaded = _imported_after("import eva_bench.sim.env, eva_bench.sim.planner, eva_bench.sim.articulated",
                             "eva_bench.task", "eva_bench.motion", "eva_bench.runner")
    assert loaded == []


def test_timing_constants_are_one_set() -> None:
    from eva_bench.sim import embodiment, env

    for name in ("PHYSICS_HZ", "SUBSTEPS", "CONTROL_DT"):
        assert getattr(env, name) is getattr(embodiment, name), name
