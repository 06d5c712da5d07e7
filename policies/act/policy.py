"""`act`: ACT (policies/act/model.py) trained in the harness (`eva-bench train act`), a baseline of Table 2.

With temporal aggregation (RoboTwin's evaluation setting, the default) the policy is queried every control
step; the action executed at step t is the weighted mean of what every chunk predicted at steps t - chunk + 1
.. t says for t, with weights exp(-k i), i = 0 for the oldest prediction. Without it, each chunk is executed for
`execute_steps` steps before the next query.

The checkpoint is an ACT checkpoint (or training run): a single-task model, used for its own task only, or a
multi-task one; or a folder of per-task ones, `<folder>/<task>/` (RoboTwin's protocol: one model per task),
each loaded when its task's first episode starts.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eva_bench.checkpoint import CheckpointError, read_checkpoint, resolve_folder
from eva_bench.errors import UserError
from eva_bench.paths import ACT_ENV
from eva_bench.policy import Policy, PolicyConfig
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


def _model_folders(checkpoint: str) -> dict[str, Path]:
    """task -> ACT checkpoint folder ("" for a single checkpoint serving whatever tasks it was trained on)."""
    root = Path(checkpoint)
    if not root.exists():
        raise UserError(f"act: no checkpoint at {root}; train one with `eva-bench train act` (docs/baselines.md)")
    if (resolve_folder(root) / "checkpoint.json").is_file():
        return {"": root}
    found = {p.name: p for p in sorted(root.iterdir()) if (resolve_folder(p) / "checkpoint.json").is_file()}
    if not found:
        raise UserError(f"act: {root} is neither an ACT checkpoint nor a folder of per-task ones (<task>/)")
    return found


class ACTPolicy(Policy):
    """ACT with temporal aggregation (module docstring); `--checkpoint` (or $EVA_BENCH_ACT) is required."""

    name = "act"
    config_class = ACTPolicyConfig

    @classmethod
    def resolve_checkpoint(cls, checkpoint: str | None) -> str | None:
        return checkpoint or os.environ.get(ACT_ENV) or None

    def __init__(self, config: ACTPolicyConfig | None = None, checkpoint: str | None = None) -> None:
        super().__init__(config, checkpoint)
        if not self.checkpoint:
            raise UserError(f"act needs --checkpoint (or ${ACT_ENV}): an ACT checkpoint, or a folder of per-task "
                            "ones (`eva-bench train act`)")
        self.folders = _model_folders(self.checkpoint)
        configs, self.trained = {}, {}
        for key, folder in self.folders.items():
            try:
                checkpoint = read_checkpoint(folder, "act")
            except CheckpointError as error:
                raise UserError(f"act: {error}") from None
            configs[key] = checkpoint.config
            self.trained[key] = list((checkpoint.provenance.get("data") or {}).get("tasks") or [])
        views = {(tuple(c["cameras"]), c["width"], c["height"]) for c in configs.values()}
        if len(views) > 1:
            raise UserError(f"act: the per-task models under {self.checkpoint} see different cameras or sizes")
        cameras, width, height = views.pop()
        self.view = dict.fromkeys(cameras, (width, height))
        self.cameras = tuple(cameras)  # what the runner observes (the class has none: they come from the model)
        self.configs = configs
        self.models: dict[str, object] = {}
        self.model = None
        self.execute_steps = 1 if self.config.temporal_agg else (self.config.execute_steps or None)
        self.history: deque = deque()

    def camera_requests(self) -> dict[str, tuple[int, int]]:
        return dict(self.view)

    def _load(self, key: str):
        if key not in self.models:
            from eva_bench.policies.act.model import ACT

            self.models[key] = ACT.load(self.folders[key], map_location=self.config.device)
        return self.models[key]

    def reset(self, task: str, instruction: str, seed: int) -> None:
        if "" in self.folders:
            trained = self.trained[""]
            if trained and task not in trained:
                raise UserError(f"act: the model at {self.checkpoint} was trained on {', '.join(trained)}, "
                                f"not on {task}")
            self.model = self._load("")
        elif task in self.folders:
            if self.trained[task] and task not in self.trained[task]:
                raise UserError(f"act: {self.folders[task]} holds a model of {', '.join(self.trained[task])}, "
                                f"not of {task}")
            self.model = self._load(task)
        else:
            raise UserError(f"act: no model for {task} under {self.checkpoint} (found: {', '.join(self.folders)})")
        self.task = task
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
