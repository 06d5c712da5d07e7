"""How much of each arm a camera sees: the IDM can only decode joints whose links are in the picture.

The measure is the *in-frame fraction* of a part (gripper, forearm, upper arm of each arm): of the part's
unoccluded pixels in a camera with the same pose and focal length but a sensor `MARGIN` times larger each way,
the share that falls inside the real frame. A part wholly in view scores 1, a part wholly outside (or hidden
behind objects everywhere) 0; a part hidden behind an object counts in neither, so occlusion by the scene does
not lower the score, leaving the frame itself as the thing measured.

Measured over the expert's episode at the evaluation seeds, per phase: the home pose (frame 0), then the mean
over every `stride`-th frame of the first, second and last third of the episode, and the minimum over the
episode (`eva-bench tasks visibility`).

A layout that shows the arms must not hide the task: the pseudo-part "objects" (arm "both") is the share of the
task objects' pixels in the real frame at the home pose that the arms leave visible (1 = the arms hide nothing),
measured by rendering once more with both arms moved out of the scene.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from eva_bench.sim.embodiment import ARMS

MARGIN = 3  # the measuring sensor is this many times the real one in width and height
#: Link names (URDF, `eva_bench.sim.urdf`) of each measured part of an arm.
PARTS = {
    "gripper": ("link6", "finger_left", "finger_right"),
    "forearm": ("link3", "link4", "link5"),
    "upper_arm": ("link2",),
}
PHASES = ("home", "first third", "second third", "last third", "worst")
_AWAY = 50.0  # metres the arms are moved (along -y) to render the scene without them


class FrameMeter:
    """Renders actor segmentation of one camera's pose with an enlarged sensor in the env's current scene.

    Args:
        env: A reset `BimanualEnv` (rendering enabled).
        camera: A static camera name of `eva_bench.sim.cameras.CAMERAS`.
        resolution: The real frame's (width, height).
    """

    def __init__(self, env, camera: str, resolution: tuple[int, int]) -> None:
        import sapien

        from eva_bench.sim.cameras import CAMERAS, focal_parameters

        spec = CAMERAS[camera]
        if spec.mount is not None:
            raise ValueError(f"{camera} rides on an arm; visibility is measured for static cameras")
        self.width, self.height = resolution
        big = (self.width * MARGIN, self.height * MARGIN)
        self.camera = sapien.render.RenderCameraComponent(*big)
        fx, fy, _, _, skew = focal_parameters(self.width, self.height, spec.fovy_deg)
        self.camera.set_perspective_parameters(0.01, 10.0, fx, fy, big[0] / 2, big[1] / 2, skew)
        entity = sapien.Entity()
        entity.name = f"{camera}_visibility"
        entity.add_component(self.camera)
        entity.set_pose(spec.local_pose())
        env.scene.add_entity(entity)
        self.env = env
        self.ids = {
            (arm, part): {env.arms[arm].articulation.find_link_by_name(n).entity.per_scene_id for n in names}
            for arm in ARMS for part, names in PARTS.items()
        }
        robot = set().union(*self.ids.values()) | {
            link.entity.per_scene_id for c in env.arms.values() for link in c.articulation.get_links()}
        self.object_ids = np.array(sorted(
            e.per_scene_id for e in env.scene.get_entities()
            if e not in env.workspace and e.per_scene_id not in robot), dtype=np.int64)

    def segmentation(self) -> np.ndarray:
        """Actor ids of the enlarged view, (H * MARGIN, W * MARGIN) uint32."""
        self.env.scene.update_render()
        self.camera.take_picture()
        return self.camera.get_picture("Segmentation")[..., 1]

    def fractions(self) -> dict[tuple[str, str], float]:
        """(arm, part) -> in-frame fraction now (NaN when no pixel of the part is seen at all)."""
        ids = self.segmentation()
        x0, y0 = (MARGIN - 1) * self.width // 2, (MARGIN - 1) * self.height // 2
        size = int(ids.max()) + 1
        total = np.bincount(ids.ravel(), minlength=size)  # pixels per actor id, once for all parts
        seen = np.bincount(ids[y0 : y0 + self.height, x0 : x0 + self.width].ravel(), minlength=size)
        out = {}
        for key, part_ids in self.ids.items():
            part = [i for i in part_ids if i < size]
            count = int(total[part].sum())
            out[key] = int(seen[part].sum()) / count if count else float("nan")
        return out

    def objects_unhidden(self) -> float:
        """Share of the task objects' pixels in the real frame that the arms leave visible now (NaN if none)."""
        import sapien

        with_arms = self._object_pixels()
        poses = {arm: c.articulation.get_root_pose() for arm, c in self.env.arms.items()}
        try:
            for arm, c in self.env.arms.items():
                c.articulation.set_root_pose(sapien.Pose(poses[arm].p - [0.0, _AWAY, 0.0], poses[arm].q))
            without = self._object_pixels()
        finally:
            for arm, c in self.env.arms.items():
                c.articulation.set_root_pose(poses[arm])
        return with_arms / without if without else float("nan")

    def _object_pixels(self) -> int:
        ids = self.segmentation()
        x0, y0 = (MARGIN - 1) * self.width // 2, (MARGIN - 1) * self.height // 2
        return int(np.isin(ids[y0 : y0 + self.height, x0 : x0 + self.width], self.object_ids).sum())


@dataclass(frozen=True)
class VisibilityRow:
    """One (task, seed, arm, part)'s in-frame fraction per phase."""

    task: str
    seed: int
    arm: str
    part: str
    values: tuple[float, ...]  # one per PHASES


def measure_episode(task: str, seed: int, camera: str = "head_camera", resolution=(320, 240),
                    stride: int = 5) -> list[VisibilityRow] | None:
    """The expert's episode of `task` at `seed`, measured every `stride` frames; None if the expert fails."""
    from eva_bench.expert import run_expert
    from eva_bench.task import TASKS
    from eva_bench.workers import worker_env

    task_cls = TASKS.get(task)
    result = run_expert(task_cls, seed, env=worker_env({}))
    if not result.solvable:
        return None
    env = worker_env({camera: tuple(resolution)})
    env.reset(task_cls, seed)
    meter = FrameMeter(env, camera, tuple(resolution))
    unhidden = meter.objects_unhidden()
    frames = [meter.fractions()]
    for step, action in enumerate(result.actions, start=1):
        env.step(action)
        if step % stride == 0 or step == len(result.actions):
            frames.append(meter.fractions())
    thirds = np.array_split(np.arange(1, len(frames)), 3)
    rows = []
    for key in meter.ids:
        series = np.array([f[key] for f in frames])
        phase_values = [series[0], *(_nanmean(series[idx]) for idx in thirds), _nanmin(series)]
        rows.append(VisibilityRow(task, seed, key[0], key[1], tuple(float(v) for v in phase_values)))
    nan = float("nan")
    rows.append(VisibilityRow(task, seed, "both", "objects", (unhidden, *[nan] * (len(PHASES) - 1))))
    return rows


def _nanmean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")


def _nanmin(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.min()) if len(values) else float("nan")


def _measure_job(args):
    return measure_episode(*args)


def measure(tasks: Sequence[str], seeds: Sequence[int], camera: str = "head_camera", resolution=(320, 240),
            stride: int = 5, workers: int = 1, progress: Callable[[int, int], None] | None = None
            ) -> list[VisibilityRow]:
    """Rows for every task and seed the expert solves."""
    from eva_bench.workers import map_jobs, worker_pool

    jobs = [(task, seed, camera, tuple(resolution), stride) for task in tasks for seed in seeds]
    rows: list[VisibilityRow] = []
    with worker_pool(workers) as pool:
        for done, result in enumerate(map_jobs(pool, _measure_job, jobs), start=1):
            rows.extend(result or [])
            if progress:
                progress(done, len(jobs))
    order = {t: i for i, t in enumerate(tasks)}
    return sorted(rows, key=lambda r: (order[r.task], r.seed, r.arm, r.part))


def table(rows: Sequence[VisibilityRow], parts: Sequence[str] = ("gripper", "forearm", "objects")) -> str:
    """Markdown: per task and part, the in-frame fraction per phase (both arms' mean; seeds averaged)."""
    tasks = list(dict.fromkeys(r.task for r in rows))
    header = ["task", "part", *PHASES]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    summary = {part: [] for part in parts}
    for task in tasks:
        for part in parts:
            chosen = [r for r in rows if r.task == task and r.part == part]
            if not chosen:
                continue
            means = _phase_summary(np.array([r.values for r in chosen], dtype=float))
            summary[part].append(means)
            lines.append(f"| {task} | {part} | " + " | ".join(_pct(v) for v in means) + " |")
    for part in parts:
        if not summary[part]:
            continue
        means = _phase_summary(np.array(summary[part], dtype=float))
        lines.append(f"| **all tasks** | {part} | " + " | ".join(_pct(v) for v in means) + " |")
    return "\n".join(lines)


def _phase_summary(values: np.ndarray) -> list[float]:
    """Rows of per-phase values -> the mean of each phase, and the minimum of the "worst" column."""
    return [_nanmean(values[:, i]) for i in range(len(PHASES) - 1)] + [_nanmin(values[:, -1])]


def _pct(value: float) -> str:
    return "-" if np.isnan(value) else f"{100 * value:.0f}%"
