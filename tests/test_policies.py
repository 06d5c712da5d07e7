"""Contract tests over every registered policy, plus the entry-point plug-in path."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from test_remote import fake_server, stay_put
from test_robotwin_policy import write_toy_folder

from eva_bench.configs import field_docs
from eva_bench.errors import UserError
from eva_bench.policy import POLICIES, Policy, check_chunk, make_policy, policy_config, register_builtin
from eva_bench.registry import Registry
from eva_bench.sim.embodiment import PIPER_BIMANUAL
from eva_bench.sim.env import BimanualEnv
from eva_bench.task import TASKS

# the shipped policies: other test modules register their own "_test..." ones when collected first
SHIPPED = [name for name in POLICIES.names() if not name.startswith("_test")]


@pytest.mark.parametrize("name", SHIPPED)
def test_policy_contract(name, tiny_world_model, tiny_act, tiny_dp, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("EVA_BENCH_WM", str(tiny_world_model / "wm"))  # no world model is released yet
    monkeypatch.setenv("EVA_BENCH_EVA", str(tiny_world_model / "eva"))
    monkeypatch.setenv("EVA_BENCH_ACT", str(tiny_act))  # nor an ACT
    monkeypatch.setenv("EVA_BENCH_DP", str(tiny_dp))  # nor a DP
    with fake_server(stay_put) if name == "pi0" else contextlib.nullcontext((None, None)) as (port, _):
        options = {"port": str(port)} if port else None  # pi0: a local fake server
        if name == "robotwin":  # a toy RoboTwin policy folder
            options = {"path": str(write_toy_folder(tmp_path)), "cameras": "head_camera"}
        policy = make_policy(name, options=options)
        requests = policy.camera_requests()
        env = BimanualEnv(cameras=requests)
        env.reset(TASKS.get("click_bell"), 100000)
        obs = env.get_obs()
        obs["instruction"] = "press the bell"
        policy.reset("click_bell", "press the bell", 100000)
        for _ in range(3):
            chunk = check_chunk(policy.act(obs), name)
            assert chunk.dtype == np.float32 and chunk.shape[1] == 14 and len(chunk) >= 1
            assert np.all(chunk >= PIPER_BIMANUAL.action_lower() - 1e-6)
            assert np.all(chunk <= PIPER_BIMANUAL.action_upper() + 1e-6)
            for action in chunk[: policy.execute_steps or len(chunk)]:
                env.step(action)
                if policy.observes_steps:
                    policy.observe(env.get_obs())
            obs = env.get_obs()


def test_idle_holds_the_initial_pose() -> None:
    env = BimanualEnv()
    env.reset(TASKS.get("click_bell"), 0)
    policy = make_policy("idle")
    start = env.command.copy()
    for _ in range(10):
        for action in policy.act(env.get_obs()):
            env.step(action)
    np.testing.assert_array_equal(env.command, start)


def test_random_policy_is_seeded() -> None:
    a, b = make_policy("random"), make_policy("random")
    obs = {"joint_action": {"vector": PIPER_BIMANUAL.home_action()}}
    a.reset("click_bell", "", 5)
    b.reset("click_bell", "", 5)
    np.testing.assert_array_equal(a.act(obs), b.act(obs))
    b.reset("click_bell", "", 6)
    assert not np.array_equal(a.act(obs), b.act(obs))


def test_policy_options_are_parsed_against_the_config_dataclass() -> None:
    assert make_policy("expert", chunk_size=5).config.chunk_size == 5
    assert policy_config("expert", {"chunk_size": "7"}).chunk_size == 7  # strings from the command line
    assert policy_config("random", {}).hold == 10  # defaults come from the dataclass
    with pytest.raises(UserError, match=r"policy 'idle' has no option 'speed'; valid options: none"):
        make_policy("idle", speed=3)
    with pytest.raises(UserError, match=r"no option 'chunk'; valid options: chunk_size \(int, default 25\)"):
        policy_config("expert", {"chunk": "5"})
    with pytest.raises(UserError, match=r"chunk_size='five': expected an integer"):
        policy_config("expert", {"chunk_size": "five"})
    with pytest.raises(UserError, match="chunk_size must be >= 1, got 0"):
        make_policy("expert", chunk_size=0)
    with pytest.raises(UserError, match="a resolution looks like 320x240"):
        policy_config("idm-oracle", {"video_size": "big"})


@pytest.mark.parametrize("name", SHIPPED)
def test_every_config_field_is_documented(name) -> None:
    cls = POLICIES.get(name)
    fields = [f.name for f in dataclasses.fields(cls.config_class)]
    docs = field_docs(cls.config_class)
    assert [f for f in fields if not docs.get(f)] == [], f"{name}: undocumented config fields"


def test_listing_policies_imports_no_policy_module() -> None:
    code = ("import sys; from eva_bench.policy import POLICIES; "
            "print([n for n in POLICIES.names() if not POLICIES.summary(n)], len(POLICIES.names())); "
            "print(sorted(m for m in sys.modules if m.startswith('eva_bench.policies.') or m in ('torch', 'sapien')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[] 10"  # every built-in listed with its summary ...
    assert out[1] == "[]"  # ... and none of their modules (nor torch, nor SAPIEN) imported


def test_lazy_builtin_must_be_the_named_policy() -> None:
    registry = Registry("policy", "json")  # any importable package: nothing of ours registers into it
    register_builtin("idle2", "idle:IdlePolicy", "holds still", registry)
    assert registry.summary("idle2") == "holds still"  # listed without importing the module
    with pytest.raises(TypeError, match="idle:IdlePolicy is not the Policy subclass named 'idle2'"):
        registry.get("idle2")


def test_check_chunk_rejects_bad_output() -> None:
    with pytest.raises(ValueError, match="shape"):
        check_chunk(np.zeros((3, 7)), "p")
    with pytest.raises(ValueError, match="shape"):
        check_chunk(np.zeros((0, 14)), "p")
    with pytest.raises(ValueError, match="NaN"):
        check_chunk(np.full((2, 14), np.nan), "p")
    assert check_chunk(np.zeros(14), "p").shape == (1, 14)


def test_policy_subclass_is_validated() -> None:
    with pytest.raises(TypeError, match="name"):
        type("Nameless", (Policy,), {"act": lambda self, obs: None})
    with pytest.raises(ValueError, match="unknown camera"):
        type("BadCam", (Policy,), {"name": "badcam", "cameras": ("top_camera",), "act": lambda self, obs: None})


def test_third_party_policies_register_through_entry_points(monkeypatch) -> None:
    class PluginPolicy(Policy):
        name = "plugin"

        def act(self, obs):
            return obs["joint_action"]["vector"][None]

    class FakeEntryPoint:
        name = "plugin"

        @staticmethod
        def load():
            return PluginPolicy

    monkeypatch.setattr("eva_bench.registry.entry_points", lambda group: [FakeEntryPoint()])
    registry = Registry("policy", "eva_bench.policies", entry_point_group="eva_bench.policies")
    assert "plugin" in registry.names()
    assert registry.get("plugin") is PluginPolicy
