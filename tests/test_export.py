"""`eva-bench export robotwin`: RoboTwin's layout, its colour order (what OpenCV decodes is RGB), everything else
copied, and our reader reads the export back to the same frames."""

from __future__ import annotations

import h5py
import numpy as np
from test_idm import blob_episode
from typer.testing import CliRunner

from eva_bench.cli import app
from eva_bench.data.episode import JPEG_QUALITY, CameraFrames, EpisodeFile, decode_jpeg, encode_jpeg, write_episode


def _coloured_episode(seed: int):
    """A blob episode whose frames are red on the left half and blue on the right (a swap shows)."""
    episode = blob_episode(6, seed)
    frame = np.zeros((24, 32, 3), np.uint8)
    frame[:, :16, 0], frame[:, 16:, 2], frame[:, :, 1] = 220, 180, 40
    cam = episode.cameras["head_camera"]
    episode.cameras["head_camera"] = CameraFrames([encode_jpeg(frame, 95)] * 6, cam.intrinsic_cv, cam.extrinsic_cv,
                                                  cam.cam2world_gl)
    return episode, frame


def test_export_robotwin_writes_robotwins_layout_and_colour_order(tmp_path) -> None:
    data = tmp_path / "demos"
    for i in (0, 1, 10):  # numbered, not sorted by name: 0, 1, 10 -> episode0, 1, 2
        episode, frame = _coloured_episode(i)
        write_episode(data / "blob" / "data" / f"episode{i}.hdf5", episode)
    (data / "blob" / "instructions").mkdir()
    (data / "blob" / "instructions" / "episode10.json").write_text('{"seen": ["go"], "unseen": []}')
    run = CliRunner().invoke(app, ["export", "robotwin", "--data", str(data), "--out", str(tmp_path / "rt"),
                                   "--no-progress"])
    assert run.exit_code == 0, run.output
    root = tmp_path / "rt" / "blob" / "demo_clean"
    assert sorted(p.name for p in (root / "data").iterdir()) == ["episode0.hdf5", "episode1.hdf5", "episode2.hdf5"]
    assert (root / "instructions" / "episode2.json").read_text() == '{"seen": ["go"], "unseen": []}'
    exported = root / "data" / "episode2.hdf5"
    with h5py.File(exported, "r") as f:
        assert "jpeg_channels" not in f.attrs and f.attrs["task"] == "blob"
        raw = bytes(f["observation/head_camera/rgb"][0])
        np.testing.assert_array_equal(f["joint_action/vector"][()], blob_episode(6, 10).vector)
        assert f["observation/head_camera/intrinsic_cv"].shape == (6, 3, 3)
    # OpenCV's decoder returns the stored colours in BGR order: the reverse of a standard decode, RGB here (up
    # to the loss of a second JPEG encoding, mostly at the colour edge)
    opencv_view = decode_jpeg(raw)[..., ::-1].astype(int)
    assert np.abs(opencv_view - frame).mean() < 6 and np.abs(decode_jpeg(raw).astype(int) - frame).mean() > 50
    ours = EpisodeFile(exported)
    assert ours.swap_rb and np.abs(ours.frames("head_camera", [0])[0].astype(int) - frame).mean() < 6


def test_export_refuses_an_output_inside_the_data_and_a_missing_folder(tmp_path) -> None:
    write_episode(tmp_path / "demos" / "blob" / "data" / "episode0.hdf5", blob_episode(4, 0))
    inside = CliRunner().invoke(app, ["export", "robotwin", "--data", str(tmp_path / "demos"), "--out",
                                      str(tmp_path / "demos" / "rt"), "--no-progress"])
    assert inside.exit_code != 0 and "must not be inside" in str(inside.exception or inside.output)
    missing = CliRunner().invoke(app, ["export", "robotwin", "--data", str(tmp_path / "none"), "--out",
                                       str(tmp_path / "rt")])
    assert missing.exit_code != 0 and "no such folder" in str(missing.exception or missing.output)


def test_export_reconstructed_passes_the_camera_through_the_autoencoder(tmp_path) -> None:
    import torch

    from eva_bench.world_model.autoencoder import FrameAutoencoder

    data = tmp_path / "demos"
    for i in (0, 1):
        write_episode(data / "blob" / "data" / f"episode{i}.hdf5", blob_episode(6, i))
    (data / "blob" / "instructions").mkdir()
    (data / "blob" / "instructions" / "episode1.json").write_text('{"seen": ["go"], "unseen": []}')
    torch.manual_seed(0)
    model = FrameAutoencoder(width=32, height=24, block_channels=[8, 8])
    model.save(tmp_path / "ae")
    out = tmp_path / "coded"
    run = CliRunner().invoke(app, ["export", "reconstructed", "--data", str(data), "--autoencoder",
                                   str(tmp_path / "ae"), "--out", str(out), "--no-progress"])
    assert run.exit_code == 0, run.output
    source, coded = EpisodeFile(data / "blob" / "data" / "episode1.hdf5"), EpisodeFile(
        out / "blob" / "data" / "episode1.hdf5")
    np.testing.assert_array_equal(coded.vector, source.vector)
    real = source.frames("head_camera", range(6))
    expected = model.eval().round_trip(real)
    got = coded.frames("head_camera", range(6))
    jpeg = np.stack([decode_jpeg(encode_jpeg(frame, JPEG_QUALITY)) for frame in expected])
    np.testing.assert_array_equal(got, jpeg)  # the round trip, JPEG-encoded as our files store frames
    assert np.abs(got.astype(int) - real).mean() > 10  # an untrained autoencoder changes the frames
    assert (out / "blob" / "instructions" / "episode1.json").is_file()
    assert "autoencoder_digest" in (out / "reconstructed.json").read_text()
    written = (out / "blob" / "data" / "episode0.hdf5").stat().st_mtime_ns
    again = CliRunner().invoke(app, ["export", "reconstructed", "--data", str(data), "--autoencoder",
                                     str(tmp_path / "ae"), "--out", str(out), "--no-progress"])
    assert again.exit_code == 0 and (out / "blob" / "data" / "episode0.hdf5").stat().st_mtime_ns == written
    FrameAutoencoder(width=64, height=48, block_channels=[8, 8]).save(tmp_path / "ae64")
    wrong = CliRunner().invoke(app, ["export", "reconstructed", "--data", str(data), "--autoencoder",
                                     str(tmp_path / "ae64"), "--out", str(tmp_path / "o2"), "--no-progress"])
    assert wrong.exit_code != 0 and "the autoencoder codes 64x48" in str(wrong.exception or wrong.output)
