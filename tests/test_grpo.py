"""Flow-GRPO: the toy reward rises, inner epochs re-score stored rollouts, resume is exact, adapters reload."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_idm import blob_episode

from eva_bench.align.config import GRPOConfig
from eva_bench.align.grpo import LOG_FILE, snapshots, train_grpo
from eva_bench.align.lora import load_lora
from eva_bench.checkpoint import CheckpointError, read_checkpoint
from eva_bench.data.episode import write_episode
from eva_bench.errors import UserError
from eva_bench.world_model.autoencoder import FrameAutoencoder
from eva_bench.world_model.model import VideoWorldModel
from eva_bench.world_model.pipeline import WorldModelPipeline

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _linear_decode(self, latents: torch.Tensor) -> torch.Tensor:
    """Latent channels 0-2, squashed and upsampled, as the frames of a latent: brightness is a smooth function
    of the latents (an untrained autoencoder's GroupNorm decoder makes every latent the same grey)."""
    b, n = latents.shape[:2]
    height, width = self.config["height"], self.config["width"]
    x = torch.tanh(latents[:, :, :3] * 0.5).reshape(b * n, 3, *latents.shape[-2:])
    x = torch.nn.functional.interpolate(x, size=(height, width)).reshape(b, n, 1, 3, height, width)
    return x.expand(b, n, self.group, 3, height, width).reshape(b, n * self.group, 3, height, width)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """Three 40-frame blob episodes with instructions, a tiny untrained world model and its autoencoder."""
    root = tmp_path_factory.mktemp("grpo")
    for i in range(3):
        write_episode(root / "demos" / "blob" / "data" / f"episode{i}.hdf5", blob_episode(40, i))
        sidecar = root / "demos" / "blob" / "instructions" / f"episode{i}.json"
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        sidecar.write_text(json.dumps({"seen": ["move the blob"], "unseen": ["shift it"]}))
    torch.manual_seed(0)
    ae = FrameAutoencoder(width=32, height=24, block_channels=[8, 16, 16]).save(root / "ae")
    provenance = {"autoencoder": {"path": str(root / "ae"), "digest": ae.digest},
                  "sampling": {"shift": 3.0, "history_latents": 1, "segment_latents": 2}}
    VideoWorldModel(latent_channels=16, layers=1, heads=2, head_dim=8, ffn_dim=16, freq_dim=8).save(
        root / "wm", provenance=provenance)
    return root


def _config(root, out, **overrides) -> GRPOConfig:
    settings = {"init": str(root / "wm"), "data": str(root / "demos"), "out": str(out), "reward": "brightness",
                "reward_idm": "", "steps": 40, "lr": 1e-2, "warmup": 0, "group_size": 8, "sample_steps": 4,
                "segment_latents": 2, "timestep_fraction": 1.0, "clip_range": 0.2, "beta": 0.0, "inner_epochs": 1,
                "lora_rank": 4, "lora_alpha": 8, "eval_every": 40, "checkpoint_every": 40, "holdout": 0.34,
                "val_prompts": 4, "videos": 1, "weight_decay": 0.0, "snapshot_every": 40}
    return GRPOConfig(**{**settings, **overrides})


def _brightness(folder) -> float:
    pipeline = WorldModelPipeline.load(folder)
    history = np.full((4, 24, 32, 3), 60, np.uint8)
    return float(np.mean([pipeline.imagine(history, "move the blob", seed=s, steps=4).mean() for s in range(8)]))


def test_grpo_raises_a_toy_reward_and_saves_an_adapter(toy, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(FrameAutoencoder, "decode", _linear_decode)
    before = _brightness(toy / "wm")
    result = train_grpo(_config(toy, tmp_path / "run"), progress=False)
    after = _brightness(tmp_path / "run")  # the adapter checkpoint on its base
    assert after > before + 2.0, (before, after)  # grey levels out of 255: about 4 sigma of a rollout
    rows = (tmp_path / "run" / LOG_FILE).read_text().splitlines()
    assert rows[0].startswith("step,reward_mean,reward_std") and len(rows) == 41
    first, last = (float(r.split(",")[1]) for r in (rows[1], rows[-1]))
    assert last > first and result.metrics["val_reward"] > 0
    adapter = read_checkpoint(tmp_path / "run", "lora")
    assert adapter.provenance["base"]["digest"] == read_checkpoint(toy / "wm").digest
    assert adapter.weights_path.stat().st_size < 100_000  # the adapter only, not the base
    assert list((tmp_path / "run" / "videos").glob("*.mp4"))
    assert [step for step, _ in snapshots(tmp_path / "run")] == [40]  # the last step is always kept


def test_inner_epochs_rescore_the_stored_rollouts_and_resume_is_exact(toy, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(FrameAutoencoder, "decode", _linear_decode)
    settings = {"steps": 4, "inner_epochs": 2, "checkpoint_every": 2, "eval_every": 4, "beta": 0.05}
    train_grpo(_config(toy, tmp_path / "straight", **settings), progress=False)
    train_grpo(_config(toy, tmp_path / "split", **settings), progress=False, stop_after=2)
    train_grpo(_config(toy, tmp_path / "split", **settings), progress=False)
    logs = [(tmp_path / run / LOG_FILE).read_text().splitlines() for run in ("straight", "split")]
    columns = logs[0][0].split(",")
    drop = [columns.index(c) for c in ("sample_s", "reward_s", "loss_forward_s")]
    same = [[",".join(v for i, v in enumerate(row.split(",")) if i not in drop) for row in log] for log in logs]
    assert same[0] == same[1] and len(same[0]) == 5
    assert [step for step, _ in snapshots(tmp_path / "split")] == [4]
    second = dict(zip(columns, logs[0][2].split(","), strict=True))  # the cycle's second epoch: ratio moved
    assert float(second["approx_kl"]) > 0 and float(second["kl_loss"]) > 0
    straight, _ = load_lora(tmp_path / "straight")
    split, _ = load_lora(tmp_path / "split")
    for (name, a), b in zip(straight.state_dict().items(), split.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def test_grpo_refuses_bad_settings_and_a_foreign_base(toy, tmp_path) -> None:
    with pytest.raises(UserError, match="multiple of inner_epochs"):
        _config(toy, tmp_path / "a", inner_epochs=4, checkpoint_every=6)
    with pytest.raises(UserError, match="snapshot_every"):
        _config(toy, tmp_path / "a", inner_epochs=2, checkpoint_every=4, snapshot_every=6)
    with pytest.raises(UserError, match="group_size"):
        _config(toy, tmp_path / "a", group_size=1)
    with pytest.raises(UserError, match="reward must be"):
        _config(toy, tmp_path / "a", reward="beauty")
    train_grpo(_config(toy, tmp_path / "run", steps=1, eval_every=1, checkpoint_every=1), progress=False)
    VideoWorldModel(latent_channels=16, layers=1, heads=2, head_dim=8, ffn_dim=16, freq_dim=8).save(tmp_path / "other")
    with pytest.raises(CheckpointError, match="not the base"):
        load_lora(tmp_path / "run", base=tmp_path / "other")


def test_train_grpo_command_with_the_idm_reward_logs_reward_components_and_detectors(toy, tmp_path) -> None:
    from typer.testing import CliRunner

    from eva_bench.cli import app

    out = tmp_path / "cli"
    args = ["train", "grpo", "--init", str(toy / "wm"), "--data", str(toy / "demos"), "--out", str(out),
            "--steps", "2", "--group-size", "2", "--sample-steps", "2", "--inner-epochs", "1", "--checkpoint-every",
            "1", "--eval-every", "2", "--val-prompts", "1", "--no-progress"]
    run = CliRunner().invoke(app, args)  # the released IDM scores the (resized) 32x24 rollouts
    assert run.exit_code == 0, run.output
    assert "held-out prompts: reward" in run.output
    row = dict(zip(*(line.split(",") for line in (out / LOG_FILE).read_text().splitlines()[:2]), strict=True))
    assert 0 < float(row["reward_mean"]) <= 1 and float(row["penalty"]) >= 0
    assert 0 <= float(row["static"]) <= 1 and float(row["motion"]) >= 0 and row["frozen_gripper"] != ""
    curve = CliRunner().invoke(app, ["report", "grpo", "--run", str(out), "--out", str(tmp_path / "fig")])
    assert curve.exit_code == 0, curve.output  # Figure S3 from a real run's logs
    assert "2 GRPO steps" in (tmp_path / "fig" / "grpo_curve.md").read_text()
    bad = CliRunner().invoke(app, [*args[:-1], "--reward", "beauty"])
    assert bad.exit_code != 0 and "reward must be" in str(bad.exception or bad.output)


def test_bench_grpo_reports_the_iteration_and_its_parts() -> None:
    from typer.testing import CliRunner

    from eva_bench.cli import app

    run = CliRunner().invoke(app, ["bench", "grpo", "--group-size", "2", "--sample-steps", "2"])
    assert run.exit_code == 0, run.output
    values = {line[:60].strip(): line[60:].strip() for line in run.output.splitlines()}
    total = float(values["GRPO iteration s (G 2, 2 SDE steps, 1 trained)"])
    parts = [float(values[k].split()[0]) for k in ("sampling + autoencoder decoding s", "IDM reward s",
                                                  "update s (loss forward, backward, AdamW)")]
    assert total > 0 and abs(sum(parts) - total) < 0.3  # each part rounded to 0.1 s
