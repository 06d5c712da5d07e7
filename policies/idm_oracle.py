"""`idm-oracle`: the IDM run on ground-truth video, executed open-loop (EVA paper, section 5.5 and Table 4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eva_bench.errors import UserError
from eva_bench.expert import expert_video
from eva_bench.idm.scoring import RewardScorer, executable_actions
from eva_bench.paths import released_idm_dir
from eva_bench.policy import Policy, PolicyConfig
from eva_bench.sim.cameras import parse_resolution


@dataclass
class IDMOracleConfig(PolicyConfig):
    """Settings of the `idm-oracle` policy.

    Args:
        video_size: "WIDTHxHEIGHT" of the rendered ground-truth video; empty: the resolution the IDM's training
            frames were recorded at (its checkpoint's provenance), which is what the IDM is meant to see.
        binary_grippers: Execute each decoded gripper command as open or closed (threshold 0.5) instead of as
            decoded (`eva_bench.idm.scoring.executable_actions`).
        autoencoder: A world model's frame autoencoder (`eva-bench train vae`, or a released world model's
            `autoencoder/`): the ground-truth video is encoded and decoded by it before the IDM reads it. Success
            is then the ceiling of any world model living in that latent space (a perfect one imagines exactly
            these frames); empty: the video as rendered.
    """

    video_size: str = ""
    binary_grippers: bool = True
    autoencoder: str = ""

    def __post_init__(self) -> None:
        if self.video_size:
            parse_resolution(self.video_size)  # a malformed size fails here, before any episode


class IDMOraclePolicy(Policy):
    """Decodes the ground-truth video of the expert solving the same seed with the IDM, then executes it.

    On `reset` the scripted expert solves the episode's task and seed in a private scene; its video from the
    IDM's source camera is rendered and decoded frame by frame into actions, which are returned as one
    open-loop chunk. Success therefore measures how faithfully the IDM turns a valid video into executable
    actions: the upper bound of any video-based policy using this IDM. The checkpoint (`--checkpoint`) is an
    IDM folder; default `$EVA_BENCH_IDM` or the released IDM.
    """

    name = "idm-oracle"
    config_class = IDMOracleConfig

    def __init__(self, config: IDMOracleConfig | None = None, checkpoint: str | None = None) -> None:
        super().__init__(config, checkpoint)
        self.scorer = RewardScorer.load(self.checkpoint)
        source = self.scorer.source
        self.camera = source.camera
        self.video_size = parse_resolution(self.config.video_size) if self.config.video_size else source.resolution
        self.autoencoder = self._load_autoencoder(self.config.autoencoder) if self.config.autoencoder else None
        self._env = None
        self._actions = np.zeros((0, 14), np.float32)
        self._done = False

    @classmethod
    def resolve_checkpoint(cls, checkpoint: str | None) -> str:
        return str(checkpoint or released_idm_dir())

    def _load_autoencoder(self, path: str):
        from eva_bench.checkpoint import read_checkpoint
        from eva_bench.world_model.autoencoder import FrameAutoencoder

        autoencoder = FrameAutoencoder.load(read_checkpoint(path, "autoencoder").folder).eval()
        size = (autoencoder.config["width"], autoencoder.config["height"])
        if size != tuple(self.video_size):
            raise UserError(f"the autoencoder {path} codes {size[0]}x{size[1]} frames, the video is "
                            f"{self.video_size[0]}x{self.video_size[1]}: set video_size={size[0]}x{size[1]}")
        return autoencoder

    def reset(self, task: str, instruction: str, seed: int) -> None:
        from eva_bench.sim.env import BimanualEnv

        if self._env is None:
            self._env = BimanualEnv(cameras={self.camera: self.video_size})
        video, _ = expert_video(self._env, task, seed, self.camera)
        if self.autoencoder is not None:
            video = self.autoencoder.round_trip(video)
        # Row 0 is the initial frame; row t >= 1 is the action that led to frame t.
        self._actions = executable_actions(self.scorer.decode(video)[1:], self.config.binary_grippers)
        self._done = False

    def act(self, obs: dict) -> np.ndarray:
        if self._done or not len(self._actions):  # decoded plan finished: hold the last command
            return obs["joint_action"]["vector"][None].astype(np.float32)
        self._done = True
        return self._actions
