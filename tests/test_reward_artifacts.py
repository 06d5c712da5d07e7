"""The executability reward of the released IDM ranks real expert videos above the same videos with visual or
temporal artifacts (the property Flow-GRPO relies on: a generated video that glitches must score lower)."""

from __future__ import annotations

import numpy as np
import pytest

from eva_bench.expert import replay, run_expert
from eva_bench.idm.scoring import RewardScorer
from eva_bench.paths import released_idm_dir
from eva_bench.sim.env import BimanualEnv

#: One task per kind of motion: a press, a single-arm pick and place, a two-arm handover.
_CASES = (("click_bell", 100000), ("place_a2b_right", 100001), ("handover_mic", 100002))


def _swapped(video: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Four pairs of frames three apart exchanged (a generator that loses temporal order for a moment)."""
    out = video.copy()
    for start in rng.choice(len(video) - 3, 4, replace=False):
        out[[start, start + 3]] = out[[start + 3, start]]
    return out


def _dropped(video: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Every fourth frame missing (motion that jumps)."""
    return np.delete(video, np.arange(int(rng.integers(4)), len(video), 4), axis=0)


def _blotched(video: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A grey 24x24 blotch at a random place on a quarter of the frames."""
    out = video.copy()
    height, width = video.shape[1:3]
    for t in rng.choice(len(video), len(video) // 4, replace=False):
        y, x = int(rng.integers(height - 24)), int(rng.integers(width - 24))
        out[t, y:y + 24, x:x + 24] = 128
    return out


def _noisy(video: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gaussian pixel noise, sigma 20 of 255, on every frame."""
    return np.clip(video + rng.normal(0.0, 20.0, video.shape), 0, 255).astype(np.uint8)


_ARTIFACTS = {"swapped": _swapped, "dropped": _dropped, "blotched": _blotched, "noisy": _noisy}


@pytest.fixture(scope="module")
def scorer() -> RewardScorer:
    return RewardScorer.load(released_idm_dir())


@pytest.fixture(scope="module")
def expert_videos(scorer) -> dict[str, np.ndarray]:
    """The expert's video of each case, rendered from the reward IDM's camera at its resolution."""
    camera, size = scorer.source.camera, scorer.source.resolution
    env = BimanualEnv(cameras={camera: size})
    videos = {}
    for task, seed in _CASES:
        plan = run_expert(task, seed)
        assert plan.solvable, f"{task} seed {seed}: {plan.reason}"
        videos[task] = np.stack([row["observation"][camera]["rgb"] for row in replay(env, task, seed, plan.actions)])
    return videos


@pytest.mark.parametrize("artifact", sorted(_ARTIFACTS))
def test_reward_ranks_real_videos_above_artifacts(scorer, expert_videos, artifact) -> None:
    rng = np.random.default_rng(0)
    for task, video in expert_videos.items():
        real = scorer.score(video).reward
        damaged = scorer.score(_ARTIFACTS[artifact](video, rng)).reward
        assert damaged < real, f"{task}: {artifact} video scores {damaged:.3f}, the real one {real:.3f}"
