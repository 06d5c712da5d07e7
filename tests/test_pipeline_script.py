"""scripts/pipeline.sh: the usage names every stage the script runs, and bad input fails before any work."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "pipeline.sh"


def _pipeline(tmp_path: Path, *stages: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "EVA_WORK": str(tmp_path / "work")}
    return subprocess.run(["bash", str(SCRIPT), *stages], capture_output=True, text=True, env=env, timeout=60)


def test_usage_documents_exactly_the_stages_the_script_handles(tmp_path: Path) -> None:
    text = SCRIPT.read_text()
    handled = set(re.findall(r"^\s+([a-z-]+)\)", text, flags=re.M))
    usage = _pipeline(tmp_path)
    assert usage.returncode == 2
    documented = set(re.findall(r"^#\s{3}([a-z-]+)\s{2,}", usage.stdout, flags=re.M))
    assert documented == handled and "demos" in handled, (documented, handled)


def test_unknown_stage_and_missing_demos_fail_with_a_message(tmp_path: Path) -> None:
    unknown = _pipeline(tmp_path, "bogus")
    assert unknown.returncode == 2 and "unknown stage bogus" in unknown.stderr
    no_demos = _pipeline(tmp_path, "dp-pilots")  # fails before calling eva-bench (not on this PATH)
    assert no_demos.returncode == 1 and "needs demos" in no_demos.stderr
