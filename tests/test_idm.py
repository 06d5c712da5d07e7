"""The inverse dynamics model: shapes, spatial-softmax keypoints, checkpoints, overfitting, resumable training
(on the shared trainer, `eva_bench.training`), the `eva-bench train idm` command."""

from __future__ import annotations

import csv
import json
import sys

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from eva_bench.data.dataset import FrameWindows
from eva_bench.data.episode import CameraFrames, Episode, encode_jpeg, write_episode
from eva_bench.errors import UserError
from eva_bench.idm.model import IDM, CheckpointError, load_idm
from eva_bench.idm.train import TrainConfig, action_metrics, batch_indices, evaluate, train
from eva_bench.sim.embodiment import PIPER_BIMANUAL
from eva_bench.vision import SpatialSoftmax

WIDTH, HEIGHT = 32, 24
# A model small enough to train in seconds on 2 CPU cores.
SMALL = {"stem_channels": 8, "stages": [[16, 1, 1]], "keypoints": 8, "hidden": [64]}


def blob_episode(steps: int, seed: int) -> Episode:
    """Frames with a white 4x4 square on black whose position encodes the action: left j1 = x / W (rad),
    left j2 = y / H, right j1 = -x / W; every other dimension stays at home."""
    rng = np.random.default_rng(seed)
    xs, ys = rng.integers(0, WIDTH - 4, steps), rng.integers(0, HEIGHT - 4, steps)
    frames = np.zeros((steps, HEIGHT, WIDTH, 3), np.uint8)
    vector = np.repeat(PIPER_BIMANUAL.home_action()[None], steps, 0)
    for t, (x, y) in enumerate(zip(xs, ys, strict=True)):
        frames[t, y:y + 4, x:x + 4] = 255
        vector[t, 0], vector[t, 1], vector[t, 7] = (x + 2) / WIDTH, (y + 2) / HEIGHT, -(x + 2) / WIDTH
    camera = CameraFrames([encode_jpeg(f, quality=95) for f in frames], np.zeros((steps, 3, 3)),
                          np.zeros((steps, 3, 4)), np.zeros((steps, 4, 4)))
    pose = np.zeros((steps, 7), np.float32)
    return Episode(vector, {"left_endpose": pose, "right_endpose": pose}, {"head_camera": camera}, {"task": "blob"})


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def blob_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("blobs")
    for i in range(3):
        write_episode(root / "blob" / "data" / f"episode{i}.hdf5", blob_episode(16, i))
    return root


def small_config(data, out, **overrides) -> TrainConfig:
    settings = {"data": str(data), "out": str(out), "context": 1, "resolution": (WIDTH, HEIGHT), "model": SMALL,
                "holdout": 0.0, "batch_size": 16, "lr": 3e-3, "warmup": 5, "shift": 0, "steps": 6, "eval_every": 3,
                "checkpoint_every": 3}
    return TrainConfig(**{**settings, **overrides})


# ---------------------------------------------------------------------------------------------------- model
def test_shapes_of_both_poolings_and_presets() -> None:
    model = IDM.from_preset("tiny")
    frames = torch.randint(0, 256, (2, 5, 3, 96, 128), dtype=torch.uint8)
    assert model(frames).shape == (2, *model.output_shape()) == (2, 14)
    avg = IDM.from_preset("tiny", pooling="avg", context=1)
    assert avg(frames[:, :3]).shape == (2, 14)
    with pytest.raises(ValueError, match=r"expects frames \(B, 5, 3, 96, 128\)"):
        model(frames[..., :64])
    paper = IDM.from_preset("paper", width=64, height=48)  # the paper's layout at a small size
    assert paper(torch.zeros(1, 5, 3, 48, 64, dtype=torch.uint8)).shape == (1, 14)
    assert IDM.from_preset("paper").config["width"] == 640
    with pytest.raises(ValueError, match="unknown IDM preset"):
        IDM.from_preset("huge")


def test_spatial_softmax_of_one_hot_maps() -> None:
    h, w = 6, 9
    layer = SpatialSoftmax(3, keypoints=None)
    features = torch.zeros(1, 3, h, w)
    spots = [(0, 0), (5, 8), (2, 6)]  # (row, column)
    for c, (r, col) in enumerate(spots):
        features[0, c, r, col] = 1e4
    points = layer(features)
    assert points.shape == (1, *layer.output_shape((3, h, w))) == (1, 3, 2)
    expected = torch.tensor([[-1 + 2 * col / (w - 1), -1 + 2 * r / (h - 1)] for r, col in spots])
    torch.testing.assert_close(points[0], expected)
    uniform = layer(torch.zeros(1, 3, h, w))  # a flat map's expected position is the centre
    torch.testing.assert_close(uniform, torch.zeros(1, 3, 2), atol=1e-6, rtol=0)


def test_save_load_round_trip_and_decode_video(tmp_path) -> None:
    torch.manual_seed(0)
    model = IDM(context=1, width=WIDTH, height=HEIGHT, **SMALL)
    model.set_action_stats(np.random.default_rng(0).normal(0, 2, (50, 14)))
    video = np.random.default_rng(1).integers(0, 256, (7, HEIGHT, WIDTH, 3), dtype=np.uint8)
    actions = model.decode_video(video, batch_size=3)
    assert actions.shape == (7, 14) and actions.dtype == np.float32
    windows = torch.from_numpy(video.transpose(0, 3, 1, 2))[torch.tensor([[0, 0, 1], [5, 6, 6]])]
    np.testing.assert_allclose(model.predict(windows), actions[[0, 6]], atol=1e-5)  # clamped at the ends
    model.save(tmp_path / "ckpt")
    loaded = load_idm(tmp_path / "ckpt")
    np.testing.assert_array_equal(loaded.decode_video(video), model.decode_video(video))
    big = np.repeat(np.repeat(video, 2, axis=1), 2, axis=2)  # another size: resized by predict
    assert loaded.decode_video(big).shape == (7, 14)


def test_bad_checkpoints_fail_clearly(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="no idm checkpoint"):
        IDM.load(tmp_path / "nothing")
    model = IDM(context=1, width=WIDTH, height=HEIGHT, **SMALL)
    folder = model.save(tmp_path / "ckpt").folder
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # truncated
    with pytest.raises(CheckpointError, match="corrupt|modified after it was written"):
        IDM.load(folder)
    weights.write_bytes(b"garbage" * 10)
    with pytest.raises(CheckpointError, match="corrupt|modified after it was written"):
        IDM.load(folder)
    model.save(folder)
    other = IDM(context=2, width=WIDTH, height=HEIGHT, **SMALL)
    with pytest.raises(CheckpointError, match="another config"):
        other.load_weights(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt"):
        IDM.load(folder)


# ---------------------------------------------------------------------------------------------------- training
def test_metrics_follow_the_paper_definition() -> None:
    target = np.zeros((2, 14))
    predicted = target.copy()
    predicted[0, :7] = 0.04  # within 0.05
    predicted[1, :7] = 0.06  # outside
    m = action_metrics(predicted, target)
    assert m["accuracy"] == pytest.approx(1 - 7 / 28)
    assert m["mae"][0] == pytest.approx(0.05) and m["mae"][13] == 0.0


def test_fine_metrics_see_what_the_paper_accuracy_cannot() -> None:
    target = np.repeat(PIPER_BIMANUAL.home_action()[None].astype(np.float64), 4, 0)
    predicted = target.copy()
    predicted[:, 1] += 0.02  # left shoulder off by 0.02 rad: "accurate" at +-0.05, a missed grasp in the sim
    m = action_metrics(predicted, target)
    assert m["accuracy"] == 1.0
    assert m["joint_accuracy_0.01"] == pytest.approx(11 / 12)
    assert 0.5 < m["tip_error_cm"] * 2 < 2.0  # the left TCP (one of two arms) moves ~1 cm per 0.02 rad at ~0.5 m
    assert action_metrics(target, target)["tip_error_cm"] == 0.0


def test_batches_cover_every_sample_once_per_epoch() -> None:
    seen = np.concatenate([batch_indices(s, 4, 12, seed=0) for s in range(3)])
    assert sorted(seen) == list(range(12))
    assert not np.array_equal(batch_indices(0, 4, 12, 0), batch_indices(0, 4, 12, 1))


def test_tiny_model_overfits_tiny_dataset(blob_data, tmp_path) -> None:
    config = small_config(blob_data, tmp_path / "run", steps=100, eval_every=100, checkpoint_every=100)
    result = train(config, progress=False)
    model = load_idm(result.out)
    paths = sorted(blob_data.rglob("*.hdf5"))
    metrics = evaluate(model, paths)
    assert metrics["samples"] == 48
    assert metrics["accuracy"] > 0.97, metrics
    assert max(metrics["mae"][i] for i in (0, 1, 7)) < 0.03, metrics["mae"]
    untrained = config.build_model()
    untrained.set_action_stats(FrameWindows(paths).all_actions())
    assert evaluate(untrained, paths)["mae_mean"] > 3 * metrics["mae_mean"]


def test_a_run_can_start_from_another_idms_weights(blob_data, tmp_path) -> None:
    trained = train(small_config(blob_data, tmp_path / "base", steps=100, eval_every=100, checkpoint_every=100),
                    progress=False)
    base = load_idm(trained.out)
    # zero steps of fine-tuning are impossible; one step at a tiny rate keeps what the base model knows
    tuned = train(small_config(blob_data, tmp_path / "tuned", steps=1, lr=1e-8, init=str(trained.out)),
                  progress=False)
    paths = sorted(blob_data.rglob("*.hdf5"))
    def moving_mae(run) -> float:  # the three dimensions the blobs move
        return max(evaluate(load_idm(run.out), paths)["mae"][i] for i in (0, 1, 7))

    assert moving_mae(tuned) < 0.03 and moving_mae(tuned) == pytest.approx(moving_mae(trained), abs=1e-3)
    torch.testing.assert_close(load_idm(tuned.out).action_std, base.action_std)
    scratch = train(small_config(blob_data, tmp_path / "scratch", steps=1, lr=1e-8), progress=False)
    assert moving_mae(scratch) > 3 * moving_mae(tuned)
    with pytest.raises(UserError, match="--init: .*another config"):
        train(small_config(blob_data, tmp_path / "other", steps=1, context=2, init=str(trained.out)), progress=False)


def log_rows(run) -> list[dict]:
    """log.csv of a run folder without its wall-clock columns."""
    with (run / "log.csv").open() as f:
        return [{k: v for k, v in r.items() if k not in ("time", "samples_per_s")} for r in csv.DictReader(f)]


def test_training_resumes_from_its_checkpoint(blob_data, tmp_path) -> None:
    straight = train(small_config(blob_data, tmp_path / "a", shift=2), progress=False)
    config = small_config(blob_data, tmp_path / "b", shift=2)
    first = train(config, progress=False, stop_after=3)  # as if killed after the checkpoint at step 3
    assert first.step == 3 and not (tmp_path / "b" / "metrics.json").exists()
    with (tmp_path / "b" / "log.csv").open("a") as f:  # a row written after the checkpoint, before the kill
        f.write("5,0,0.001,9.9,,,,,\n")
    second = train(config, progress=False)
    assert second.step == 6
    a, b = load_idm(straight.out), load_idm(second.out)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name  # bit-identical
    assert [r["step"] for r in log_rows(tmp_path / "b")] == ["3", "6"]
    assert log_rows(tmp_path / "b") == log_rows(tmp_path / "a")
    fresh = small_config(blob_data, tmp_path / "c", shift=2)
    three = train(fresh, progress=False, stop_after=3)
    assert not torch.equal(load_idm(three.out).head[-1].weight, b.head[-1].weight), "6 steps differ from 3"
    with pytest.raises(UserError, match=r"another config: lr \(saved 0.003, now 0.01\)"):
        train(small_config(blob_data, tmp_path / "b", lr=1e-2, shift=2), progress=False)
    longer = train(small_config(blob_data, tmp_path / "b", steps=9, eval_every=4, shift=2), progress=False)
    assert longer.step == 9 and [r["step"] for r in log_rows(tmp_path / "b")] == ["3", "6", "8", "9"]


def test_checkpoint_provenance_and_run_folder(blob_data, tmp_path) -> None:
    config = small_config(blob_data, tmp_path / "run", steps=3, holdout=0.34, resolution=(16, 12))
    result = train(config, progress=False)
    manifest = json.loads((result.out / "model" / "checkpoint.json").read_text())
    data = manifest["provenance"]["data"]
    assert data["resolution"] == [WIDTH, HEIGHT]  # as stored, not the model's 16x12 input
    assert (data["train_episodes"], data["held_out_episodes"], data["camera"]) == (2, 1, "head_camera")
    assert data["tasks"] == ["blob"] and data["folder"] == str(blob_data)
    metrics = json.loads((result.out / "metrics.json").read_text())
    assert data["held_out"] == metrics["episodes"] and len(metrics["episodes"]) == 1
    assert metrics["samples"] == result.metrics["samples"] == 16
    assert load_idm(result.out).config["width"] == 16
    assert json.loads((result.out / "run_config.json").read_text())["settings"]["resolution"] == [16, 12]
    from eva_bench.checkpoint import read_checkpoint
    from eva_bench.idm.scoring import idm_source

    source = idm_source(read_checkpoint(result.out, "idm"))  # the reward video is rendered at the source
    assert (source.camera, source.resolution) == ("head_camera", (WIDTH, HEIGHT))


def test_the_idm_records_its_view_and_the_reward_flags_another(blob_data, tmp_path) -> None:
    from eva_bench.checkpoint import read_checkpoint
    from eva_bench.idm.scoring import RewardScorer, trained_view
    from eva_bench.sim.cameras import view_digest

    # Episodes of unknown provenance (no embodiment digest): the view is not recorded, the reward warns.
    unknown = train(small_config(blob_data, tmp_path / "unknown", steps=1), progress=False)
    assert trained_view(read_checkpoint(unknown.out, "idm")) == ""
    assert not RewardScorer.load(unknown.out).view_matches
    # Episodes collected on this embodiment: the IDM records this layout's view and the reward accepts it.
    tagged = tmp_path / "tagged"
    for i in range(2):
        episode = blob_episode(16, i)
        episode.attrs["embodiment"] = PIPER_BIMANUAL.digest()
        write_episode(tagged / "blob" / "data" / f"episode{i}.hdf5", episode)
    known = train(small_config(tagged, tmp_path / "known", steps=1), progress=False)
    assert trained_view(read_checkpoint(known.out, "idm")) == view_digest("head_camera")
    assert RewardScorer.load(known.out).view_matches


def test_old_run_folders_are_refused(blob_data, tmp_path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "train_state.safetensors").write_bytes(b"x")
    with pytest.raises(UserError, match="eva-bench 0.3"):
        train(small_config(blob_data, tmp_path / "old"), progress=False)


def test_train_command(blob_data, tmp_path) -> None:
    from eva_bench.cli import app

    out = tmp_path / "cli"
    run = CliRunner().invoke(app, ["train", "idm", "--data", str(blob_data), "--out", str(out), "--steps", "2",
                                   "--resolution", f"{WIDTH * 2}x{HEIGHT * 2}", "--context", "0",
                                   "--holdout", "0.34", "--batch-size", "4", "--grad-accum", "2",
                                   "--no-tensorboard", "--no-progress"])
    assert run.exit_code == 0, run.output
    assert "held-out: 16 samples" in run.output and (out / "model" / "model.safetensors").exists()
    settings = json.loads((out / "run_config.json").read_text())["settings"]
    assert (settings["grad_accum"], settings["mixed_precision"], settings["tensorboard"]) == (2, "no", False)
    run = CliRunner().invoke(app, ["reward", "calibrate", "--data", str(blob_data), "--out", str(tmp_path / "r.json"),
                                   "--checkpoint", str(out)])
    assert run.exit_code == 0, run.output
    assert "3 sequences (IDM" in run.output and (tmp_path / "r.json").exists()


def test_train_command_without_data_prints_one_error_line(tmp_path, monkeypatch, capsys) -> None:
    from eva_bench.cli import main

    missing = tmp_path / "nothing"
    monkeypatch.setattr(sys, "argv", ["eva-bench", "train", "idm", "--data", str(missing), "--out",
                                      str(tmp_path / "out"), "--no-progress"])
    with pytest.raises(SystemExit, match="2"):
        main()
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --data: no such folder"), err
    assert str(missing) in lines[0] and not (tmp_path / "out").exists()


def test_data_without_episodes_is_a_user_error(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="--data: no episode"):
        train(small_config(tmp_path / "empty", tmp_path / "out"), progress=False)
