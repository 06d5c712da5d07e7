"""The shared trainer (`eva_bench.training`) on its toy task: schedule, batch order and sharding, loss falling,
strict resume, crash-safe state, Ctrl-C, gradient accumulation, mixed precision, TensorBoard, and a 2-process
`accelerate launch` run that must match the single-process one."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from eva_bench.checkpoint import read_checkpoint
from eva_bench.errors import UserError
from eva_bench.training import TrainerConfig, batch_indices, fit, settings_diff, shard_positions, warmup_cosine
from eva_bench.training.logs import TENSORBOARD_MISSING
from eva_bench.training.toy import ToyRegression

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def toy_config(out: Path, **overrides) -> TrainerConfig:
    settings = {"out": str(out), "steps": 40, "batch_size": 32, "lr": 0.2, "warmup": 5, "eval_every": 10,
                "checkpoint_every": 10, "threads": 1}
    return TrainerConfig(**{**settings, **overrides})


def log_rows(out: Path) -> list[dict]:
    """log.csv without its wall-clock columns."""
    with (out / "log.csv").open() as f:
        return [{k: v for k, v in r.items() if k not in ("time", "samples_per_s")} for r in csv.DictReader(f)]


def weights(out: Path) -> dict[str, torch.Tensor]:
    return read_checkpoint(out, "toy").load_state_dict()


# ---------------------------------------------------------------------------------------------------- pure parts
def test_learning_rate_schedule_values() -> None:
    lr = 1e-3
    assert warmup_cosine(0, lr, 10, 110) == pytest.approx(1e-4)
    assert warmup_cosine(4, lr, 10, 110) == pytest.approx(5e-4)
    assert warmup_cosine(9, lr, 10, 110) == pytest.approx(1e-3)
    assert warmup_cosine(10, lr, 10, 110) == pytest.approx(1e-3)  # cosine starts at the peak
    assert warmup_cosine(60, lr, 10, 110) == pytest.approx(lr * (0.1 + 0.45))  # half way: the mean
    assert warmup_cosine(110, lr, 10, 110) == pytest.approx(1e-4)  # ends at a tenth ...
    assert warmup_cosine(500, lr, 10, 110) == pytest.approx(1e-4)  # ... and stays there
    assert warmup_cosine(0, lr, 0, 100) == pytest.approx(lr)  # no warm-up


def test_batch_order_and_shards_partition_every_step() -> None:
    seen = np.concatenate([batch_indices(s, 4, 12, seed=0) for s in range(3)])
    assert sorted(seen) == list(range(12))  # each sample once per epoch
    assert not np.array_equal(batch_indices(0, 4, 12, 0), batch_indices(0, 4, 12, 1))
    parts = [shard_positions(12, 2, 3, m, r) for m in range(3) for r in range(2)]
    assert sorted(np.concatenate(parts)) == list(range(12)) and all(len(p) == 2 for p in parts)
    assert list(shard_positions(12, 2, 3, 1, 0)) == [4, 5]  # micro-batch 1, process 0: part 1 * 2 + 0
    with pytest.raises(ValueError, match="not divisible by processes x gradient accumulation = 2 x 3"):
        shard_positions(8, 2, 3, 0, 0)


def test_settings_diff_lists_every_differing_field() -> None:
    saved = {"lr": 0.1, "seed": 0, "steps": 10, "old": 1}
    assert settings_diff(saved, {"lr": 0.2, "seed": 0, "steps": 20}, ("steps",)) == \
        "lr (saved 0.1, now 0.2), old (saved 1, now missing)"
    assert settings_diff({"size": [1, 2]}, {"size": (1, 2)}) == ""  # compared as JSON


# ---------------------------------------------------------------------------------------------------- training
def test_toy_loss_falls_and_run_folder_is_complete(tmp_path) -> None:
    result = fit(ToyRegression(), toy_config(tmp_path / "run"), progress=False)
    assert result.step == 40 and result.main_process
    rows = log_rows(tmp_path / "run")
    assert [int(r["step"]) for r in rows] == [10, 20, 30, 40]
    val = [float(r["val_loss"]) for r in rows]
    assert val[-1] < 0.1 * val[0] and val[-1] < 0.05, val  # noise floor: 0.01
    assert float(rows[0]["lr"]) == pytest.approx(warmup_cosine(9, 0.2, 5, 40), rel=1e-2)
    assert json.loads((tmp_path / "run" / "metrics.json").read_text()) == {"step": 40, **result.metrics}
    snapshot = json.loads((tmp_path / "run" / "run_config.json").read_text())
    assert snapshot["kind"] == "toy" and snapshot["settings"]["features"] == 8 and snapshot["settings"]["lr"] == 0.2
    info = json.loads((tmp_path / "run" / "state" / "trainer_state.json").read_text())
    assert (info["step"], info["processes"]) == (40, 1)
    assert (tmp_path / "run" / "state" / "optimizer.bin").exists()  # a torch state dict, not metadata
    checkpoint = read_checkpoint(tmp_path / "run", "toy")
    assert checkpoint.folder == tmp_path / "run" / "model" and checkpoint.provenance["step"] == 40
    assert not [p.name for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]  # no temporaries left


def test_resume_is_bit_identical_and_strict(tmp_path) -> None:
    fit(ToyRegression(), toy_config(tmp_path / "a"), progress=False)
    first = fit(ToyRegression(), toy_config(tmp_path / "b"), progress=False, stop_after=15)  # mid-interval
    assert first.step == 15 and first.metrics is None and not (tmp_path / "b" / "metrics.json").exists()
    second = fit(ToyRegression(), toy_config(tmp_path / "b", eval_every=10, threads=2), progress=False)
    assert second.step == 40
    for name, value in weights(tmp_path / "a").items():
        assert torch.equal(value, weights(tmp_path / "b")[name]), name
    assert log_rows(tmp_path / "a") == log_rows(tmp_path / "b")
    with pytest.raises(UserError, match=r"another config: lr \(saved 0.2, now 0.1\), seed \(saved 0, now 1\)"):
        fit(ToyRegression(), toy_config(tmp_path / "b", lr=0.1, seed=1), progress=False)
    with pytest.raises(UserError, match=r"data_seed \(saved 0, now 3\)"):
        fit(ToyRegression(data_seed=3), toy_config(tmp_path / "b"), progress=False)
    with pytest.raises(UserError, match="holds a toy training run, not a idm one"):
        task = ToyRegression()
        task.kind = "idm"
        fit(task, toy_config(tmp_path / "b"), progress=False)


class _Adapted(torch.nn.Module):
    """A frozen base layer plus a trainable low-rank adapter (the shape of a LoRA fine-tune)."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.base = torch.nn.Linear(features, 1).requires_grad_(False)
        self.down, self.up = torch.nn.Linear(features, 2, bias=False), torch.nn.Linear(2, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.up(self.down(x))


class _AdapterRegression(ToyRegression):
    kind = "toy-adapter"

    def build_model(self) -> torch.nn.Module:
        return _Adapted(self.features)


def test_adapter_training_resumes_with_its_optimizer_state_and_leaves_the_base_frozen(tmp_path) -> None:
    fit(_AdapterRegression(), toy_config(tmp_path / "a"), progress=False)
    fit(_AdapterRegression(), toy_config(tmp_path / "b"), progress=False, stop_after=15)
    optimizer = torch.load(tmp_path / "b" / "state" / "optimizer.bin", weights_only=True)
    assert len(optimizer["state"]) == 2  # AdamW moments of the two adapter matrices only
    fit(_AdapterRegression(), toy_config(tmp_path / "b"), progress=False)
    a, b = (read_checkpoint(tmp_path / run, "toy-adapter").load_state_dict() for run in ("a", "b"))
    assert all(torch.equal(a[name], b[name]) for name in a)
    torch.manual_seed(0)
    assert torch.equal(a["base.weight"], _Adapted(8).base.weight)  # as initialized from the seed: never trained
    assert log_rows(tmp_path / "a") == log_rows(tmp_path / "b")


def test_corrupt_state_is_one_line_user_error(tmp_path) -> None:
    fit(ToyRegression(), toy_config(tmp_path / "run", steps=10), progress=False)
    (tmp_path / "run" / "state" / "optimizer.bin").write_bytes(b"not a torch file")
    with pytest.raises(UserError, match=r"training state in .*state is corrupt \(.*\); delete it") as error:
        fit(ToyRegression(), toy_config(tmp_path / "run", steps=20), progress=False)
    assert "\n" not in str(error.value)
    (tmp_path / "run" / "state" / "trainer_state.json").write_text("{")
    with pytest.raises(UserError, match="corrupt") as error:
        fit(ToyRegression(), toy_config(tmp_path / "run", steps=20), progress=False)
    assert "\n" not in str(error.value)


def test_crash_between_state_renames_resumes_from_the_previous_state(tmp_path) -> None:
    fit(ToyRegression(), toy_config(tmp_path / "a"), progress=False)
    fit(ToyRegression(), toy_config(tmp_path / "b"), progress=False, stop_after=20)
    (tmp_path / "b" / "state").rename(tmp_path / "b" / ".state.old")  # killed after moving the old one aside
    assert fit(ToyRegression(), toy_config(tmp_path / "b"), progress=False).step == 40
    for name, value in weights(tmp_path / "a").items():
        assert torch.equal(value, weights(tmp_path / "b")[name]), name


class Interrupted(ToyRegression):
    """Ctrl-C while making the batch of step `at`."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def batch(self, step, indices, positions):
        if step == self.at:
            raise KeyboardInterrupt
        return super().batch(step, indices, positions)


def test_ctrl_c_writes_a_checkpoint_to_resume_from(tmp_path) -> None:
    fit(ToyRegression(), toy_config(tmp_path / "a"), progress=False)
    with pytest.raises(KeyboardInterrupt):
        fit(Interrupted(at=13), toy_config(tmp_path / "b"), progress=False)
    info = json.loads((tmp_path / "b" / "state" / "trainer_state.json").read_text())
    assert info["step"] == 13 and read_checkpoint(tmp_path / "b", "toy").provenance["step"] == 13
    assert fit(ToyRegression(), toy_config(tmp_path / "b"), progress=False).step == 40
    for name, value in weights(tmp_path / "a").items():
        assert torch.equal(value, weights(tmp_path / "b")[name]), name


def test_gradient_accumulation_matches_one_big_batch(tmp_path) -> None:
    fit(ToyRegression(), toy_config(tmp_path / "one", steps=20), progress=False)
    fit(ToyRegression(), toy_config(tmp_path / "four", steps=20, grad_accum=4), progress=False)
    for name, value in weights(tmp_path / "one").items():
        torch.testing.assert_close(weights(tmp_path / "four")[name], value, atol=1e-5, rtol=0, msg=name)
    assert not torch.equal(weights(tmp_path / "one")["weight"], torch.zeros(1, 8))
    with pytest.raises(UserError, match="batch size 32 is not divisible by processes x gradient accumulation"):
        fit(ToyRegression(), toy_config(tmp_path / "bad", grad_accum=3), progress=False)


def test_bf16_mixed_precision_trains_and_settings_are_validated(tmp_path) -> None:
    bf16 = fit(ToyRegression(), toy_config(tmp_path / "bf16", steps=20, mixed_precision="bf16"), progress=False)
    # a later run in the same process may use other settings (the accelerate state was reset)
    fp32 = fit(ToyRegression(), toy_config(tmp_path / "fp32", steps=20), progress=False)
    assert np.isfinite(bf16.metrics["val_loss"])
    assert bf16.metrics["val_loss"] == pytest.approx(fp32.metrics["val_loss"], rel=0.1)
    assert not torch.equal(weights(tmp_path / "bf16")["weight"], weights(tmp_path / "fp32")["weight"])
    with pytest.raises(UserError, match="mixed precision must be one of no, bf16, fp16"):
        toy_config(tmp_path / "x", mixed_precision="fp8")


def test_tensorboard_missing_is_one_line_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as without the package
    with pytest.raises(UserError, match=r"pip install 'eva-bench\[tensorboard\]'"):
        fit(ToyRegression(), toy_config(tmp_path / "run", tensorboard=True), progress=False)
    assert "\n" not in TENSORBOARD_MISSING


def test_tensorboard_events_when_installed(tmp_path) -> None:
    pytest.importorskip("tensorboard")
    fit(ToyRegression(), toy_config(tmp_path / "run", steps=20, tensorboard=True), progress=False)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    assert [e.step for e in events.Scalars("eval/val_loss")] == [10, 20]
    assert "train/loss" in events.Tags()["scalars"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_under_accelerate_launch_match_one(tmp_path) -> None:
    """2 CPU processes (gloo) split each step's batch; the gradient all-reduce makes them one big batch (about
    10-15 s on 2 cores: the launch and two torch imports)."""
    fit(ToyRegression(), toy_config(tmp_path / "one", steps=20), progress=False)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "--main_process_port", str(_free_port()), "-m", "eva_bench.training.toy",
               "--out", str(tmp_path / "two"), "--steps", "20", "--batch-size", "32", "--lr", "0.2",
               "--warmup", "5", "--eval-every", "10", "--threads", "1"]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    info = json.loads((tmp_path / "two" / "state" / "trainer_state.json").read_text())
    assert (info["step"], info["processes"]) == (20, 2)
    assert sorted(p.name for p in (tmp_path / "two" / "state").glob("random_states_*.pkl")) == \
        ["random_states_0.pkl", "random_states_1.pkl"]
    one, two = weights(tmp_path / "one"), weights(tmp_path / "two")
    for name, value in one.items():
        assert torch.isfinite(two[name]).all()
        torch.testing.assert_close(two[name], value, atol=1e-5, rtol=0, msg=name)
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    single = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert np.isfinite(metrics["val_loss"]) and metrics["val_loss"] == pytest.approx(single["val_loss"], abs=1e-5)
    rows_one, rows_two = log_rows(tmp_path / "one"), log_rows(tmp_path / "two")
    assert [r["step"] for r in rows_two] == ["10", "20"]
    for a, b in zip(rows_one, rows_two, strict=True):
        assert float(a["train_loss"]) == pytest.approx(float(b["train_loss"]), abs=2e-5)
