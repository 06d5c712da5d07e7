"""Diffusion Policy: the model learns a fixed batch and reloads exactly, sampling is seeded, the samples follow
RoboTwin's state/action shift, the EMA, training on the shared trainer (resumed bit-for-bit), the policy's
history and queue, and a run in the simulator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from eva_bench.policies.chunk_training import ChunkSamples
from eva_bench.policies.dp.config import DPTrainConfig
from eva_bench.policies.dp.model import DiffusionPolicy
from eva_bench.policies.dp.policy import query_seed
from eva_bench.policies.dp.train import EMATrainee, train_dp
from test_act import play_one_episode
from test_idm import blob_episode
from typer.testing import CliRunner

from eva_bench.checkpoint import read_checkpoint
from eva_bench.cli import app
from eva_bench.data.episode import write_episode
from eva_bench.errors import UserError
from eva_bench.policy import make_policy

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SMALL = {"width": 32, "height": 24, "n_obs": 2, "horizon": 4, "n_action": 2, "stem_channels": 8,
         "stages": [[16, 1, 2]], "keypoints": 8, "down_dims": [32, 64], "groups": 8, "step_dim": 32,
         "train_steps": 20, "inference_steps": 5, "sampler": "ddim"}


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    root = tmp_path_factory.mktemp("dp_blobs")
    for i in range(4):
        write_episode(root / "blob" / "data" / f"episode{i}.hdf5", blob_episode(24, i))
    return root


def _batch():
    rng = np.random.default_rng(0)
    frames = torch.from_numpy(rng.integers(0, 256, (4, 2, 3, 24, 32), dtype=np.uint8))
    states = torch.from_numpy(rng.uniform(-1, 1, (4, 2, 14)).astype(np.float32))
    actions = torch.from_numpy(rng.uniform(-1, 1, (4, 4, 14)).astype(np.float32))
    return frames, states, actions


def test_dp_fits_a_fixed_batch_reloads_exactly_and_samples_from_its_seed(tmp_path) -> None:
    torch.manual_seed(0)
    model = DiffusionPolicy(**SMALL)
    frames, states, actions = _batch()
    model.set_stats(actions.reshape(-1, 14).numpy(), states.reshape(-1, 14).numpy())

    def tiled(x: torch.Tensor, times: int) -> torch.Tensor:
        return x.repeat(times, *[1] * (x.dim() - 1))

    def held_loss() -> float:  # 64 draws of noise and step, the same each time
        with torch.no_grad():
            return float(model.loss(tiled(frames, 16), tiled(states, 16), tiled(actions, 16),
                                    generator=torch.Generator().manual_seed(1)))

    before = held_loss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batch = [tiled(x, 8) for x in (frames, states, actions)]  # 8 noise draws per sample and step
    for _ in range(200):
        loss = model.loss(*batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert held_loss() < 0.8 * before, (before, held_loss())

    model.save(tmp_path / "dp", provenance={"data": {"tasks": ["blob"]}})
    again = DiffusionPolicy.load(tmp_path / "dp")
    history = np.random.default_rng(2).integers(0, 256, (2, 48, 64, 3), dtype=np.uint8)  # resized to 32x24
    first = model.predict(history, np.zeros((2, 14)), seed=7)
    assert first.shape == (2, 14)  # the n_action executed rows
    np.testing.assert_array_equal(first, again.predict(history, np.zeros((2, 14)), seed=7))
    assert not np.array_equal(first, model.predict(history, np.zeros((2, 14)), seed=8))
    ddpm = model.predict(history, np.zeros((2, 14)), seed=7, sampler="ddpm", steps=20)
    assert not np.array_equal(first, ddpm) and np.all(np.isfinite(ddpm))
    with pytest.raises(ValueError, match="sampler"):
        model.predict(history, np.zeros((2, 14)), steps=21)


def test_the_paper_shapes_match_robotwins_dp() -> None:
    from eva_bench.policies.dp.config import PRESETS

    with torch.device("meta"):
        model = DiffusionPolicy(**PRESETS["robotwin"]["model"])
    # RoboTwin's DP: a ResNet-18 (11.18 M without its classifier) and the 256-512-1024 UNet: 96.8 M in all
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 1) == 96.8
    with pytest.raises(ValueError, match="divisible"):
        DiffusionPolicy(**{**SMALL, "horizon": 5, "n_action": 1})


def _counting_episode(steps: int):
    """A blob episode whose joint vector's first entry is the row number."""
    episode = blob_episode(steps, 0)
    episode.vector[:, 0] = np.arange(steps)
    return episode


def test_samples_shift_state_to_action_and_repeat_the_edges(tmp_path) -> None:
    path = tmp_path / "blob" / "data" / "episode0.hdf5"
    write_episode(path, _counting_episode(10))
    dp = ChunkSamples([path], ["head_camera"], (32, 24), history=3, chunk_start=-2, chunk=8, cache_mb=16)
    batch = dp.batch([0, 5, 9])
    assert batch["frames"].shape == (3, 1, 3, 3, 24, 32)
    np.testing.assert_array_equal(batch["states"][:, :, 0], [[0, 0, 0], [3, 4, 5], [7, 8, 9]])
    # state row r -> command row r + 1; the chunk starts at the oldest observed row
    np.testing.assert_array_equal(batch["actions"][:, :, 0], [[1, 1, 1, 2, 3, 4, 5, 6], [4, 5, 6, 7, 8, 9, 9, 9],
                                                                [8, 9, 9, 9, 9, 9, 9, 9]])
    np.testing.assert_array_equal(batch["is_pad"][0], [1, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(batch["is_pad"][1], [0, 0, 0, 0, 0, 0, 1, 1])  # rows 10, 11 do not exist
    act = ChunkSamples([path], ["head_camera"], (32, 24), history=1, chunk_start=0, chunk=4, cache_mb=16)
    batch = act.batch([7])
    np.testing.assert_array_equal(batch["actions"][0, :, 0], [8, 9, 9, 9])
    np.testing.assert_array_equal(batch["is_pad"][0], [0, 0, 1, 1])


def test_ema_starts_as_a_copy_then_averages_with_the_warm_up_decay() -> None:
    torch.manual_seed(0)
    trainee = EMATrainee(DiffusionPolicy(**SMALL), ema=True)
    with torch.no_grad():
        trainee.ema.unet.final[1].weight.fill_(5.0)
    trainee.update_ema(0, 0.75, 0.9999)  # decay 0 at the first step: a copy
    weight = trainee.policy.unet.final[1].weight
    assert torch.equal(trainee.ema.unet.final[1].weight, weight)
    before = weight.detach().clone()
    with torch.no_grad():
        weight.add_(1.0)
    trainee.update_ema(10, 0.75, 0.9999)
    decay = 1 - 11 ** -0.75
    torch.testing.assert_close(trainee.ema.unet.final[1].weight, decay * before + (1 - decay) * (before + 1))
    assert not any(p.requires_grad for p in trainee.ema.parameters())


def _config(blobs, out, **overrides) -> DPTrainConfig:
    settings = {"data": str(blobs), "out": str(out), "steps": 6, "batch_size": 4, "lr": 3e-3, "warmup": 2,
                "eval_every": 3, "checkpoint_every": 3, "holdout": 0.25, "eval_samples": 8, "model": SMALL}
    return DPTrainConfig(**{**settings, **overrides})


def test_train_dp_exports_the_ema_evaluates_and_resumes_bit_for_bit(blobs, tmp_path) -> None:
    whole = train_dp(_config(blobs, tmp_path / "whole"), progress=False)
    assert whole.metrics["samples"] == 24 and np.isfinite(whole.metrics["val_chunk_mae"])
    assert read_checkpoint(tmp_path / "whole", "dp").provenance["data"]["tasks"] == ["blob"]
    train_dp(_config(blobs, tmp_path / "parts"), progress=False, stop_after=3)
    train_dp(_config(blobs, tmp_path / "parts"), progress=False)
    a, b = (DiffusionPolicy.load(tmp_path / name) for name in ("whole", "parts"))
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), name
    rows = [(tmp_path / name / "log.csv").read_text() for name in ("whole", "parts")]
    # the same rows up to the throughput and the time stamp
    assert [r.split(",")[:-2] for r in rows[0].splitlines()] == [r.split(",")[:-2] for r in rows[1].splitlines()]

    plain = train_dp(_config(blobs, tmp_path / "plain", ema=False, steps=3), progress=False)
    assert plain.step == 3
    with pytest.raises(UserError, match="one task per model"):
        _config(blobs, tmp_path / "x", tasks=["blob", "other"])
    with pytest.raises(UserError, match="unknown DP settings"):
        _config(blobs, tmp_path / "x", model={"chunk": 3})


def test_train_dp_command_with_the_tiny_preset(blobs, tmp_path) -> None:
    run = CliRunner().invoke(app, ["train", "dp", "--data", str(blobs), "--out", str(tmp_path / "tiny"), "--steps",
                                   "2", "--batch-size", "2", "--eval-every", "2", "--eval-samples", "4",
                                   "--holdout", "0.25", "--no-progress", "--inference-steps", "2"])
    assert run.exit_code == 0, run.output
    assert "executed chunk MAE" in run.output
    config = DiffusionPolicy.load_config(tmp_path / "tiny")
    assert config["inference_steps"] == 2 and config["n_obs"] == 2 and config["width"] == 128


class _Scripted:
    """Stands in for a DP: records each query's history and seed; chunk q's rows hold q."""

    config = {"n_obs": 2, "n_action": 2}

    def __init__(self) -> None:
        self.calls = []

    def predict(self, frames, states, task, seed, sampler, steps):
        self.calls.append((frames[:, 0, 0, 0].tolist(), states[:, 0].tolist(), seed))
        return np.full((2, 14), 0.01 * len(self.calls), np.float32)


def test_dp_policy_fills_its_history_and_queries_every_n_action_steps(tmp_path) -> None:
    DiffusionPolicy(**SMALL).save(tmp_path / "m", provenance={"data": {"tasks": ["blob"]}})
    policy = make_policy("dp", checkpoint=str(tmp_path / "m"))
    assert policy.execute_steps == 1 and policy.camera_requests() == {"head_camera": (32, 24)}
    runs = []
    for seed in (3, 3, 4):
        policy.reset("blob", "x", seed)
        policy.model = _Scripted()
        actions = []
        for step in range(5):
            obs = {"observation": {"head_camera": {"rgb": np.full((24, 32, 3), step, np.uint8)}},
                   "joint_action": {"vector": np.full(14, step, np.float32)}}
            actions.append(float(policy.act(obs)[0, 0]))
        runs.append(policy.model.calls)
        assert actions == pytest.approx([0.01, 0.01, 0.02, 0.02, 0.03])
    calls = runs[0]
    assert [c[0] for c in calls] == [[0, 0], [1, 2], [3, 4]]  # the first frame fills the history
    assert [c[1] for c in calls] == [[0, 0], [1, 2], [3, 4]]
    assert [c[2] for c in calls] == [query_seed(3, q) for q in range(3)]
    assert runs[0] == runs[1] and [c[2] for c in runs[2]] != [c[2] for c in calls]
    with pytest.raises(UserError, match="trained on blob, not on click_bell"):
        policy.reset("click_bell", "x", 0)


def test_a_dp_run_in_the_simulator(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("EVA_BENCH_DP", raising=False)
    torch.manual_seed(0)
    DiffusionPolicy(**SMALL).save(tmp_path / "dp" / "_test_pulse", provenance={"data": {"tasks": ["_test_pulse"]}})
    with pytest.raises(UserError, match="needs --checkpoint"):
        make_policy("dp")
    play_one_episode("dp", tmp_path / "dp", tmp_path)


def test_bench_dp_reports_the_step_and_the_query() -> None:
    run = CliRunner().invoke(app, ["bench", "dp"])
    assert run.exit_code == 0, run.output
    rows = {line[:40].strip(): line[40:].strip() for line in run.output.splitlines() if line.strip()}
    assert "5,059,430 parameters" in rows["DP"]
    assert float(rows["training step s (batch 8)"]) > 0 and float(rows["policy query s (ddim, 10 steps)"]) > 0
