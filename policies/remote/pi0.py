"""`pi0`: a pi0 (or any openpi) policy server reached over openpi's websocket protocol (policies/remote/client.py).

Each query sends RoboTwin's aloha observation, as RoboTwin's own pi0 deployment builds it: `state` (the 14
joint targets, left arm + gripper then right), `images` {"cam_high", "cam_left_wrist", "cam_right_wrist"} as
CHW uint8 at 320x240 (the server rearranges to HWC itself: HWC input would be silently garbled), `prompt` (the
instruction); the reply's `actions` (N, 14) chunk is executed (RoboTwin executes all 50), clipped to the joint
ranges. openpi's sampling noise is the server's, and the protocol carries no episode seed: remote episodes are
not reproducible run to run. A server that fails or disappears fails the episode (an error row); the next
episode reconnects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from eva_bench.policies.remote.client import RemotePolicyError, WebsocketPolicyClient

from eva_bench.policy import Policy, PolicyConfig
from eva_bench.sim.embodiment import PIPER_BIMANUAL

ALOHA_CAMERAS = {"cam_high": "head_camera", "cam_left_wrist": "left_camera", "cam_right_wrist": "right_camera"}


@dataclass
class Pi0Config(PolicyConfig):
    """Settings of the `pi0` policy.

    Args:
        host: The policy server's host.
        port: Its port.
        timeout_s: Seconds to wait for the connection and for each reply.
        retries: Connection attempts before an episode fails.
        execute_steps: Actions of each returned chunk executed before the next query (0: all, RoboTwin's).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    timeout_s: float = 60.0
    retries: int = 3
    execute_steps: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536 or self.timeout_s <= 0 or self.retries < 1 or self.execute_steps < 0:
            raise ValueError("need 0 < port < 65536, timeout_s > 0, retries >= 1 and execute_steps >= 0")


class Pi0Policy(Policy):
    """Queries a remote pi0 server with RoboTwin's aloha observation (module docstring)."""

    name = "pi0"
    config_class = Pi0Config
    cameras = tuple(ALOHA_CAMERAS.values())
    image_size = (320, 240)

    def __init__(self, config: Pi0Config | None = None, checkpoint: str | None = None) -> None:
        super().__init__(config, checkpoint)
        self.execute_steps = self.config.execute_steps or None
        self.client = WebsocketPolicyClient(self.config.host, self.config.port, self.config.timeout_s,
                                            self.config.retries)
        self.instruction = ""

    def reset(self, task: str, instruction: str, seed: int) -> None:
        self.instruction = instruction

    def observation(self, obs: dict) -> dict:
        """RoboTwin's aloha observation of ours (module docstring)."""
        images = {key: np.ascontiguousarray(obs["observation"][camera]["rgb"].transpose(2, 0, 1))
                  for key, camera in ALOHA_CAMERAS.items()}
        state = np.asarray(obs["joint_action"]["vector"], np.float32)
        return {"state": state, "images": images, "prompt": self.instruction}

    def act(self, obs: dict) -> np.ndarray:
        reply = self.client.infer(self.observation(obs))
        if "actions" not in reply:
            raise RemotePolicyError(f"{self.client.uri}: the reply has no 'actions' (keys: {sorted(reply)})")
        actions = np.asarray(reply["actions"], np.float32)
        if actions.ndim != 2 or actions.shape[1] != 14:
            raise RemotePolicyError(f"{self.client.uri}: expected actions (N, 14), got {actions.shape}")
        return np.clip(actions, PIPER_BIMANUAL.action_lower(), PIPER_BIMANUAL.action_upper())
