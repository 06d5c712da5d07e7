"""Rewards of imagined segments and the reward-hacking detectors (paper section 4.2, appendix C).

The reward of a rollout is the executability R of the frozen IDM's decoding of history + imagined frames (or,
for tests and smoke runs, the toy "brightness"). R alone is blind to a motionless robot (a still video scores
about 1: docs/performance.md), so every rollout is also scored by detectors the reward does not
see, computed on the same decoding:

- **static**: the decoded arm joints move less than `static_threshold` rad (summed over the segment and the 12
  arm joints) while the prompt's expert moves more than twice as much;
- **gripper out of range**: the share of decoded gripper commands outside [0, 1] by more than 0.05;
- **frozen gripper**: a gripper command that never changes by 0.1 while the expert's opens or closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eva_bench.sim.embodiment import ARMS, gripper_index

GRIPPERS = [gripper_index(arm) for arm in ARMS]
ARM_JOINTS = [i for i in range(14) if i not in GRIPPERS]


def joint_motion(actions: np.ndarray) -> float:
    """Summed absolute change of the arm joints over an action sequence (T, 14), rad."""
    return float(np.abs(np.diff(actions[:, ARM_JOINTS], axis=0)).sum()) if len(actions) > 1 else 0.0


@dataclass
class SegmentScores:
    """Scores of G rollouts of one prompt: the reward and components (G,), and the detectors."""

    reward: np.ndarray
    components: dict[str, np.ndarray] = field(default_factory=dict)
    motion: np.ndarray | None = None
    static: np.ndarray | None = None
    gripper_out_of_range: np.ndarray | None = None
    frozen_gripper: np.ndarray | None = None

    def detector_means(self) -> dict[str, float]:
        """The detectors' means over the rollouts (empty without an IDM)."""
        names = ("motion", "static", "gripper_out_of_range", "frozen_gripper")
        return {n: float(np.mean(getattr(self, n))) for n in names if getattr(self, n) is not None}


class SegmentReward:
    """Scores imagined segments that continue real history frames.

    Args:
        kind: "idm" or "brightness".
        scorer: The frozen IDM's `RewardScorer` (required for "idm"; for "brightness" it adds the detectors).
        static_threshold: See the module docstring.
    """

    def __init__(self, kind: str, scorer=None, static_threshold: float = 0.05) -> None:
        if kind == "idm" and scorer is None:
            raise ValueError("the idm reward needs a reward IDM")
        self.kind, self.scorer, self.static_threshold = kind, scorer, static_threshold

    def __call__(self, history: np.ndarray, imagined: np.ndarray, expert: np.ndarray | None = None) -> SegmentScores:
        """Scores of rollouts `imagined` (G, F, H, W, 3) uint8 after `history` (Hh, H, W, 3) uint8; `expert`:
        the recorded actions (F + 1, 14) from the last history frame on, for the detectors."""
        decoded = None if self.scorer is None else np.stack(
            [self.scorer.decode(np.concatenate([history, video]))[len(history) - 1:] for video in imagined])
        if self.kind == "idm":
            return self.score_decoded(decoded, expert)
        scores = SegmentScores(reward=imagined.reshape(len(imagined), -1).mean(1) / 255.0)
        if decoded is not None:
            self._detect(scores, decoded, expert)
        return scores

    def score_decoded(self, decoded: np.ndarray, expert: np.ndarray | None = None) -> SegmentScores:
        """The idm reward and the detectors of already decoded rollouts (G, F + 1, 14): the IDM's actions from
        the last history frame on (what a policy that decodes anyway passes, saving a second decoding)."""
        from eva_bench.idm.reward import executability

        breakdowns = [executability(actions, self.scorer.config) for actions in decoded]
        components = {k: np.array([b.to_dict()[k] for b in breakdowns], np.float64)
                      for k in ("vel_limit", "acc_limit", "acc_huber", "jerk_huber", "penalty")}
        scores = SegmentScores(reward=np.array([b.reward for b in breakdowns]), components=components)
        self._detect(scores, np.asarray(decoded), expert)
        return scores

    def _detect(self, scores: SegmentScores, decoded: np.ndarray, expert: np.ndarray | None) -> None:
        motion = np.array([joint_motion(a) for a in decoded])
        expert_motion = joint_motion(expert) if expert is not None else np.inf
        scores.motion = motion
        scores.static = (motion < self.static_threshold) & (expert_motion > 2 * self.static_threshold)
        grippers = decoded[:, :, GRIPPERS]
        scores.gripper_out_of_range = ((grippers < -0.05) | (grippers > 1.05)).mean(axis=(1, 2))
        expert_switch = np.ptp(expert[:, GRIPPERS], axis=0) > 0.5 if expert is not None else np.ones(2, bool)
        frozen = (np.ptp(grippers, axis=1) < 0.1) & expert_switch[None]
        scores.frozen_gripper = frozen.any(axis=1).astype(np.float64)
