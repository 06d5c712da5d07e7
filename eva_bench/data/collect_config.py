"""`CollectConfig`: the settings of one demonstration collection (`eva-bench collect` takes its defaults and help
texts from here). Kept free of SAPIEN so the command line starts fast; `eva_bench.data.collect` collects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eva_bench.errors import UserError
from eva_bench.sim.cameras import DEFAULT_RESOLUTION, check_camera_names

FORMAT = "eva-bench-demos/1"
DEFAULT_CAMERAS = ("head_camera", "left_camera", "right_camera")
VIDEO_CAMERA = "head_camera"


@dataclass
class CollectConfig:
    """One collection.

    Args:
        tasks: Task names.
        out: Output folder (created; an existing collection there is continued).
        episodes: Successful episodes to keep per task (RoboTwin: 50).
        workers: Parallel worker processes.
        cameras: Cameras to record (must include head_camera, the episode video).
        resolution: (width, height) of every camera.
    """

    tasks: list[str]
    out: Path
    episodes: int = 50
    workers: int = 1
    cameras: tuple[str, ...] = DEFAULT_CAMERAS
    resolution: tuple[int, int] = DEFAULT_RESOLUTION

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise UserError(f"episodes must be >= 1, got {self.episodes}")
        if self.workers < 1:
            raise UserError(f"workers must be >= 1, got {self.workers}")
        from eva_bench.task import TASKS

        for task in self.tasks:
            TASKS.get(task)
        try:
            check_camera_names(self.cameras)
        except ValueError as error:
            raise UserError(str(error)) from error
        if VIDEO_CAMERA not in self.cameras:
            raise UserError(f"the cameras must include {VIDEO_CAMERA} (the episode video)")
        width, height = self.resolution
        if width < 16 or height < 16 or width % 2 or height % 2:
            raise UserError(f"resolution must be even and at least 16x16, got {width}x{height}")
        self.out = Path(self.out)

    def settings(self) -> dict:
        """What must match for a collection to be continued in the same folder."""
        from eva_bench.sim.embodiment import CONTROL_DT, PIPER_BIMANUAL

        return {
            "format": FORMAT,
            "embodiment": PIPER_BIMANUAL.digest(),
            "cameras": list(self.cameras),
            "resolution": list(self.resolution),
            "control_dt": CONTROL_DT,
        }
