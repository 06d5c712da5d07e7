"""`eva-bench imagine`: what a world model imagines for one task and seed, beside the ground truth.

The scripted expert solves the seed; its head-camera video (at the world model's frame size) is the ground
truth. Segment k is imagined from the real frames up to frame s_k = k x (segment frames): the real history is
always the expert's (teacher forcing), so each segment shows what the model makes of a real state, not how
errors compound. Written to `out/`:

- `<task>_seed<S>.mp4`: imagined | real, side by side, frame by frame (the first frame is real on both sides);
- `<task>_seed<S>_joints.png`: the 14 joint and gripper commands over time: the expert's, the IDM's decoding of
  the real video and the IDM's decoding of the imagined one (the paper's Figure 2 style);
- `<task>_seed<S>.json`: PSNR and SSIM of each imagined segment against the real frames, and the IDM reward of
  the imagined and of the real video.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from eva_bench.idm.scoring import RewardScorer
from eva_bench.report.figures import joints_figure
from eva_bench.task import TASKS
from eva_bench.world_model.image_metrics import psnr, ssim
from eva_bench.world_model.pipeline import WorldModelPipeline


@dataclass
class ImaginedEpisode:
    """What `imagine_episode` measured (the JSON file), and the arrays behind the figures."""

    task: str
    seed: int
    instruction: str
    segments: int
    segment_frames: int
    psnr_db: list[float]
    ssim: list[float]
    reward_imagined: float
    reward_real: float
    files: dict

    def to_dict(self) -> dict:
        return asdict(self)


def imagine_frames(pipeline: WorldModelPipeline, real: np.ndarray, instruction: str, segments: int, seed: int,
                   steps: int = 10) -> np.ndarray:
    """Imagined frames aligned with `real` (T, H, W, 3): frame 0 real, then `segments` segments, each imagined
    from the real frames up to its start (at most T - 1 imagined frames)."""
    group = pipeline.group
    length = pipeline.sampling.segment_latents * group
    out = [real[0]]
    for k in range(segments):
        start = k * length
        if start + 1 >= len(real):
            break
        history = real[max(0, start + 1 - group): start + 1]
        frames = pipeline.imagine(history, instruction, seed=seed * 10_007 + k, steps=steps)
        out.extend(frames[: len(real) - 1 - start])
    return np.stack(out)


def imagine_episode(pipeline: WorldModelPipeline, scorer: RewardScorer, task: str, seed: int, out: Path,
                    segments: int = 4, steps: int = 10, instruction_kind: str = "seen") -> ImaginedEpisode:
    """Imagine `segments` segments of `task` at `seed` and write the files of the module docstring to `out`.

    Raises:
        UnknownNameError: No such task.
        RuntimeError: The expert cannot solve that seed.
    """
    from eva_bench.expert import expert_video
    from eva_bench.sim.env import BimanualEnv
    from eva_bench.video import write_mp4

    TASKS.get(task)  # an unknown name fails here, listing the tasks
    camera = "head_camera"
    env = BimanualEnv(cameras={camera: pipeline.frame_size})
    real, actions = expert_video(env, task, seed, camera)
    instruction = env.task.episode_instruction(seed, instruction_kind)  # the scene the replay left
    imagined = imagine_frames(pipeline, real, instruction, segments, seed, steps)
    real = real[: len(imagined)]
    length = pipeline.sampling.segment_latents * pipeline.group
    bounds = [(1 + k * length, min(1 + (k + 1) * length, len(real))) for k in range(-(-(len(real) - 1) // length))]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{task}_seed{seed}"
    video = write_mp4(out / f"{stem}.mp4", np.concatenate([imagined, real], axis=2), fps=10)
    decoded_real, decoded_imagined = scorer.decode(real)[1:], scorer.decode(imagined)[1:]
    figure = joints_figure(out / f"{stem}_joints.png", {
        "expert": actions[: len(real) - 1], "IDM on real": decoded_real, "IDM on imagined": decoded_imagined,
    }, f"{task} seed {seed}: {instruction}")
    result = ImaginedEpisode(
        task=task, seed=seed, instruction=instruction, segments=len(bounds), segment_frames=length,
        psnr_db=[psnr(imagined[a:b], real[a:b]) for a, b in bounds],
        ssim=[ssim(imagined[a:b], real[a:b]) for a, b in bounds],
        reward_imagined=scorer.score(imagined).reward, reward_real=scorer.score(real).reward,
        files={"video": str(video), "joints": str(figure)},
    )
    (out / f"{stem}.json").write_text(json.dumps(result.to_dict(), indent=1) + "\n")
    return result
