"""The world-model pipeline and the `eva-norl` policy (untrained tiny models: the plumbing, not the quality)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eva_bench.checkpoint import CheckpointError
from eva_bench.errors import UserError
from eva_bench.policy import check_chunk, make_policy
from eva_bench.sim.embodiment import PIPER_BIMANUAL
from eva_bench.world_model.autoencoder import FrameAutoencoder
from eva_bench.world_model.image_metrics import masked_psnr, psnr, ssim
from eva_bench.world_model.pipeline import WorldModelPipeline

pytestmark = pytest.mark.usefixtures("one_torch_thread")
def _obs(rng, vector=None) -> dict:
    frame = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    vector = np.zeros(14, np.float32) if vector is None else vector
    return {"observation": {"head_camera": {"rgb": frame}}, "joint_action": {"vector": vector}}


def test_imagining_is_deterministic_given_the_seed_and_uses_the_history(tiny_world_model) -> None:
    pipeline = WorldModelPipeline.load(tiny_world_model / "wm")
    rng = np.random.default_rng(0)
    history = rng.integers(0, 256, (4, 120, 160, 3), dtype=np.uint8)
    frames = pipeline.imagine(history, "click the bell", seed=3, steps=2)
    assert frames.shape == (8, 120, 160, 3) and frames.dtype == np.uint8
    np.testing.assert_array_equal(pipeline.imagine(history, "click the bell", seed=3, steps=2), frames)
    assert not np.array_equal(pipeline.imagine(history, "click the bell", seed=4, steps=2), frames)
    assert not np.array_equal(pipeline.imagine(history[::-1], "click the bell", seed=3, steps=2), frames)
    with pytest.raises(ValueError, match=r"frames must be \(T >= 1, 120, 160, 3\)"):
        pipeline.imagine(history[:, :60], "click the bell", seed=3)


def test_the_autoencoder_must_be_the_one_the_world_model_was_trained_with(tiny_world_model, tmp_path) -> None:
    FrameAutoencoder(block_channels=[8, 8, 8, 8]).save(tmp_path / "other")
    with pytest.raises(CheckpointError, match="not the one the world model"):
        WorldModelPipeline.load(tiny_world_model / "wm", tmp_path / "other")
    with pytest.raises(CheckpointError, match="no autoencoder checkpoint there"):
        WorldModelPipeline.load(tiny_world_model / "wm", tmp_path / "missing")


def test_the_robot_pixel_gap_compares_imagined_and_executed_frames_where_the_robot_is(tiny_world_model) -> None:
    policy = make_policy("eva-norl", checkpoint=str(tiny_world_model / "wm"),
                         options={"sample_steps": 2, "execute_steps": 5})
    assert policy.robot_mask_cameras == ("head_camera",)
    rng = np.random.default_rng(2)
    first = _obs(rng)
    policy.reset("click_bell", "click the bell", seed=3)
    policy.act(first)
    executed, masks = [], []
    for _ in range(5):
        obs = _obs(rng)
        mask = np.zeros((120, 160), bool)
        mask[20:60, 30:90] = True
        obs["observation"]["head_camera"]["robot_mask"] = mask
        policy.observe(obs)
        executed.append(obs["observation"]["head_camera"]["rgb"])
        masks.append(mask)
    metrics = policy.episode_metrics()
    imagined = np.stack(policy.episode_videos()["imagined"][1:])
    expected = masked_psnr(imagined, np.stack(executed), np.stack(masks))
    assert metrics["gap_robot_psnr_db"] == pytest.approx(expected)
    assert metrics["gap_robot_psnr_db"] != pytest.approx(metrics["gap_psnr_db"])


def test_eva_norl_returns_valid_deterministic_chunks_and_measures_the_gap(tiny_world_model) -> None:
    options = {"sample_steps": 2, "execute_steps": 6}
    policy = make_policy("eva-norl", checkpoint=str(tiny_world_model / "wm"), options=options)
    assert policy.camera_requests() == {"head_camera": (160, 120)} and policy.execute_steps == 6
    rng = np.random.default_rng(1)
    first = _obs(rng)
    policy.reset("click_bell", "click the bell", seed=7)
    chunk = check_chunk(policy.act(first), policy.name)
    assert chunk.shape == (6, 14)
    low, high = PIPER_BIMANUAL.action_lower(), PIPER_BIMANUAL.action_upper()
    assert np.all(chunk >= low - 1e-6) and np.all(chunk <= high + 1e-6)
    grippers = chunk[:, [6, 13]]
    assert set(np.unique(grippers)) <= {0.0, 1.0}  # binary grippers by default
    executed = [_obs(rng) for _ in range(6)]
    for obs in executed:
        policy.observe(obs)
    second = policy.act(executed[-1])
    metrics = policy.episode_metrics()  # the second segment has executed nothing yet: one gap
    assert metrics["segments"] == 1 and np.isfinite(metrics["gap_psnr_db"]) and -1 <= metrics["gap_ssim"] <= 1
    assert metrics["gap_robot_psnr_db"] is None  # observations without robot masks
    # the reward GRPO optimises and the hacking detectors, of the executed segment's own decoding
    assert 0 <= metrics["imagined_reward"] <= 1 and metrics["motion"] >= 0
    assert 0 <= metrics["static_share"] <= 1 and 0 <= metrics["gripper_out_of_range"] <= 1
    assert metrics["frozen_grippers"] in (0, 1, 2)
    assert len(policy.episode_videos()["imagined"]) == 1 + 6  # frame-aligned with the executed video

    again = make_policy("eva-norl", checkpoint=str(tiny_world_model / "wm"), options=options)
    again.reset("click_bell", "click the bell", seed=7)
    np.testing.assert_array_equal(again.act(first), chunk)
    for obs in executed:
        again.observe(obs)
    np.testing.assert_array_equal(again.act(executed[-1]), second)
    again.reset("click_bell", "click the bell", seed=8)
    again.act(first)
    assert not np.array_equal(again.imagined[0], policy.episode_videos()["imagined"][1])


def test_eva_norl_without_a_world_model_says_how_to_get_one(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EVA_BENCH_WM", str(tmp_path / "none"))
    with pytest.raises(UserError, match="no checkpoint at .*none; it needs a world model .*eva-bench train wm"):
        make_policy("eva-norl")
    with pytest.raises(Exception, match="history_latents"):
        make_policy("eva-norl", options={"history_latents": 0})


def test_psnr_and_ssim_agree_on_identity_and_fall_with_noise() -> None:
    rng = np.random.default_rng(0)
    ramp = np.linspace(40, 200, 32)[None, None, :, None] + np.linspace(0, 30, 24)[None, :, None, None]
    a = np.broadcast_to(ramp, (2, 24, 32, 3)).astype(np.uint8)  # a smooth image: noise is its only structure
    noisy = np.clip(a + rng.normal(0, 20, a.shape), 0, 255).astype(np.uint8)
    assert psnr(a, a) == float("inf") and ssim(a, a) == pytest.approx(1.0)
    assert 10 < psnr(noisy, a) < 30 and ssim(noisy, a) < 0.9
    assert ssim(rng.integers(0, 256, a.shape, dtype=np.uint8), a) < 0.1
    with pytest.raises(ValueError, match="one shape"):
        ssim(a, a[:, :10])
    # masked: only the selected pixels count
    mask = np.zeros(a.shape[:-1], bool)
    mask[:, :12] = True
    half = a.copy()
    half[~mask] = noisy[~mask]
    assert masked_psnr(half, a, mask) == float("inf") and masked_psnr(half, a, ~mask) == pytest.approx(
        psnr(noisy[~mask], a[~mask]))
    assert np.isnan(masked_psnr(half, a, np.zeros_like(mask)))
    with pytest.raises(ValueError, match="mask must be"):
        masked_psnr(a, a, mask[0])


def test_imagine_writes_video_joints_and_metrics_per_task_and_a_contact_sheet(tiny_world_model, tmp_path) -> None:
    from typer.testing import CliRunner

    from eva_bench.cli import app
    from eva_bench.video import read_mp4

    out = tmp_path / "imagined"
    args = ["imagine", "--tasks", "click_bell,press_stapler", "--checkpoint", str(tiny_world_model / "wm"),
            "--segments", "2", "--steps", "1", "--out", str(out)]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    result = json.loads((out / "click_bell_seed100000.json").read_text())
    assert result["segments"] == 2 and len(result["psnr_db"]) == len(result["ssim"]) == 2
    assert 0 <= result["reward_real"] <= 1 and 0 <= result["reward_imagined"] <= 1
    video = read_mp4(out / "click_bell_seed100000.mp4")
    assert video.shape[1:] == (120, 320, 3) and len(video) == 1 + 2 * 8  # imagined | real, 2 segments of 8
    assert (out / "click_bell_seed100000_joints.png").stat().st_size > 10_000 and (out / "contact_sheet.png").exists()
    assert "PSNR per segment" in run.output


def test_bench_wm_reports_each_cost() -> None:
    from typer.testing import CliRunner

    from eva_bench.cli import app

    run = CliRunner().invoke(app, ["bench", "wm", "--batch-size", "1", "--sample-steps", "1"])
    assert run.exit_code == 0, run.output
    values = {line[:52].strip(): line[52:].strip() for line in run.output.splitlines()}
    assert float(values["SFT step s (batch 1, 1 + 4 latents)"]) > 0
    assert float(values["eva-norl s per segment (imagine + decode)"]) >= float(
        values["imagine s per 16-frame segment (1 ODE steps)"])
    bad = CliRunner().invoke(app, ["bench", "wm", "--preset", "huge"])
    assert bad.exit_code != 0 and "unknown preset" in bad.output


def test_eva_runs_the_adapter_and_best_of_n_executes_the_highest_reward(tiny_world_model) -> None:
    from eva_bench.idm.reward import executability

    rng = np.random.default_rng(2)
    first = _obs(rng)
    chunks = {}
    for name, folder in (("eva-norl", "wm"), ("eva", "eva")):
        policy = make_policy(name, checkpoint=str(tiny_world_model / folder), options={"sample_steps": 2})
        policy.reset("click_bell", "click the bell", seed=7)
        policy.act(first)
        chunks[name] = np.stack(policy.imagined)
    assert not np.array_equal(chunks["eva"], chunks["eva-norl"])  # the adapter changes what is imagined

    policy = make_policy("eva-norl", checkpoint=str(tiny_world_model / "wm"), options={"sample_steps": 2,
                                                                                       "best_of": 3})
    policy.reset("click_bell", "click the bell", seed=7)
    policy.act(first)
    history = np.repeat(first["observation"]["head_camera"]["rgb"][None], 1, 0)
    rewards = []
    for candidate in range(3):
        frames = policy.pipeline.imagine(history, "click the bell", seed=7 * 10_007 * 3 + candidate, steps=2)
        decoded = policy.scorer.decode(np.concatenate([history, frames]))
        rewards.append((executability(decoded, policy.scorer.config).reward, frames))
    best = max(rewards, key=lambda r: r[0])[1]
    np.testing.assert_array_equal(np.stack(policy.imagined), best)
    assert len({round(r, 9) for r, _ in rewards}) == 3  # the candidates differ
