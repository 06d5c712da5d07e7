"""`act`: ACT (policies/act/model.py) trained in the harness (`eva-bench train act`), a baseline of Table 2.

With temporal aggregation (RoboTwin's evaluation setting, the default) the policy is queried every control
step; the action executed at step t is the weighted mean of what every chunk predicted at steps t - chunk + 1
.. t says for t, with weights exp(-k i), i = 0 for the oldest prediction. Without it, each chunk is executed for
`execute_steps` steps before the next query.

The checkpoint is an ACT checkpoint (or training run), single- or multi-task, or a folder of per-task ones
(`policies/per_task.py`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from eva_bench.policies.per_task import PerTaskModelPolicy

from eva_bench.paths import ACT_ENV
from eva_bench.policy import PolicyConfig
from eva_bench.sim.embodiment import PIPER_BIMANUAL


@dataclass
class ACTPolicyConfig(PolicyConfig):
    """Settings of the `act` policy.

    Args:
        temporal_agg: Query every step and average the overlapping chunks (RoboTwin's evaluation setting).
        agg_k: k of the aggregation weights exp(-k i) (ACT's 0.01).
        execute_steps: Without temporal aggregation, actions of each chunk executed before the next query
            (0: the whole chunk).
        device: Torch device of the model.
    """

    temporal_agg: bool = True
    agg_k: float = 0.01
    execute_steps: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.agg_k < 0 or self.execute_steps < 0:
            raise ValueError("agg_k and execute_steps must be >= 0")


class ACTPolicy(PerTaskModelPolicy):
    """ACT with temporal aggregation (module docstring); `--checkpoint` (or $EVA_BENCH_ACT) is required."""

    name = "act"
    config_class = ACTPolicyConfig
    model_kind = "act"
    env_var = ACT_ENV
    train_command = "eva-bench train act"

    @staticmethod
    def camera_view(config: dict) -> dict[str, tuple[int, int]]:
        return dict.fromkeys(config["cameras"], (config["width"], config["height"]))

    def load_model(self, folder: Path):
        from eva_bench.policies.act.model import ACT

        return ACT.load(folder, map_location=self.config.device)

    def __init__(self, config: ACTPolicyConfig | None = None, checkpoint: str | None = None) -> None:
        super().__init__(config, checkpoint)
        self.execute_steps = 1 if self.config.temporal_agg else (self.config.execute_steps or None)
        self.history: deque = deque()

    def reset(self, task: str, instruction: str, seed: int) -> None:
        super().reset(task, instruction, seed)
        self.history = deque(maxlen=self.model.config["chunk"])
        self.step = 0

    def act(self, obs: dict) -> np.ndarray:
        images = np.stack([obs["observation"][camera]["rgb"] for camera in self.view])
        # joints and grippers clipped to their ranges, as the controller would
        chunk = np.clip(self.model.predict(images, obs["joint_action"]["vector"], self.task),
                        PIPER_BIMANUAL.action_lower(), PIPER_BIMANUAL.action_upper())
        if not self.config.temporal_agg:
            return chunk
        self.history.append((self.step, chunk))
        predictions = np.stack([c[self.step - s] for s, c in self.history])  # oldest first
        weights = np.exp(-self.config.agg_k * np.arange(len(predictions)))
        self.step += 1
        return (weights[:, None] * predictions).sum(0, keepdims=True) / weights.sum()
