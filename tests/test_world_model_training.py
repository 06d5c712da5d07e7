"""World-model SFT on the shared trainer: pre-encoded latents, instructions, checkpoints, resume, the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_idm import blob_episode
from typer.testing import CliRunner

from eva_bench.checkpoint import CheckpointError, read_checkpoint
from eva_bench.data.episode import write_episode
from eva_bench.world_model.autoencoder import FrameAutoencoder
from eva_bench.world_model.latents import episode_instructions
from eva_bench.world_model.model import VideoWorldModel
from eva_bench.world_model.train import train_world_model
from eva_bench.world_model.train_config import WorldModelTrainConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY = {"layers": 1, "heads": 2, "head_dim": 8, "ffn_dim": 16, "freq_dim": 8}


@pytest.fixture(scope="module")
def blob_demos(tmp_path_factory):
    """Three 16-frame blob episodes with seen instructions, and an (untrained) autoencoder for them."""
    root = tmp_path_factory.mktemp("wm_blobs")
    for i in range(3):
        write_episode(root / "demos" / "blob" / "data" / f"episode{i}.hdf5", blob_episode(16, i))
        sidecar = root / "demos" / "blob" / "instructions" / f"episode{i}.json"
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        sidecar.write_text(json.dumps({"seen": [f"move the blob {i}", "move the blob"], "unseen": ["shift it"]}))
    FrameAutoencoder(width=32, height=24, block_channels=[8, 16, 16]).save(root / "ae")
    return root


def _config(root, out, **overrides) -> WorldModelTrainConfig:
    settings = {"data": str(root / "demos"), "autoencoder": str(root / "ae"), "out": str(out), "model": TINY,
                "history_latents": 1, "segment_latents": 2, "holdout": 0.34, "batch_size": 4, "warmup": 1,
                "steps": 4, "eval_every": 2, "checkpoint_every": 2, "eval_clips": 4, "eval_segments": 1,
                "sample_steps": 2, "reward_idm": ""}
    return WorldModelTrainConfig(**{**settings, **overrides})


def test_sft_trains_saves_and_resumes_without_re_encoding(blob_demos, tmp_path) -> None:
    out = tmp_path / "run"
    result = train_world_model(_config(blob_demos, out), progress=False)
    assert result.step == 4 and np.isfinite(result.metrics["loss"])
    assert result.metrics["segments"] == 2  # the final evaluation asks for 4; one held-out 4-latent episode has 2
    rows = (out / "log.csv").read_text().splitlines()
    assert rows[0].startswith("step,epoch,lr,train_loss,val_loss,val_psnr_db,val_reward") and len(rows) == 3
    checkpoint = read_checkpoint(out, "world_model")
    ae = read_checkpoint(blob_demos / "ae", "autoencoder")
    assert checkpoint.provenance["autoencoder"]["digest"] == ae.digest
    assert VideoWorldModel.load(out).config["latent_channels"] == 16
    cached = sorted((out / "latents" / ae.short_digest / "blob").glob("*.npy"))
    assert len(cached) == 3 and np.load(cached[0]).shape == (4, 16, 6, 8)  # 16 frames -> 4 latents of 6x8
    stamps = [p.stat().st_mtime_ns for p in cached]
    again = train_world_model(_config(blob_demos, out, steps=6), progress=False)
    assert again.step == 6 and [p.stat().st_mtime_ns for p in cached] == stamps  # resumed, latents reused


def test_a_missing_autoencoder_or_instruction_is_explained(blob_demos, tmp_path) -> None:
    with pytest.raises(CheckpointError, match="autoencoder"):
        train_world_model(_config(blob_demos, tmp_path / "a", autoencoder=str(tmp_path / "none")), progress=False)
    bare = tmp_path / "bare" / "blob" / "data" / "episode0.hdf5"
    write_episode(bare, blob_episode(8, 0))
    with pytest.raises(ValueError, match="no instruction"):
        episode_instructions(bare)
    assert episode_instructions(blob_demos / "demos" / "blob" / "data" / "episode1.hdf5")[0] == "move the blob 1"


def test_train_wm_command(blob_demos, tmp_path) -> None:
    from eva_bench.cli import app

    out = tmp_path / "cli"
    args = ["train", "wm", "--data", str(blob_demos / "demos"), "--autoencoder", str(blob_demos / "ae"), "--out",
            str(out), "--steps", "1", "--batch-size", "2", "--history-latents", "1", "--segment-latents", "2",
            "--holdout", "0.34", "--eval-segments", "1", "--sample-steps", "1", "--reward-idm", "",
            "--no-progress"]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    assert "held-out: loss" in run.output and (out / "model" / "model.safetensors").exists()
