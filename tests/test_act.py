"""ACT: the model learns a fixed batch and reloads exactly, training on the shared trainer, temporal aggregation,
the policy's checkpoint layouts, and a run in the simulator that queries it every step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from eva_bench.policies.act.config import ACTTrainConfig
from eva_bench.policies.act.model import ACT
from test_idm import blob_episode
from typer.testing import CliRunner

from eva_bench.cli import app
from eva_bench.data.episode import write_episode
from eva_bench.errors import UserError
from eva_bench.policy import make_policy
from eva_bench.store import ResultsStore
from eva_bench.vision import ResNet18

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SMALL = {"width": 32, "height": 24, "chunk": 6, "hidden": 32, "ff": 64, "heads": 2, "enc_layers": 1,
         "vae_layers": 1, "latent_dim": 4, "stem_channels": 8, "stages": [[16, 1, 2], [16, 1, 2], [16, 1, 2]],
         "dropout": 0.0}


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    root = tmp_path_factory.mktemp("act_blobs")
    for i in range(4):
        write_episode(root / "blob" / "data" / f"episode{i}.hdf5", blob_episode(24, i))
    return root


def _batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    images = torch.from_numpy(rng.integers(0, 256, (4, 1, 3, 24, 32), dtype=np.uint8))
    state = torch.from_numpy(rng.normal(0, 1, (4, 14)).astype(np.float32))
    actions = torch.from_numpy(rng.normal(0, 1, (4, 6, 14)).astype(np.float32))
    is_pad = torch.zeros(4, 6, dtype=torch.bool)
    is_pad[0, 4:] = True
    return images, state, actions, is_pad


def test_act_fits_a_fixed_batch_and_a_saved_model_predicts_the_same(tmp_path) -> None:
    torch.manual_seed(0)
    model = ACT(**SMALL)
    images, state, actions, is_pad = _batch()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss, parts = model.loss(images, state, actions, is_pad, kl_weight=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(parts["l1"])
    assert losses[-1] < 0.5 * losses[0], losses[::10]
    model.save(tmp_path / "act", provenance={"data": {"tasks": ["blob"]}})
    again = ACT.load(tmp_path / "act")
    frames = np.random.default_rng(1).integers(0, 256, (1, 48, 64, 3), dtype=np.uint8)  # resized to 32x24
    np.testing.assert_array_equal(model.predict(frames, np.zeros(14)), again.predict(frames, np.zeros(14)))
    assert model.predict(frames, np.zeros(14)).shape == (6, 14)


def test_padding_past_the_episode_end_is_not_learned() -> None:
    torch.manual_seed(0)
    model = ACT(**SMALL)
    images, state, actions, is_pad = _batch()
    changed = actions.clone()
    changed[0, 4:] += 100.0  # only padded rows
    losses = []
    for target in (actions, changed):
        torch.manual_seed(1)  # the same posterior sample
        losses.append(model.loss(images, state, target, is_pad, kl_weight=1.0)[0])
    # the padded rows enter the CVAE encoder masked, and the L1 ignores them
    assert torch.allclose(losses[0], losses[1])


def test_resnet18_has_torchvision_names_and_loads_such_a_state_dict(tmp_path) -> None:
    net = ResNet18("frozen_bn")
    weights = {k: v for k, v in net.state_dict().items() if not k.endswith(("running_mean", "running_var"))}
    # torchvision's resnet18 has 11,689,512 parameters, 513,000 of them in fc; its state dict 122 keys, of
    # which 20 num_batches_tracked and 2 fc
    assert sum(v.numel() for v in weights.values()) == 11_176_512 and len(net.state_dict()) == 100
    state = {k: v.clone() for k, v in ResNet18("frozen_bn").state_dict().items()}
    state["fc.weight"], state["layer1.0.bn1.num_batches_tracked"] = torch.zeros(1000, 512), torch.tensor(0)
    torch.save(state, tmp_path / "resnet18.pth")
    from eva_bench.vision import load_torchvision_weights

    load_torchvision_weights(net, tmp_path / "resnet18.pth")
    torch.save({"conv9.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="not a torchvision ResNet-18"):
        load_torchvision_weights(net, tmp_path / "bad.pth")


def test_train_act_command_trains_one_task_and_refuses_several(blobs, tmp_path) -> None:
    from eva_bench.policies.act.train import train_act

    out = tmp_path / "run"
    args = ["train", "act", "--data", str(blobs), "--out", str(out), "--steps", "40", "--batch-size", "4",
            "--lr", "3e-3", "--warmup", "2", "--eval-every", "20", "--checkpoint-every", "20", "--chunk", "6",
            "--holdout", "0.25", "--no-progress", "--kl-weight", "0.1"]
    config = ACTTrainConfig(data=str(blobs), out=str(out), steps=40, batch_size=4, lr=3e-3, warmup=2,
                            eval_every=20, checkpoint_every=20, holdout=0.25, kl_weight=0.1,
                            model={**SMALL, "chunk": 6})
    result = train_act(config, progress=False)
    rows = (out / "log.csv").read_text().splitlines()
    first, last = (dict(zip(rows[0].split(","), r.split(","), strict=True)) for r in (rows[1], rows[-1]))
    assert float(last["train_loss"]) < float(first["train_loss"])
    assert result.metrics["val_first_mae"] < 1.0 and result.metrics["samples"] == 24
    policy = make_policy("act", checkpoint=str(out))
    assert policy.camera_requests() == {"head_camera": (32, 24)} and policy.execute_steps == 1
    with pytest.raises(UserError, match="trained on blob, not on click_bell"):
        policy.reset("click_bell", "x", 0)

    other = blob_episode(24, 9)
    other.attrs["task"] = "other"
    write_episode(blobs / "other" / "data" / "episode0.hdf5", other)
    try:
        refused = CliRunner().invoke(app, [*args[:5], str(tmp_path / "multi"), *args[6:]])
        assert refused.exit_code != 0 and "unless --multi-task" in str(refused.exception or refused.output)
        multi = CliRunner().invoke(app, [*args[:5], str(tmp_path / "multi"), *args[6:], "--multi-task",
                                         "--steps", "2", "--preset", "tiny"])
        # the tiny preset's 128x96 micro net on 32x24 frames (resized): a real, untuned multi-task run
        assert multi.exit_code == 0, multi.output
        assert ACT.load(tmp_path / "multi").config["tasks"] == ["blob", "other"]
    finally:
        (blobs / "other" / "data" / "episode0.hdf5").unlink()


class _Scripted:
    """Stands in for an ACT whose chunk at query q is 0.1 q + 0.01 i for its i-th action (all 14 dims)."""

    config = {"chunk": 3}

    def __init__(self) -> None:
        self.queries = 0

    def predict(self, images, state, task):
        chunk = np.full((3, 14), 0.1 * self.queries, np.float32) + 0.01 * np.arange(3, dtype=np.float32)[:, None]
        self.queries += 1
        return chunk


def test_temporal_aggregation_weights_the_oldest_prediction_most(tmp_path) -> None:
    ACT(**{**SMALL, "chunk": 3}).save(tmp_path / "m", provenance={"data": {"tasks": ["blob"]}})
    policy = make_policy("act", checkpoint=str(tmp_path / "m"))
    policy.reset("blob", "x", 0)
    policy.model = _Scripted()
    obs = {"observation": {"head_camera": {"rgb": np.zeros((24, 32, 3), np.uint8)}},
           "joint_action": {"vector": np.zeros(14, np.float32)}}
    w = np.exp(-0.01 * np.arange(3))
    actions = [policy.act(obs)[0, 0] for _ in range(4)]
    assert actions[0] == pytest.approx(0.0)
    assert actions[1] == pytest.approx((w[0] * 0.01 + w[1] * 0.1) / w[:2].sum(), abs=1e-6)
    expected = (w[0] * 0.02 + w[1] * 0.11 + w[2] * 0.2) / w.sum()
    assert actions[2] == pytest.approx(expected, abs=1e-6)
    # at step 3 the chunk of query 0 no longer covers the step
    assert actions[3] == pytest.approx((w[0] * 0.12 + w[1] * 0.21 + w[2] * 0.3) / w.sum(), abs=1e-6)
    plain = make_policy("act", checkpoint=str(tmp_path / "m"), options={"temporal_agg": False, "execute_steps": 2})
    assert plain.execute_steps == 2


def test_per_task_folders_and_an_act_run_in_the_simulator(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("EVA_BENCH_ACT", raising=False)
    torch.manual_seed(0)
    ACT(**{**SMALL, "chunk": 4}).save(tmp_path / "act" / "_test_pulse", provenance={"data": {"tasks": ["_test_pulse"]}})
    with pytest.raises(UserError, match="no checkpoint at"):
        make_policy("act", checkpoint=str(tmp_path / "none"))
    with pytest.raises(UserError, match="needs --checkpoint"):
        make_policy("act")
    episode = play_one_episode("act", tmp_path / "act", tmp_path)
    assert len(np.load(episode.actions_path)["actions"]) == episode.steps


def test_bench_act_reports_the_step_and_the_query() -> None:
    run = CliRunner().invoke(app, ["bench", "act"])
    assert run.exit_code == 0, run.output
    rows = {line[:40].strip(): line[40:].strip() for line in run.output.splitlines() if line.strip()}
    assert "4,606,150 parameters" in rows["ACT"]
    assert float(rows["training step s (batch 8)"]) > 0 and float(rows["policy query s (one chunk)"]) > 0
    bad = CliRunner().invoke(app, ["bench", "act", "--preset", "huge"])
    assert bad.exit_code != 0 and "unknown preset" in bad.output


def play_one_episode(policy: str, checkpoint, tmp_path):
    """`eva-bench run` of one _test_pulse episode with `policy` (no video, no reward); its stored episode,
    checked to have played without an error."""
    db = tmp_path / "db.sqlite"
    run = CliRunner().invoke(app, ["run", "--policy", policy, "--checkpoint", str(checkpoint), "--tasks",
                                   "_test_pulse", "--episodes", "1", "--db", str(db), "--out", str(tmp_path / "ep"),
                                   "--no-video", "--reward-idm", "none", "--run-id", "a"])
    assert run.exit_code == 0, run.output
    with ResultsStore(db) as store:
        (episode,) = store.episodes("a")
    assert episode.error is None and episode.steps >= 1
    return episode
