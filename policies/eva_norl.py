"""`eva-norl`: EVA without RL, the SFT world model + IDM run with a receding horizon (paper section 3, Table 2).

Each segment: the last real head-camera frames (one latent: 4 frames) and the instruction condition the world
model, which imagines the next segment; the IDM decodes history + imagined frames into actions, and the runner
executes them. The next segment is conditioned on the real frames those actions produced.

The executability gap (what the paper asks humans to rate, Table 1, measured here automatically): the imagined
frames of a segment against the frames the simulator rendered while executing that segment's decoded actions
from the same state, as PSNR and SSIM, and as PSNR over the pixels the robot covers in the executed frames
(the simulator's segmentation: low when the imagined arm is somewhere else, or faded, while the full-frame
PSNR is carried by the static background), averaged over an episode's segments and stored with it
(`policy_metrics`), with the IDM reward of the executed segments' imagined frames (what GRPO maximises) and the
reward-hacking detectors over them (`eva_bench.align.rewards`), which `eva-bench compare` ranks checkpoints on.
The imagined video is saved beside the executed one, frame-aligned with it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eva_bench.align.rewards import GRIPPERS, SegmentReward
from eva_bench.errors import UserError
from eva_bench.idm.scoring import RewardScorer, executable_actions
from eva_bench.paths import released_idm_dir, released_world_model_dir
from eva_bench.policy import Policy, PolicyConfig
from eva_bench.world_model.image_metrics import masked_psnr, psnr, ssim

log = logging.getLogger(__name__)
CAMERA = "head_camera"


@dataclass
class WorldModelPolicyConfig(PolicyConfig):
    """Settings of the world-model policies `eva-norl` and `eva`.

    Args:
        idm: IDM checkpoint that decodes imagined frames into actions; empty: $EVA_BENCH_IDM or the released IDM.
        autoencoder: The world model's autoencoder; empty: the one its checkpoint names.
        segment_latents: Latents imagined per segment (4 frames each); 0: the length the model was trained on.
        execute_steps: Actions of each segment executed before the next is imagined; 0: the whole segment.
        history_latents: Latents of real frames conditioning each segment (the paper: 1 = 4 frames).
        sample_steps: Euler ODE steps per segment.
        shift: Noise-level shift of the sampler; 0: the one the model was trained with.
        binary_grippers: Execute decoded gripper commands as open or closed (as `idm-oracle` does).
        best_of: Segments imagined per step, of which the one with the highest IDM executability reward is
            executed (best-of-N rejection sampling: the paper's alternative to GRPO at N times the generation
            cost); 1: one segment.
    """

    idm: str = ""
    autoencoder: str = ""
    segment_latents: int = 0
    execute_steps: int = 0
    history_latents: int = 1
    sample_steps: int = 10
    shift: float = 0.0
    binary_grippers: bool = True
    best_of: int = 1

    def __post_init__(self) -> None:
        if min(self.segment_latents, self.execute_steps, self.shift) < 0 or self.history_latents < 1 \
                or self.sample_steps < 1 or self.best_of < 1:
            raise ValueError("segment_latents, execute_steps and shift must be >= 0 (0: default), "
                             "history_latents, sample_steps and best_of >= 1")


class EVANoRLPolicy(Policy):
    """World-model imagination decoded by the IDM, segment by segment (module docstring). The checkpoint
    (`--checkpoint`) is a world-model checkpoint or training run; default: the released tiny world model."""

    name = "eva-norl"
    config_class = WorldModelPolicyConfig
    cameras = (CAMERA,)
    robot_mask_cameras = (CAMERA,)  # for the robot-pixel gap
    observes_steps = True
    missing_hint = "world model (train one: `eva-bench train vae`, then `eva-bench train wm`; docs/world_model.md)"

    def __init__(self, config: WorldModelPolicyConfig | None = None, checkpoint: str | None = None) -> None:
        super().__init__(config, checkpoint)
        from eva_bench.world_model.pipeline import WorldModelPipeline

        config = self.config
        if not Path(self.checkpoint).exists():
            raise UserError(f"{self.name}: no checkpoint at {self.checkpoint}; it needs a {self.missing_hint}, "
                            "given with --checkpoint")
        self.pipeline = WorldModelPipeline.load(self.checkpoint, config.autoencoder or None)
        self.scorer = RewardScorer.load(config.idm or released_idm_dir())
        self.segment_reward = SegmentReward("idm", self.scorer)
        if self.scorer.source.resolution != self.pipeline.frame_size:
            log.warning("the IDM was trained on %s frames, the world model imagines %s ones: the IDM resizes them",
                        self.scorer.source.resolution, self.pipeline.frame_size)
        self.segment_latents = config.segment_latents or self.pipeline.sampling.segment_latents
        self.execute_steps = min(config.execute_steps or 10**9, self.segment_latents * self.pipeline.group)
        self.reset("", "", 0)

    @classmethod
    def resolve_checkpoint(cls, checkpoint: str | None) -> str:
        return str(checkpoint or released_world_model_dir())

    def camera_requests(self) -> dict[str, tuple[int, int]]:
        return {CAMERA: self.pipeline.frame_size}

    def reset(self, task: str, instruction: str, seed: int) -> None:
        self.instruction, self.seed = instruction, seed
        self.real: list[np.ndarray] = []  # every real frame of the episode so far
        self.real_masks: list[np.ndarray | None] = []  # their robot pixels (None where not given)
        self.imagined: list[np.ndarray] = []  # the current segment's imagined frames
        self.segment_start = 0  # index into `real` of the frame the current segment continues
        self.aligned: list[np.ndarray] = []  # the imagined video, frame-aligned with the executed one
        self.gaps: list[tuple[float, float, float]] = []  # PSNR, SSIM, robot-pixel PSNR per segment
        self.imagine_s: list[float] = []
        self.scores: list = []  # `SegmentScores` of each executed segment's decoding
        self.decoded: list[np.ndarray] = []  # the executed segments' decoded actions

    def observe(self, obs: dict) -> None:
        view = obs["observation"][CAMERA]
        self.real.append(view["rgb"])
        self.real_masks.append(view.get("robot_mask"))

    def act(self, obs: dict) -> np.ndarray:
        if not self.real:  # the episode's first observation
            self.observe(obs)
            self.aligned.append(self.real[0])
        self._close_segment()
        started = time.perf_counter()
        history = np.stack(self.real[-self.config.history_latents * self.pipeline.group:])
        best = None
        for candidate in range(self.config.best_of):
            seed = (self.seed * 10_007 + len(self.imagine_s)) * self.config.best_of + candidate
            imagined = self.pipeline.imagine(
                history, self.instruction, seed=seed, segment_latents=self.segment_latents,
                history_latents=self.config.history_latents, steps=self.config.sample_steps,
                shift=self.config.shift or None)
            # Row t >= 1 of a decoded video is the action that led to frame t: the imagined frames' actions.
            decoded = self.scorer.decode(np.concatenate([history, imagined]))
            scores = self.segment_reward.score_decoded(decoded[None, len(history) - 1:])
            if best is None or scores.reward[0] > best[0].reward[0]:
                best = (scores, imagined, decoded[len(history):])
        scores, imagined, decoded = best
        self.imagine_s.append(time.perf_counter() - started)
        self.scores.append(scores)
        self.decoded.append(decoded[: self.execute_steps])
        self.imagined, self.segment_start = list(imagined), len(self.real)
        return executable_actions(decoded, self.config.binary_grippers)[: self.execute_steps]

    def _close_segment(self) -> None:
        """Compare the last segment's imagined frames with the real frames its executed actions produced."""
        executed = self.real[self.segment_start:] if self.imagined else []
        if executed:
            imagined = np.stack(self.imagined[: len(executed)])
            real = np.stack(executed[: len(imagined)])
            masks = self.real_masks[self.segment_start: self.segment_start + len(real)]
            robot = masked_psnr(imagined, real, np.stack(masks)) if all(m is not None for m in masks) \
                else float("nan")
            self.gaps.append((psnr(imagined, real), ssim(imagined, real), robot))
            self.aligned.extend(imagined)
        self.imagined = []

    def episode_metrics(self) -> dict:
        self._close_segment()
        if not self.gaps:
            return {}
        psnrs, ssims, robot = zip(*self.gaps, strict=True)
        scores = self.scores[: len(self.gaps)]
        grippers = np.concatenate(self.decoded)[:, GRIPPERS]
        robot = [r for r in robot if np.isfinite(r)]  # a segment whose frames show no robot has none
        return {"segments": len(self.gaps), "gap_psnr_db": float(np.mean(psnrs)), "gap_ssim": float(np.mean(ssims)),
                "gap_robot_psnr_db": float(np.mean(robot)) if robot else None,
                "imagine_s": float(np.mean(self.imagine_s)),
                # what GRPO optimises, and the reward-hacking detectors (eva_bench.align.rewards), per segment
                "imagined_reward": float(np.mean([s.reward[0] for s in scores])),
                "motion": float(np.mean([s.motion[0] for s in scores])),
                "static_share": float(np.mean([s.static[0] for s in scores])),
                "gripper_out_of_range": float(np.mean([s.gripper_out_of_range[0] for s in scores])),
                # grippers whose decoded command never changes by 0.1 in the episode (of 2)
                "frozen_grippers": int((np.ptp(grippers, axis=0) < 0.1).sum())}

    def episode_videos(self) -> dict[str, list[np.ndarray]]:
        return {"imagined": self.aligned}
