"""The world model's video autoencoder: shapes and padding, checkpoints, training, the reward round trip, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_idm import HEIGHT, WIDTH, blob_episode
from typer.testing import CliRunner

from eva_bench.checkpoint import CheckpointError
from eva_bench.data.dataset import find_episodes, split_by_episode
from eva_bench.data.episode import read_episode, write_episode
from eva_bench.errors import UserError
from eva_bench.idm.model import IDM
from eva_bench.idm.reward import RewardConfig
from eva_bench.idm.scoring import REWARD_CONFIG_FILE
from eva_bench.world_model.autoencoder import FrameAutoencoder
from eva_bench.world_model.autoencoder_config import AutoencoderTrainConfig
from eva_bench.world_model.autoencoder_train import RECONSTRUCTIONS_PNG, reward_round_trip, train_autoencoder
from eva_bench.world_model.image_metrics import psnr

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SMALL = {"block_channels": [8, 16, 16]}  # 4x spatial


@pytest.fixture(scope="module")
def blob_videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("ae_blobs")
    for i in range(3):
        write_episode(root / "blob" / "data" / f"episode{i}.hdf5", blob_episode(16, i))
    return root


def test_groups_of_frames_become_one_latent_and_the_height_is_padded() -> None:
    torch.manual_seed(0)
    model = FrameAutoencoder(width=32, height=22, **SMALL).eval()
    frames = torch.randint(0, 256, (2, 8, 3, 22, 32), dtype=torch.uint8)
    latents = model.encode(frames)
    assert latents.shape == (2, 2, 16, 6, 8) == (2, *model.latent_shape(8))  # 22 rows padded to 24
    assert model.decode(latents).shape == (2, 8, 3, 22, 32)
    video = np.random.default_rng(0).integers(0, 256, (7, 22, 32, 3), dtype=np.uint8)  # 7: not a multiple of 4
    rebuilt = model.round_trip(video)
    assert rebuilt.shape == video.shape and rebuilt.dtype == np.uint8
    with pytest.raises(ValueError, match="multiple of 4"):
        model.encode(frames[:, :6])
    with pytest.raises(ValueError, match=r"\(B, T, 3, 22, 32\)"):
        model.encode(frames[..., :16])
    with pytest.raises(ValueError, match="width a multiple of 8"):  # 4x spatial, latents in 2x2 patches
        FrameAutoencoder(width=36, height=22, **SMALL)


def test_a_saved_autoencoder_reloads_to_identical_outputs(tmp_path) -> None:
    torch.manual_seed(0)
    model = FrameAutoencoder(width=32, height=24, **SMALL).eval()
    model.set_latent_stats(torch.randn(10, 16, 6, 8) * 3 + 1)
    model.save(tmp_path / "ae")
    again = FrameAutoencoder.load(tmp_path / "ae").eval()
    frames = torch.randint(0, 256, (1, 4, 3, 24, 32), dtype=torch.uint8)
    with torch.no_grad():
        torch.testing.assert_close(again.reconstruct(frames), model.reconstruct(frames), rtol=0, atol=0)
    assert not torch.allclose(again.latent_std, torch.ones(16))  # the statistics travel with the weights
    with pytest.raises(CheckpointError, match="holds a autoencoder checkpoint, not a idm one"):
        IDM.load(tmp_path / "ae")


def test_psnr_of_known_errors() -> None:
    a = np.zeros((4, 4), np.uint8)
    assert psnr(a, a) == float("inf")
    assert psnr(a + 1, a) == pytest.approx(20 * np.log10(255.0))


def _config(data, out, **overrides) -> AutoencoderTrainConfig:
    settings = {"data": str(data), "out": str(out), "model": SMALL, "holdout": 0.34, "batch_size": 4, "lr": 3e-3,
                "warmup": 2, "steps": 40, "eval_every": 20, "checkpoint_every": 20, "eval_samples": 8,
                "stats_groups": 8, "reward_idm": ""}
    return AutoencoderTrainConfig(**{**settings, **overrides})


def test_training_lowers_the_loss_and_raises_held_out_psnr(blob_videos, tmp_path) -> None:
    torch.manual_seed(0)
    untrained = FrameAutoencoder(width=WIDTH, height=HEIGHT, **SMALL).eval()
    result = train_autoencoder(_config(blob_videos, tmp_path / "run"), progress=False)
    assert result.step == 40
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()[1:]
    losses = [float(r.split(",")[3]) for r in rows]
    assert losses[-1] < losses[0], rows
    trained = FrameAutoencoder.load(tmp_path / "run")
    assert (trained.config["width"], trained.config["height"]) == (WIDTH, HEIGHT)
    _, (held_out,) = split_by_episode(find_episodes(blob_videos), 0.34, 0)
    video = read_episode(held_out, ["head_camera"]).cameras["head_camera"].frames()
    assert psnr(trained.eval().round_trip(video), video) > psnr(untrained.round_trip(video), video) + 3
    assert result.metrics["groups"] > 0 and np.isfinite(result.metrics["psnr_db"])
    assert (tmp_path / "run" / RECONSTRUCTIONS_PNG).stat().st_size > 0
    assert not torch.allclose(trained.latent_std, torch.ones(16))


def test_reward_round_trip_scores_real_and_reconstructed_videos(blob_videos, tmp_path) -> None:
    idm_folder = tmp_path / "idm"
    IDM(width=WIDTH, height=HEIGHT, stem_channels=8, stages=((8, 1, 2),), keypoints=4, hidden=(16,)).save(idm_folder)
    RewardConfig(p0=5.0).save(idm_folder / REWARD_CONFIG_FILE)
    model = FrameAutoencoder(width=WIDTH, height=HEIGHT, **SMALL).eval()
    episodes = sorted(blob_videos.rglob("*.hdf5"))[:2]
    result = reward_round_trip(model, episodes, "head_camera", str(idm_folder))
    assert result["episodes"] == 2
    for key in ("reward_real", "reward_reconstructed"):
        assert 0.0 < result[key] <= 1.0
    assert result["reward_abs_diff"] >= abs(result["reward_real"] - result["reward_reconstructed"]) - 1e-9
    segments = reward_round_trip(model, episodes, "head_camera", str(idm_folder), segment_frames=4)
    assert segments["segments"] == 2 * 3 and -1 <= segments["segment_rank_correlation"] <= 1


def test_rank_correlation_of_known_orders() -> None:
    from eva_bench.world_model.autoencoder_train import rank_correlation

    a = np.array([0.1, 0.5, 0.3, 0.9])
    assert rank_correlation(a, a ** 3) == pytest.approx(1.0)  # monotone: the same ranking
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert rank_correlation(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1.0, 2.5, 2.5, 4.0])) == pytest.approx(1.0)
    assert np.isnan(rank_correlation(a[:2], a[:2]))


def test_fine_tuning_on_two_group_windows_with_the_temporal_loss_starts_from_init(blob_videos, tmp_path) -> None:
    from eva_bench.world_model.autoencoder_train import AutoencoderTraining

    train_autoencoder(_config(blob_videos, tmp_path / "a", steps=4, eval_every=4, checkpoint_every=4), progress=False)
    tuned = _config(blob_videos, tmp_path / "b", steps=1, eval_every=1, checkpoint_every=1, lr=1e-12,
                    window_groups=2, temporal_weight=1.0, init=str(tmp_path / "a"))
    task = AutoencoderTraining(tuned)
    task.setup()
    frames, _ = task.train_data.batch([0, 1])
    assert frames.shape[1] == 8  # two groups per sample: the seam between them is in the loss
    train_autoencoder(tuned, progress=False)
    first, second = FrameAutoencoder.load(tmp_path / "a"), FrameAutoencoder.load(tmp_path / "b")
    for (name, a), b in zip(first.net.state_dict().items(), second.net.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=name)  # lr 1e-12: the init's weights
    other = _config(blob_videos, tmp_path / "c", steps=1, model={"block_channels": [8, 8, 16]},
                    init=str(tmp_path / "a"))
    with pytest.raises(UserError, match="--init"):
        train_autoencoder(other, progress=False)
    with pytest.raises(UserError, match="window_groups"):
        _config(blob_videos, tmp_path / "d", window_groups=0)


def test_the_idm_consistency_loss_is_zero_on_real_frames_and_trains(blob_videos, tmp_path) -> None:
    from eva_bench.world_model.autoencoder_train import idm_consistency

    torch.manual_seed(0)
    idm = IDM(width=16, height=12, stem_channels=8, stages=((8, 1, 2),), keypoints=4, hidden=(16,)).eval()
    real = torch.randint(0, 256, (2, 8, 3, HEIGHT, WIDTH), dtype=torch.uint8)
    assert idm_consistency(idm, real.float(), real) == 0  # resized to the IDM's 16x12 inside
    decoded = (real.float() + 20 * torch.randn(real.shape)).requires_grad_(True)
    loss = idm_consistency(idm, decoded, real)
    loss.backward()
    assert loss > 0 and decoded.grad.abs().sum() > 0
    idm.save(tmp_path / "idm")
    run = _config(blob_videos, tmp_path / "run", steps=2, eval_every=2, checkpoint_every=2, window_groups=2,
                  idm_weight=1.0, idm=str(tmp_path / "idm"))
    assert train_autoencoder(run, progress=False).step == 2


def test_unknown_model_settings_and_missing_data_are_user_errors(tmp_path) -> None:
    with pytest.raises(UserError, match="unknown autoencoder settings"):
        _config(tmp_path, tmp_path / "out", model={"width": 64})
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="--data: no episode"):
        train_autoencoder(_config(tmp_path / "empty", tmp_path / "out"), progress=False)


def test_train_vae_command(blob_videos, tmp_path) -> None:
    from eva_bench.cli import app

    out = tmp_path / "cli"
    run = CliRunner().invoke(app, ["train", "vae", "--data", str(blob_videos), "--out", str(out), "--steps", "2",
                                   "--block-channels", "8,16,16", "--batch-size", "2", "--holdout", "0.34",
                                   "--reward-idm", "", "--no-progress"])
    assert run.exit_code == 0, run.output
    assert "held-out:" in run.output and "PSNR" in run.output and (out / "model" / "model.safetensors").exists()
    assert json.loads((out / "run_config.json").read_text())["kind"] == "autoencoder"
    run = CliRunner().invoke(app, ["train", "vae", "--data", str(blob_videos), "--out", str(tmp_path / "x"),
                                   "--block-channels", "8,a"])
    assert isinstance(run.exception, UserError) and "--block-channels" in str(run.exception)
