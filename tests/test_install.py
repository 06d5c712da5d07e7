"""A plain (non-editable) install works: the wheel finds the released IDM and stores an episode's reward.

Builds the project's wheel, installs it into a fresh virtualenv (torch first, as scripts/install.sh does), and
runs one `idm-oracle` episode from a folder outside the repository, so nothing can come from the source tree.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(command: list[str], cwd: Path, env: dict | None = None, timeout: int = 900) -> str:
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(command)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.slow
@pytest.mark.ci
def test_wheel_install_runs_idm_oracle_with_a_stored_reward(tmp_path: Path) -> None:
    import torch

    source = tmp_path / "source"  # build from a copy: setuptools writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info",
                                                                 "eva_bench_results", "__pycache__", "renders", "runs"))
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)],
         tmp_path)
    (wheel,) = wheels.glob("eva_bench-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    _run([*pip, f"torch=={torch.__version__.split('+')[0]}"], tmp_path)  # first: an unpinned torch pulls CUDA
    _run([*pip, str(wheel)], tmp_path)

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("EVA_BENCH_IDM", "PYTHONPATH", "VIRTUAL_ENV")}
    env["OMP_NUM_THREADS"] = "1"
    location = _run([str(python), "-c", "import eva_bench, eva_bench.paths as p; print(eva_bench.__file__); "
                     "print(p.released_idm_dir())"], work, env).split()
    assert str(env_dir) in location[0], f"eva_bench imported from {location[0]}, not the wheel install"
    assert (Path(location[1]) / "checkpoint.json").is_file(), f"the released IDM is not installed: {location[1]}"

    db = work / "results.sqlite"
    _run([str(env_dir / "bin" / "eva-bench"), "run", "--policy", "idm-oracle", "--tasks", "click_bell",
          "--episodes", "1", "--db", str(db), "--out", str(work / "out"), "--run-id", "wheel"], work, env)
    with sqlite3.connect(db) as conn:
        reward, components = conn.execute("SELECT reward, reward_components FROM episodes").fetchone()
        digest, reward_idm = conn.execute("SELECT reward_idm_digest, reward_idm FROM runs").fetchone()
    assert reward is not None and 0.0 < reward <= 1.0, reward
    assert set(json.loads(components)) >= {"penalty", "jerk_huber"}
    manifest = json.loads((Path(location[1]) / "checkpoint.json").read_text())
    assert digest == manifest["digest"] and str(env_dir) in reward_idm


def test_every_package_of_the_source_tree_is_installed() -> None:
    """pyproject lists packages explicitly: a new subpackage missing there imports in the checkout but not
    from a wheel (caught once by the wheel test above, minutes later; this says it at once)."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "eva_bench").rglob("__init__.py")
             if "__pycache__" not in init.parts}
    assert found - listed == set()
