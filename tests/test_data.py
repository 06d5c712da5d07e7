"""The HDF5 episode format (ours and RoboTwin's), the collector and the frame-window dataset."""

from __future__ import annotations

import io
import json

import h5py
import numpy as np
import pytest
from PIL import Image

from eva_bench.data.collect import CollectConfig, collect
from eva_bench.data.dataset import FrameWindows, find_episodes, split_by_episode, task_of
from eva_bench.data.episode import (
    CameraFrames,
    Episode,
    EpisodeFile,
    EpisodeFormatError,
    encode_jpeg,
    read_episode,
    write_episode,
)
from eva_bench.errors import UserError
from eva_bench.expert import run_expert
from eva_bench.sim.embodiment import PIPER_BIMANUAL
from eva_bench.sim.env import BimanualEnv
from eva_bench.task import TASKS


def _frames(steps: int, height: int = 24, width: int = 32) -> np.ndarray:
    """Frames whose colour encodes the step: red ramps with t, blue is constant."""
    frames = np.zeros((steps, height, width, 3), np.uint8)
    frames[..., 0] = (np.arange(steps) * 20 + 10)[:, None, None]
    frames[..., 2] = 200
    return frames


def _episode(steps: int = 6) -> Episode:
    frames = _frames(steps)
    vector = np.arange(steps * 14, dtype=np.float32).reshape(steps, 14) / 100
    camera = CameraFrames([encode_jpeg(f) for f in frames], np.zeros((steps, 3, 3)), np.zeros((steps, 3, 4)),
                          np.zeros((steps, 4, 4)))
    pose = np.zeros((steps, 7), np.float32)
    return Episode(vector, {"left_endpose": pose, "right_endpose": pose}, {"head_camera": camera}, {"task": "demo"})


def test_episode_round_trip(tmp_path) -> None:
    path = write_episode(tmp_path / "t" / "data" / "episode0.hdf5", _episode())
    back = read_episode(path)
    np.testing.assert_array_equal(back.vector, _episode().vector)
    assert back.attrs["task"] == "demo"
    decoded = back.cameras["head_camera"].frames()
    assert decoded.shape == (6, 24, 32, 3)
    assert np.abs(decoded.astype(int) - _frames(6).astype(int)).max() < 8  # JPEG loss only
    with h5py.File(path) as f:  # RoboTwin's group layout
        for key in ("joint_action/left_arm", "joint_action/right_gripper", "endpose/left_endpose",
                    "observation/head_camera/intrinsic_cv", "observation/head_camera/cam2world_gl"):
            assert key in f
        assert f["joint_action/left_arm"].shape == (6, 6) and f["observation/head_camera/rgb"].dtype.kind == "S"


def _robotwin_file(path, steps: int = 5) -> None:
    """A file as RoboTwin's collector writes it: RGB arrays encoded by OpenCV (taken as BGR), no attributes."""
    path.parent.mkdir(parents=True)
    jpegs = []
    for frame in _frames(steps):
        buffer = io.BytesIO()
        Image.fromarray(frame[..., ::-1].copy()).save(buffer, format="JPEG", quality=95)  # what cv2 stores
        jpegs.append(buffer.getvalue())
    with h5py.File(path, "w") as f:
        f["joint_action/vector"] = np.zeros((steps, 14))
        f["observation/head_camera/rgb"] = np.array(jpegs, dtype=f"S{max(map(len, jpegs))}")


def test_reads_robotwin_files(tmp_path) -> None:
    path = tmp_path / "data" / "beat_block" / "demo_clean" / "data" / "episode0.hdf5"
    _robotwin_file(path)
    frames = read_episode(path).cameras["head_camera"].frames()
    assert frames[..., 0].mean() < frames[..., 2].mean(), "red and blue come back in RGB order"
    assert task_of(path) == "beat_block"
    data = FrameWindows([path], before=1, after=1)
    sample = data[0]
    assert sample["task"] == "beat_block" and sample["frames"][0, 2].float().mean() > 150  # blue channel
    assert data.frame_size() == (32, 24)


def test_episode_file_reads_the_header_and_frames_on_demand(tmp_path) -> None:
    ours = EpisodeFile(write_episode(tmp_path / "demo" / "data" / "episode0.hdf5", _episode(6)))
    robotwin_path = tmp_path / "beat_block" / "demo_clean" / "data" / "episode0.hdf5"
    _robotwin_file(robotwin_path)
    robotwin = EpisodeFile(robotwin_path)
    assert (len(ours), ours.task, ours.swap_rb, ours.frame_counts) == (6, "demo", False, {"head_camera": 6})
    assert (len(robotwin), robotwin.task, robotwin.swap_rb) == (5, "", True)
    assert ours.frame_size("head_camera") == robotwin.frame_size("head_camera") == (32, 24)
    for episode in (ours, robotwin):  # the colour rule is applied by the handle, whoever wrote the file
        frames = episode.frames("head_camera", [4, 0])
        assert frames.shape == (2, 24, 32, 3)
        assert frames[..., 2].mean() > 150 and frames[0, ..., 0].mean() > frames[1, ..., 0].mean() + 40
        np.testing.assert_array_equal(frames[1], read_episode(episode.path).cameras["head_camera"].frame(0))


def test_layout_errors_name_the_problem(tmp_path) -> None:
    path = tmp_path / "episode0.hdf5"
    with h5py.File(path, "w") as f:
        f["joint_action/vector"] = np.zeros((4, 7))
        f["observation/head_camera/rgb"] = np.array([encode_jpeg(x) for x in _frames(4)])
    with pytest.raises(EpisodeFormatError, match=r"has shape \(4, 7\), expected \(T, 14\)"):
        EpisodeFile(path)
    with h5py.File(path, "w") as f:
        f["joint_action/vector"] = np.zeros((5, 14))
        f["observation/head_camera/rgb"] = np.array([encode_jpeg(x) for x in _frames(4)])
    with pytest.raises(EpisodeFormatError, match="camera head_camera has 4 frames for 5 rows"):
        read_episode(path)
    with pytest.raises(EpisodeFormatError, match="camera head_camera has 4 frames for 5 rows"):
        FrameWindows([path])
    assert len(read_episode(path, cameras=[])) == 5  # the actions alone are still readable
    with h5py.File(path, "w") as f:
        f["joint_action/vector"] = np.zeros((5, 14))
    with pytest.raises(EpisodeFormatError, match="lacks /joint_action/vector or /observation"):
        FrameWindows([path])


def test_bad_files_fail_clearly(tmp_path) -> None:
    junk = tmp_path / "episode0.hdf5"
    junk.write_bytes(b"not hdf5")
    with pytest.raises(EpisodeFormatError, match="not a readable HDF5"):
        read_episode(junk)
    path = write_episode(tmp_path / "episode1.hdf5", _episode())
    with pytest.raises(EpisodeFormatError, match="no camera"):
        read_episode(path, cameras=["left_camera"])
    with pytest.raises(EpisodeFormatError, match=r"has no camera\(s\) \['left_camera'\]; it has \['head_camera'\]"):
        FrameWindows([path], camera="left_camera")
    with pytest.raises(FileNotFoundError, match="no such folder"):
        find_episodes(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no episode file"):
        read_episode(tmp_path / "missing.hdf5")
    with pytest.raises(FileNotFoundError, match="no episode.*hdf5 under"):
        find_episodes(tmp_path, tasks=["nothing_here"])


def test_frame_windows_clamp_and_align(tmp_path) -> None:
    path = write_episode(tmp_path / "demo" / "data" / "episode0.hdf5", _episode(6))
    data = FrameWindows([path], before=2, after=2, action_offsets=(0, 1))
    assert len(data) == 6
    first = data[0]
    assert first["frames"].shape == (5, 3, 24, 32) and first["actions"].shape == (2, 14)
    red = first["frames"][:, 0].float().mean(dim=(1, 2)).numpy()
    assert red[0] == pytest.approx(red[2], abs=3) and red[3] > red[2] + 10  # rows -2, -1 clamp to row 0
    np.testing.assert_array_equal(data[3]["actions"].numpy(), data.actions[0][[3, 4]])
    last = data[5]["actions"].numpy()
    np.testing.assert_array_equal(last[0], last[1])  # row 6 clamps to row 5


def test_split_by_episode_is_reproducible() -> None:
    paths = [f"e{i}" for i in range(10)]
    train, held = split_by_episode(paths, 0.2, seed=3)
    assert len(held) == 2 and not set(train) & set(held) and sorted(train + held) == sorted(paths)
    assert split_by_episode(paths, 0.2, seed=3) == (train, held)


def test_collect_records_the_expert_and_resumes(tmp_path) -> None:
    config = CollectConfig(["click_bell"], tmp_path, episodes=1, cameras=("head_camera",), resolution=(64, 48))
    collect(config)
    first = tmp_path / "click_bell" / "data" / "episode0.hdf5"
    stamp = first.stat().st_mtime_ns
    episode = read_episode(first)
    seed = int(episode.attrs["seed"])
    expert = run_expert("click_bell", seed)
    # Row 0 is the initial state, row t >= 1 the action executed just before frame t.
    np.testing.assert_array_equal(episode.vector[0], PIPER_BIMANUAL.home_action())
    np.testing.assert_array_equal(episode.vector[1:], expert.actions)
    assert episode.cameras["head_camera"].frame(0).shape == (48, 64, 3)
    assert EpisodeFile(first).frame_size("head_camera") == (64, 48)
    task = BimanualEnv().reset(TASKS.get("click_bell"), seed)
    assert episode.attrs["instruction"] == task.episode_instruction(seed, "seen")  # what `run --instructions seen` uses

    config.episodes = 2
    data = collect(config)  # continues: episode 0 is kept as it is, episode 1 is added
    assert first.stat().st_mtime_ns == stamp
    record = data["tasks"]["click_bell"]
    assert [e["episode"] for e in record["episodes"]] == [0, 1]
    assert len(record["seeds"]) == 2 and record["seeds"][0] == seed
    for entry in record["episodes"]:
        for key in ("hdf5", "video", "instructions"):
            assert (tmp_path / entry[key]).is_file()
    instructions = json.loads((tmp_path / record["episodes"][1]["instructions"]).read_text())
    assert len(instructions["seen"]) >= 20 and len(instructions["unseen"]) >= 5
    assert json.loads((tmp_path / "manifest.json").read_text())["resolution"] == [64, 48]

    import fcntl

    with open(tmp_path / ".lock", "w") as lock:  # another collector holds the folder
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(UserError, match="another collection"):
            collect(config)
    with pytest.raises(UserError, match="other settings"):
        collect(CollectConfig(["click_bell"], tmp_path, episodes=2, cameras=("head_camera",), resolution=(32, 24)))
