"""`robotwin`: any RoboTwin 2.0 policy folder (DP, ACT, RDT, pi0's deploy, ...), unchanged, in its own interpreter.

RDT's environment (numpy < 2, transformers 4.41, deepspeed ...) can never share ours, so the policy runs in a
host process started with the policy's own Python (`python`), which imports nothing of eva-bench
(policies/remote/robotwin_host.py, stdlib + numpy) and runs RoboTwin's `get_model` / `reset_model` / `eval`
contract against a stand-in task environment. Each `act` returns the one action the policy's `eval` passes to
`take_action` (the runner executes it and calls `act` again with the next observation), so chunking, temporal
aggregation or observation windows stay the policy's own business.

usr_args are the folder's deploy_policy.yml, then the file `config`, then `overrides` ("key=value,...", values
read as YAML), then task_name, instruction_type and left_arm_dim = right_arm_dim = 6, as RoboTwin's eval_policy.py
builds them. The observation is ours, in RoboTwin's layout (arm joints as lists, as RoboTwin gives them); with
`bgr` the images' colour channels are swapped for policies trained on cv2-decoded (BGR) RoboTwin data. A host
that fails, dies or times out fails the episode (an error row with its traceback); the next episode starts a
new host.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from eva_bench.policies.remote import robotwin_host

from eva_bench.errors import UserError
from eva_bench.policy import Policy, PolicyConfig
from eva_bench.sim.cameras import DEFAULT_RESOLUTION
from eva_bench.sim.embodiment import PIPER_BIMANUAL


class RobotwinPolicyError(RuntimeError):
    """The policy's host failed (its traceback is the message), died, or did not answer in time."""


@dataclass
class RobotwinConfig(PolicyConfig):
    """Settings of the `robotwin` policy.

    Args:
        path: The RoboTwin policy folder (e.g. RoboTwin/policy/DP); its name is the module imported.
        python: The interpreter of the policy's own environment (default: this one).
        root: The RoboTwin root the host runs in (default: two folders above `path`).
        config: A YAML file of usr_args over the folder's deploy_policy.yml.
        overrides: usr_args over both, "key=value,key=value" (values parsed as YAML scalars).
        cameras: Comma-separated cameras the policy receives (RoboTwin: head, left and right).
        resolution: "WIDTHxHEIGHT" they are rendered at.
        bgr: Swap the images' colour channels (for policies trained on cv2-decoded RoboTwin data).
        timeout_s: Seconds to wait for the host's answer (loading a model included).
    """

    path: str = ""
    python: str = ""
    root: str = ""
    config: str = ""
    overrides: str = ""
    cameras: str = "head_camera,left_camera,right_camera"
    resolution: str = "x".join(map(str, DEFAULT_RESOLUTION))
    bgr: bool = False
    timeout_s: float = 600.0

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")


def _usr_args(config: RobotwinConfig, task: str, instruction_kind: str = "unseen") -> dict:
    import yaml

    folder = Path(config.path)
    args: dict = {}
    for source in (folder / "deploy_policy.yml", Path(config.config) if config.config else None):
        if source is not None and source.is_file():
            args.update(yaml.safe_load(source.read_text()) or {})
        elif source is not None and config.config and source == Path(config.config):
            raise UserError(f"robotwin: no config file {source}")
    for pair in filter(None, (p.strip() for p in config.overrides.split(","))):
        key, sep, value = pair.partition("=")
        if not sep:
            raise UserError(f"robotwin: overrides must be key=value pairs, got {pair!r}")
        args[key.strip()] = yaml.safe_load(value)
    return {**args, "task_name": task, "instruction_type": instruction_kind, "left_arm_dim": 6, "right_arm_dim": 6}


class RobotwinPolicy(Policy):
    """A RoboTwin policy folder behind a host process (module docstring)."""

    name = "robotwin"
    config_class = RobotwinConfig
    execute_steps = 1
    process: subprocess.Popen | None = None  # the host (also read by __del__ of a half-built policy)

    def __init__(self, config: RobotwinConfig | None = None, checkpoint: str | None = None) -> None:
        super().__init__(config, checkpoint)
        from eva_bench.sim.cameras import check_camera_names, parse_resolution

        config = self.config
        if not config.path or not Path(config.path).is_dir():
            raise UserError(f"robotwin needs --policy-option path=<a RoboTwin policy folder>, got {config.path!r}")
        self.folder = Path(config.path).resolve()
        if not (self.folder / "deploy_policy.py").is_file() and not (self.folder / "__init__.py").is_file():
            raise UserError(f"robotwin: {self.folder} has no deploy_policy.py (not a RoboTwin policy folder)")
        self.cameras = tuple(c.strip() for c in config.cameras.split(",") if c.strip())
        check_camera_names(self.cameras)
        self.size = parse_resolution(config.resolution)
        self.root = Path(config.root).resolve() if config.root else self.folder.parent.parent
        self.process: subprocess.Popen | None = None
        self.task = ""

    def camera_requests(self) -> dict[str, tuple[int, int]]:
        return dict.fromkeys(self.cameras, self.size)

    # ------------------------------------------------------------------ the host
    def _start(self, task: str) -> None:
        self.close()
        self.process = subprocess.Popen(
            [self.config.python or sys.executable, robotwin_host.__file__], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=None, cwd=str(self.root), env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.task = task
        self._call({"op": "init", "usr_args": _usr_args(self.config, task), "root": str(self.root),
                    "module": self.folder.name}, "ok")

    def _call(self, message: dict, expect: str | tuple[str, ...]) -> dict:
        """Send `message` and wait (at most timeout_s) for the host's answer, which must be `expect`."""
        process = self.process
        try:
            process.stdin.write(robotwin_host.encode(message))
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.close()
            raise RobotwinPolicyError(f"robotwin: the policy host died (exit code {process.poll()})") from None
        answer: dict = {}

        def read() -> None:
            try:
                answer.update(robotwin_host.decode(process.stdout))
            except Exception as error:  # noqa: BLE001 (a dead host: reported below)
                answer["_error"] = error

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(self.config.timeout_s)
        if reader.is_alive() or "_error" in answer:
            self.close()
            why = f"no answer within {self.config.timeout_s:g} s" if reader.is_alive() else \
                f"the policy host died (exit code {process.poll()})"
            raise RobotwinPolicyError(f"robotwin: {why}")
        if answer.get("op") == "error":
            self.close()  # a fresh host for the next episode
            raise RobotwinPolicyError(f"robotwin: the policy failed:\n{answer['traceback']}")
        if answer.get("op") not in ((expect,) if isinstance(expect, str) else expect):
            self.close()
            raise RobotwinPolicyError(f"robotwin: unexpected answer {answer.get('op')!r} to {message['op']!r}")
        return answer

    def close(self) -> None:
        if self.process is not None:
            for stream in (self.process.stdin, self.process.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.process.kill()
            self.process.wait()
            self.process = None

    def __del__(self) -> None:
        self.close()

    # ------------------------------------------------------------------ the policy
    def reset(self, task: str, instruction: str, seed: int) -> None:
        from eva_bench.task import TASKS

        if self.process is None or self.process.poll() is not None or task != self.task:
            self._start(task)
        self._call({"op": "reset", "instruction": instruction, "step_lim": TASKS.get(task).step_limit}, "ok")

    def _robotwin_obs(self, obs: dict) -> dict:
        images = {name: {"rgb": view["rgb"][..., ::-1].copy() if self.config.bgr else view["rgb"]}
                  for name, view in obs["observation"].items()}
        joints = obs["joint_action"]
        return {"observation": images, "joint_action": {
            "left_arm": [float(v) for v in joints["left_arm"]], "left_gripper": float(joints["left_gripper"]),
            "right_arm": [float(v) for v in joints["right_arm"]], "right_gripper": float(joints["right_gripper"]),
            "vector": np.asarray(joints["vector"], np.float32)},
            "endpose": {k: np.asarray(v) for k, v in obs.get("endpose", {}).items()}}

    def act(self, obs: dict) -> np.ndarray:
        answer = self._call({"op": "step", "obs": self._robotwin_obs(obs), "eval_success": False}, ("action", "idle"))
        if answer["op"] == "idle":  # the policy's eval returned without acting: hold
            return np.asarray(obs["joint_action"]["vector"], np.float32)[None]
        action = np.asarray(answer["action"], np.float32).reshape(-1)
        if action.shape != (14,):
            raise RobotwinPolicyError(f"robotwin: the policy sent an action of shape {action.shape}, not (14,)")
        return np.clip(action, PIPER_BIMANUAL.action_lower(), PIPER_BIMANUAL.action_upper())[None]
