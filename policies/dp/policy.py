"""`dp`: Diffusion Policy (policies/dp/model.py) trained in the harness (`eva-bench train dp`), a baseline of
Table 2.

The policy is called every control step (the runner's `execute_steps=1`), because it keeps its own observation
history: the last n_obs frames and joint states (at an episode's start the first observation fills it, as
RoboTwin's DP runner does). When its queue of actions is empty it samples a chunk and queues the n_action
executed rows; otherwise it pops the next one. The sampling noise of query q of an episode is drawn from
(episode seed, q), so an episode is reproducible. The checkpoint is a DP checkpoint (or training run), single-
or multi-task, or a folder of per-task ones (`policies/per_task.py`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from eva_bench.policies.per_task import PerTaskModelPolicy

from eva_bench.paths import DP_ENV
from eva_bench.policy import PolicyConfig
from eva_bench.sim.embodiment import PIPER_BIMANUAL

SAMPLERS = ("", "ddpm", "ddim")


@dataclass
class DPPolicyConfig(PolicyConfig):
    """Settings of the `dp` policy.

    Args:
        sampler: "ddpm" or "ddim"; empty: the model's (tiny: DDIM, robotwin: DDPM).
        inference_steps: Denoising steps per chunk; 0: the model's (tiny: 10, robotwin: 100).
        device: Torch device of the model.
    """

    sampler: str = ""
    inference_steps: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS or self.inference_steps < 0:
            raise ValueError("sampler must be ddpm, ddim or empty, and inference_steps >= 0")


def query_seed(episode_seed: int, query: int) -> int:
    """The noise seed of query `query` of the episode with seed `episode_seed`."""
    return int(np.random.SeedSequence([int(episode_seed), int(query)]).generate_state(1)[0])


class DPPolicy(PerTaskModelPolicy):
    """Diffusion Policy with an observation history and an action queue (module docstring); `--checkpoint`
    (or $EVA_BENCH_DP) is required."""

    name = "dp"
    config_class = DPPolicyConfig
    model_kind = "dp"
    env_var = DP_ENV
    train_command = "eva-bench train dp"
    execute_steps = 1

    @staticmethod
    def camera_view(config: dict) -> dict[str, tuple[int, int]]:
        return {config["camera"]: (config["width"], config["height"])}

    def load_model(self, folder: Path):
        from eva_bench.policies.dp.model import DiffusionPolicy

        model = DiffusionPolicy.load(folder, map_location=self.config.device)
        steps = self.config.inference_steps
        if steps > model.config["train_steps"]:
            raise ValueError(f"dp: inference_steps {steps} > the model's {model.config['train_steps']} training steps")
        return model

    def reset(self, task: str, instruction: str, seed: int) -> None:
        super().reset(task, instruction, seed)
        self.seed, self.queries = seed, 0
        self.observations: deque = deque(maxlen=self.model.config["n_obs"])
        self.queue: deque = deque()

    def act(self, obs: dict) -> np.ndarray:
        camera = next(iter(self.view))
        entry = (obs["observation"][camera]["rgb"], np.asarray(obs["joint_action"]["vector"], np.float32))
        while len(self.observations) < self.observations.maxlen - 1:  # an episode's first call fills the history
            self.observations.append(entry)
        self.observations.append(entry)
        if not self.queue:
            frames = np.stack([frame for frame, _ in self.observations])
            states = np.stack([state for _, state in self.observations])
            chunk = self.model.predict(frames, states, self.task, query_seed(self.seed, self.queries),
                                       self.config.sampler, self.config.inference_steps)
            self.queries += 1
            # joints and grippers clipped to their ranges, as the controller would
            self.queue.extend(np.clip(chunk, PIPER_BIMANUAL.action_lower(), PIPER_BIMANUAL.action_upper()))
        return self.queue.popleft()[None]
