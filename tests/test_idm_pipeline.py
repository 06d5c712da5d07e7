"""The IDM in the pipeline: episode rewards in the results database, the idm-oracle policy, the IDM report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from eva_bench.errors import UserError
from eva_bench.expert import run_expert
from eva_bench.idm.model import IDM, CheckpointError
from eva_bench.idm.reward import RewardConfig
from eva_bench.idm.scoring import REWARD_CONFIG_FILE, executable_actions
from eva_bench.policy import make_policy
from eva_bench.report.idm import table4, table_s2, write_idm_report
from eva_bench.runner import EvalConfig, evaluate
from eva_bench.sim.embodiment import PIPER_BIMANUAL
from eva_bench.store import EpisodeRecord, ResultsStore, RunInfo


@pytest.fixture(scope="module")
def untrained_idm(tmp_path_factory) -> Path:
    """A small untrained IDM with a reward config beside it (the mechanics do not need a trained one)."""
    folder = tmp_path_factory.mktemp("idm")
    IDM(width=32, height=24, stem_channels=8, stages=((8, 1, 2),), keypoints=4, hidden=(16,)).save(folder)
    RewardConfig(p0=5.0).save(folder / REWARD_CONFIG_FILE)
    return folder


def test_every_episode_stores_its_reward(tmp_path, untrained_idm) -> None:
    cfg = EvalConfig(policy="expert", tasks=["click_bell"], run_id="r", db_path=tmp_path / "r.sqlite",
                     output_dir=tmp_path / "out", episodes=2, save_video=False, reward_idm=str(untrained_idm))
    evaluate(cfg)
    with ResultsStore(cfg.db_path) as store:
        rows = store.episodes("r")
        assert len(rows) == 2
        for row in rows:
            assert 0.0 < row.reward <= 1.0
            parts = row.reward_components
            total = parts["vel_limit"] + parts["acc_limit"] + parts["acc_huber"] + parts["jerk_huber"]
            assert total == pytest.approx(parts["penalty"])
            assert row.reward == pytest.approx((1 + parts["penalty"] / 5.0) ** -1)
        assert store.summary("r")["mean_reward"].notna().all()


def test_rewards_can_be_turned_off(tmp_path) -> None:
    cfg = EvalConfig(policy="idle", tasks=["_test_pulse"], run_id="r", db_path=tmp_path / "r.sqlite",
                     output_dir=tmp_path / "out", episodes=1, save_video=False, reward_idm="")
    evaluate(cfg)
    with ResultsStore(cfg.db_path) as store:
        assert store.episodes("r")[0].reward is None


def test_a_bad_reward_checkpoint_fails_before_running(tmp_path) -> None:
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text("{not json")
    with pytest.raises(UserError, match=r"cannot load the reward IDM: .*config.json is corrupt .*--reward-idm none"):
        EvalConfig(policy="idle", tasks=["click_bell"], run_id="r", db_path=tmp_path / "r.sqlite",
                   output_dir=tmp_path / "out", reward_idm=str(tmp_path / "ckpt"))
    assert not (tmp_path / "r.sqlite").exists()


def test_idm_oracle_decodes_the_expert_video(untrained_idm) -> None:
    policy = make_policy("idm-oracle", checkpoint=str(untrained_idm), video_size="64x48")
    policy.reset("click_bell", "press the bell", 100000)
    expert = run_expert("click_bell", 100000)
    obs = {"joint_action": {"vector": np.zeros(14, np.float32)}}
    chunk = policy.act(obs)
    assert chunk.shape == expert.actions.shape and chunk.dtype == np.float32  # one action per expert step
    assert np.all(np.isfinite(chunk))
    np.testing.assert_array_equal(policy.act(obs), np.zeros((1, 14), np.float32))  # then it holds


def test_idm_oracle_can_read_the_video_through_a_world_models_autoencoder(untrained_idm, tmp_path) -> None:
    from eva_bench.world_model.autoencoder import FrameAutoencoder

    torch.manual_seed(0)
    FrameAutoencoder(width=64, height=48, block_channels=[8, 8, 8]).save(tmp_path / "ae")
    obs = {"joint_action": {"vector": np.zeros(14, np.float32)}}
    chunks = {}
    for autoencoder in ("", str(tmp_path / "ae")):
        policy = make_policy("idm-oracle", checkpoint=str(untrained_idm), video_size="64x48",
                             autoencoder=autoencoder, binary_grippers=False)
        policy.reset("click_bell", "press the bell", 100000)
        chunks[autoencoder] = policy.act(obs)
    plain, coded = chunks.values()
    assert plain.shape == coded.shape and not np.allclose(plain, coded)  # the IDM read other frames
    with pytest.raises(UserError, match="set video_size=64x48"):
        make_policy("idm-oracle", checkpoint=str(untrained_idm), video_size="80x60", autoencoder=str(tmp_path / "ae"))


def test_executable_actions_clip_and_snap_the_grippers() -> None:
    lower, upper = PIPER_BIMANUAL.action_lower(), PIPER_BIMANUAL.action_upper()
    decoded = np.stack([lower - 0.3, upper + 0.3, (lower + upper) / 2]).astype(np.float32)
    decoded[:, [6, 13]] = [[0.3, 0.7], [0.51, 0.49], [-0.2, 1.4]]
    raw = executable_actions(decoded, binary_grippers=False)
    np.testing.assert_allclose(raw[0, :6], lower[:6])
    np.testing.assert_allclose(raw[1, 7:13], upper[7:13])
    np.testing.assert_allclose(raw[:, [6, 13]], [[0.3, 0.7], [0.51, 0.49], [0.0, 1.0]])
    snapped = executable_actions(decoded)
    np.testing.assert_array_equal(snapped[:, [6, 13]], [[0, 1], [1, 0], [0, 1]])
    np.testing.assert_array_equal(np.delete(snapped, [6, 13], 1), np.delete(raw, [6, 13], 1))


def test_idm_oracle_grippers_are_binary_unless_asked(untrained_idm) -> None:
    chunks = {}
    for binary in (True, False):
        policy = make_policy("idm-oracle", checkpoint=str(untrained_idm), video_size="64x48", binary_grippers=binary)
        policy.reset("click_bell", "press the bell", 100000)
        chunks[binary] = policy.act({"joint_action": {"vector": np.zeros(14, np.float32)}})
    assert set(np.unique(chunks[True][:, [6, 13]])) <= {0.0, 1.0}
    np.testing.assert_array_equal(chunks[True][:, [6, 13]], (chunks[False][:, [6, 13]] > 0.5).astype(np.float32))


def test_a_run_records_the_checkpoint_the_oracle_loaded(tmp_path, untrained_idm, monkeypatch) -> None:
    monkeypatch.setenv("EVA_BENCH_IDM", str(untrained_idm))  # the default ("released") IDM of this test
    cfg = EvalConfig(policy="idm-oracle", tasks=["click_bell"], run_id="o", db_path=tmp_path / "r.sqlite",
                     output_dir=tmp_path / "out", episodes=1, save_video=False, reward_idm="")
    evaluate(cfg)
    with ResultsStore(cfg.db_path) as store:
        assert store.get_run("o").checkpoint == str(untrained_idm)
        assert len(store.episodes("o")) == 1


def test_idm_oracle_without_a_checkpoint_explains(tmp_path) -> None:
    with pytest.raises(CheckpointError, match=r"no idm checkpoint at .*none: .*config.json is missing \(`eva-bench"):
        make_policy("idm-oracle", checkpoint=str(tmp_path / "none"))


def _oracle_run(store: ResultsStore, run_id: str, checkpoint: Path, outcomes: dict[str, list[bool]]) -> None:
    store.start_run(RunInfo(run_id=run_id, policy="idm-oracle", checkpoint=str(checkpoint), seed=0, episodes=4,
                            instruction_kind="unseen", tasks=list(outcomes), embodiment="test"))
    for task, results in outcomes.items():
        for i, success in enumerate(results):
            store.add_episode(EpisodeRecord(run_id=run_id, task=task, task_version=1, episode=i, seed=i,
                                            instruction="x", success=success, steps=10, step_limit=100,
                                            wall_time_s=0.1))


def _checkpoint(folder: Path, pooling: str, accuracy: float) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"pooling": pooling}))
    (folder / "metrics.json").write_text(json.dumps({"accuracy": accuracy, "mae_mean": 0.01}))
    return folder


def test_idm_tables(tmp_path) -> None:
    soft = _checkpoint(tmp_path / "soft", "spatial_softmax", 0.97)
    avg = _checkpoint(tmp_path / "avg", "avg", 0.80)
    with ResultsStore(tmp_path / "db.sqlite") as store:
        _oracle_run(store, "soft", soft, {"a": [True, True, True, False], "b": [True, False, False, False]})
        _oracle_run(store, "avg", avg, {"a": [True, False, False, False], "b": [False] * 4})
        t4 = table4(store, "soft")
        assert t4["task"].tolist() == ["a", "b", "average"]
        assert t4.iloc[-1]["success_rate"] == pytest.approx((0.75 + 0.25) / 2)
        s2 = table_s2(store, ["soft", "avg"])
        assert s2["pooling"].tolist() == ["spatial_softmax", "avg"]
        assert s2["test_accuracy"].tolist() == [0.97, 0.80]
        assert s2["success_rate"].tolist() == pytest.approx([0.5, 0.125])
        written = write_idm_report(store, "soft", ["avg"], tmp_path / "tables")
        assert [p.name for p in written] == ["idm_table4.md", "idm_table4.csv", "idm_table_s2.md", "idm_table_s2.csv"]
        assert "| **average** | 4/8 | 50.00% |" in written[0].read_text()
        store.start_run(RunInfo(run_id="exp", policy="expert", checkpoint=None, seed=0, episodes=1,
                                instruction_kind="unseen", tasks=["a"], embodiment="test"))
        # Runs of schema 3 carry their IDM's config and metrics: the folder is no longer needed.
        store.start_run(RunInfo(run_id="recorded", policy="idm-oracle", checkpoint=str(tmp_path / "gone"), seed=0,
                                episodes=1, instruction_kind="unseen", tasks=["a"], embodiment="test",
                                checkpoint_info={"config": {"pooling": "avg"}, "metrics": {"accuracy": 0.5}}))
        assert table_s2(store, ["recorded"])[["pooling", "test_accuracy"]].values.tolist() == [["avg", 0.5]]
        with pytest.raises(UserError, match="not 'idm-oracle'"):
            table4(store, "exp")
        with pytest.raises(UserError, match="no run"):
            table4(store, "missing")


def test_scorer_source_and_reward_constants_of_a_training_run_folder(tmp_path) -> None:
    from eva_bench.checkpoint import make_provenance
    from eva_bench.idm.scoring import RewardScorer

    model = IDM(width=32, height=24, stem_channels=8, stages=((8, 1, 2),), keypoints=4, hidden=(16,))
    model.save(tmp_path / "run" / "model", provenance=make_provenance(data={"camera": "front_camera",
                                                                             "resolution": [64, 48]}))
    assert RewardScorer.load(tmp_path / "run").config.p0 == RewardConfig().p0  # no reward.json yet
    RewardConfig(p0=7.0).save(tmp_path / "run" / REWARD_CONFIG_FILE)  # `reward calibrate --out RUN/reward.json`
    scorer = RewardScorer.load(tmp_path / "run")
    assert scorer.config.p0 == 7.0
    assert (scorer.source.camera, scorer.source.resolution) == ("front_camera", (64, 48))
    video = np.random.default_rng(0).integers(0, 255, (6, 48, 64, 3), dtype=np.uint8)
    assert scorer.score(video).reward == pytest.approx(scorer.score(video.copy()).reward)
    assert scorer.describe()["digest"] == scorer.checkpoint.digest
