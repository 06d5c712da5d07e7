"""The checkpoint format (digest, provenance, kinds, 0.3 folders) and atomic writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from eva_bench.checkpoint import (
    CheckpointError,
    compute_digest,
    content_digest,
    make_provenance,
    read_checkpoint,
    write_checkpoint,
)
from eva_bench.fileio import atomic_path, atomic_write
from eva_bench.paths import released_idm_dir


def small(folder: Path, scale: float = 1.0, **kwargs):
    state = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3) * scale, "b": torch.ones(3)}
    return write_checkpoint(folder, "toy", {"width": 3, "layers": [1, 2]}, state, **kwargs)


def test_round_trip_keeps_config_weights_provenance_and_metrics(tmp_path) -> None:
    written = small(tmp_path / "c", provenance=make_provenance(data={"episodes": 4}, command="train toy"),
                    metrics={"accuracy": 0.5})
    read = read_checkpoint(tmp_path / "c", "toy")
    assert read == written
    assert read.config == {"width": 3, "layers": [1, 2]} and read.metrics == {"accuracy": 0.5}
    assert read.provenance["command"] == "train toy" and read.provenance["data"] == {"episodes": 4}
    assert read.provenance["git_commit"]  # the suite runs in a git checkout
    torch.testing.assert_close(read.load_state_dict()["w"], torch.arange(6.0).reshape(2, 3))


def test_digest_depends_on_weights_config_and_kind(tmp_path) -> None:
    a, b = small(tmp_path / "a"), small(tmp_path / "b")
    assert a.digest == b.digest  # same content, same digest, wherever it lives
    assert small(tmp_path / "c", scale=2.0).digest != a.digest
    assert compute_digest("other", a.config, a.weights_path) != a.digest
    assert compute_digest("toy", {**a.config, "width": 4}, a.weights_path) != a.digest


def test_a_modified_checkpoint_fails_its_digest(tmp_path) -> None:
    small(tmp_path / "a")
    small(tmp_path / "b", scale=3.0)
    shutil.copy(tmp_path / "b" / "model.safetensors", tmp_path / "a" / "model.safetensors")
    with pytest.raises(CheckpointError, match="was modified after it was written"):
        read_checkpoint(tmp_path / "a")
    assert read_checkpoint(tmp_path / "a", verify=False).digest.startswith("sha256:")  # explicit opt-out


@pytest.mark.parametrize(
    ("damage", "message"),
    [("rm config.json", "config.json is missing"), ("rm model.safetensors", "no model.safetensors"),
     ("rm checkpoint.json", "no checkpoint.json: not an eva-bench checkpoint"),
     ("garble checkpoint.json", "checkpoint.json is corrupt"),
     ("garble model.safetensors", "model.safetensors is corrupt or truncated")],
)
def test_broken_folders_fail_with_one_clear_message(tmp_path, damage: str, message: str) -> None:
    small(tmp_path / "c")
    action, name = damage.split()
    path = tmp_path / "c" / name
    if action == "rm":
        path.unlink()
    else:
        path.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match=message):
        read_checkpoint(tmp_path / "c")


def test_kind_is_checked_and_run_folders_resolve_to_their_model(tmp_path) -> None:
    small(tmp_path / "run" / "model")
    assert read_checkpoint(tmp_path / "run").folder == tmp_path / "run" / "model"
    with pytest.raises(CheckpointError, match="holds a toy checkpoint, not a idm one"):
        read_checkpoint(tmp_path / "run", "idm")


def test_an_eva_bench_0_3_idm_folder_reads_as_an_idm(tmp_path) -> None:
    legacy = tmp_path / "legacy"
    shutil.copytree(released_idm_dir(), legacy)
    (legacy / "checkpoint.json").unlink()
    config = json.loads((legacy / "config.json").read_text())
    (legacy / "config.json").write_text(json.dumps({"format": "eva-bench-idm/1", **config}))
    read = read_checkpoint(legacy, "idm")
    assert read.digest == read_checkpoint(released_idm_dir()).digest  # same model, same digest
    assert read.provenance == {} and read.metrics["accuracy"] == pytest.approx(0.7519, abs=1e-4)


def test_released_idm_is_a_verified_checkpoint_with_provenance() -> None:
    released = read_checkpoint(released_idm_dir(), "idm")
    assert released.folder.name == "idm-v3"
    assert released.provenance["data"]["resolution"] == [160, 120]
    assert released.metrics["accuracy"] == pytest.approx(0.7519, abs=1e-4)


def test_content_digest_of_other_checkpoints(tmp_path) -> None:
    folder = tmp_path / "robotwin_policy"
    folder.mkdir()
    (folder / "deploy_policy.py").write_text("x = 1\n")
    first = content_digest(folder)
    (folder / "deploy_policy.py").write_text("x = 2\n")
    assert content_digest(folder) != first
    assert content_digest(folder / "deploy_policy.py").startswith("sha256:")
    assert content_digest(small(tmp_path / "c").folder) == read_checkpoint(tmp_path / "c").digest
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        content_digest(tmp_path / "missing")


def test_atomic_writes_leave_the_old_file_or_the_new_one(tmp_path) -> None:
    target = atomic_write(tmp_path / "sub" / "a.json", "old")
    with pytest.raises(RuntimeError, match="interrupted"), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old" and sorted(p.name for p in target.parent.iterdir()) == ["a.json"]
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
