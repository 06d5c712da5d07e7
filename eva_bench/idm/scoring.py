"""Reward scoring in one place: video -> IDM -> executability reward (EVA paper, section 4.2).

`RewardScorer` is what the runner (every episode's reward), `eva-bench reward calibrate` and Flow-GRPO (the
reward of each imagined segment) use. It holds the reward IDM, the reward constants stored beside it
(`reward.json`, with the calibrated P0; for a training run folder, `<run>/reward.json` also counts) and the
camera and resolution the IDM's training frames were recorded at (its *source*): a reward video must be
rendered there, whatever cameras a policy asks for, so an episode's reward does not depend on the policy.

`describe()` is what the results database stores about the scorer (checkpoint digest, reward constants,
source), so reports never read a checkpoint folder that may have changed since.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eva_bench.checkpoint import RUN_MODEL_DIR, Checkpoint, CheckpointError, read_checkpoint
from eva_bench.errors import UserError
from eva_bench.idm.reward import RewardBreakdown, RewardConfig, executability
from eva_bench.sim.cameras import view_digest
from eva_bench.sim.embodiment import ARMS, PIPER_BIMANUAL, gripper_index

log = logging.getLogger(__name__)

REWARD_CONFIG_FILE = "reward.json"  # beside an IDM checkpoint: the reward constants (calibrated P0)
LEGACY_SOURCE_FILE = "source.json"  # eva-bench 0.3: how an IDM's training frames were recorded
DEFAULT_CAMERA = "head_camera"


@dataclass(frozen=True)
class RewardSource:
    """Where a reward video comes from: the camera and (width, height) the reward IDM was trained on."""

    camera: str
    resolution: tuple[int, int]


def idm_source(checkpoint: Checkpoint) -> RewardSource:
    """The camera and resolution of an IDM's training frames: from its provenance (`data.camera`,
    `data.resolution`), else a 0.3 `source.json`, else the IDM's own input size on the head camera."""
    data = checkpoint.provenance.get("data") if isinstance(checkpoint.provenance, dict) else None
    if isinstance(data, dict) and data.get("resolution"):
        width, height = data["resolution"]
        return RewardSource(str(data.get("camera") or DEFAULT_CAMERA), (int(width), int(height)))
    legacy = checkpoint.folder / LEGACY_SOURCE_FILE
    if legacy.is_file():
        source = json.loads(legacy.read_text())
        width, height = source["resolution"]
        return RewardSource(source.get("camera", DEFAULT_CAMERA), (int(width), int(height)))
    return RewardSource(DEFAULT_CAMERA, (int(checkpoint.config["width"]), int(checkpoint.config["height"])))


def trained_view(checkpoint: Checkpoint) -> str:
    """The `view_digest` an IDM's training frames were recorded from ("" when unknown: before 0.5)."""
    data = checkpoint.provenance.get("data") if isinstance(checkpoint.provenance, dict) else None
    return str(data.get("view") or "") if isinstance(data, dict) else ""


class RewardScorer:
    """The executability reward of videos, as decoded by one IDM.

    Args:
        checkpoint: The reward IDM's checkpoint (digest and provenance are recorded with every score).
        config: The reward constants (default: `reward.json` beside the checkpoint, else `RewardConfig()`).
        device: Torch device of the IDM.
    """

    def __init__(self, checkpoint: Checkpoint, config: RewardConfig | None = None, device: str = "cpu") -> None:
        self.checkpoint, self.device = checkpoint, device
        self._model = None
        if config is None:
            path = reward_config_path(checkpoint)
            if path.is_file():
                config = RewardConfig.load(path)
            else:
                config = RewardConfig()
                log.warning("no %s beside the IDM at %s: the reward uses P0 = %s", REWARD_CONFIG_FILE,
                            checkpoint.folder, config.p0)
        self.config = config
        self.source = idm_source(checkpoint)
        view = trained_view(checkpoint)
        self.view_matches = view == view_digest(self.source.camera)
        if not self.view_matches:
            log.warning("the reward IDM at %s was not trained on this layout's %s view (%s); its rewards "
                        "decode frames unlike its training frames: train an IDM on demos of this layout",
                        checkpoint.folder, self.source.camera,
                        "another view" if view else "no view recorded: trained before 0.5")

    @property
    def model(self):
        """The IDM, loaded on first use (describing a scorer, as the main process of a run does, needs no
        weights)."""
        if self._model is None:
            from eva_bench.idm.model import IDM

            self._model = IDM.load(self.checkpoint.folder, map_location=self.device).to(self.device).eval()
        return self._model

    @classmethod
    def load(cls, folder: str | os.PathLike, device: str = "cpu") -> RewardScorer:
        """The scorer of the IDM checkpoint in `folder` (a checkpoint or a training run folder).

        Raises:
            CheckpointError: Missing, corrupt or modified checkpoint, or not an IDM.
        """
        return cls(read_checkpoint(folder, "idm"), device=device)

    def decode(self, video: np.ndarray) -> np.ndarray:
        """The action of every frame of a video (T, H, W, 3) uint8 -> (T, 14), as the IDM decodes it."""
        return self.model.decode_video(np.asarray(video))

    def score(self, video: np.ndarray) -> RewardBreakdown:
        """The executability reward (with every component) of a video of the source camera (T >= 2 frames).

        Frames of another size than the source resolution are accepted (the IDM resizes them) but give a
        reward that is not comparable with one of source-resolution frames; the runner renders the source.
        """
        return executability(self.decode(video), self.config)

    def describe(self) -> dict:
        """What a results row records about this scorer: path, digest, source and reward constants."""
        return {
            "checkpoint": str(self.checkpoint.folder),
            "digest": self.checkpoint.digest,
            "camera": self.source.camera,
            "resolution": list(self.source.resolution),
            "view_matches": self.view_matches,
            "reward_config": self.config.to_dict(),
        }


def executable_actions(decoded: np.ndarray, binary_grippers: bool = True) -> np.ndarray:
    """Decoded actions (T, 14) as a robot executes them: joints and grippers clipped to their ranges, as the
    controller would, and with `binary_grippers` each gripper command snapped to open (1) or closed (0) at 0.5.

    Why snap: the expert's gripper commands are open or closed apart from ramps of a few steps, but the IDM
    decodes a closed gripper at 0.2-0.4 where the fingers hardly show (a small object in the hand), which
    commands a gap wider than the object: it is not held. Snapped, a held-out closed gripper is decoded
    below 0.2 on 95% of frames (raw: 70%; docs/idm.md).
    """
    actions = np.clip(decoded, PIPER_BIMANUAL.action_lower(), PIPER_BIMANUAL.action_upper()).astype(np.float32)
    if binary_grippers:
        grippers = [gripper_index(arm) for arm in ARMS]
        actions[:, grippers] = (actions[:, grippers] > 0.5).astype(np.float32)
    return actions


def reward_config_path(checkpoint: Checkpoint) -> Path:
    """Where the reward constants of an IDM are: `reward.json` in its checkpoint folder, or, for the latest
    model of a training run (`<run>/model`), in the run folder when the model folder has none."""
    inside = checkpoint.folder / REWARD_CONFIG_FILE
    beside = checkpoint.folder.parent / REWARD_CONFIG_FILE
    return beside if not inside.is_file() and checkpoint.folder.name == RUN_MODEL_DIR and beside.is_file() else inside


def resolve_reward_idm(given: str | None) -> str:
    """The reward IDM folder a run uses: `given`; "" or "none" turns rewards off; None means the default
    (`$EVA_BENCH_IDM` or the released IDM).

    Raises:
        UserError: The checkpoint cannot be read; the message says how to give one or turn rewards off
            (a run never silently loses its rewards).
    """
    from eva_bench.paths import released_idm_dir

    if given is not None and given.strip().lower() in ("", "none"):
        return ""
    folder = Path(given) if given is not None else released_idm_dir()
    try:
        read_checkpoint(folder, "idm")
    except CheckpointError as error:
        what = "the reward IDM" if given is not None else "the default reward IDM ($EVA_BENCH_IDM or the released one)"
        raise UserError(f"cannot load {what}: {error}. Give one with --reward-idm PATH (train one with "
                        "`eva-bench train idm`), or turn rewards off with --reward-idm none") from None
    return str(folder)
