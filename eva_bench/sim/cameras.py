"""Camera definitions and capture in RoboTwin's observation layout.

Static cameras stand in the world; wrist cameras ride on an arm's flange. Which cameras exist in a scene, and at
which resolution, is decided by the caller (a policy's needs plus the video log): nothing else is rendered.

Importing this module does not import SAPIEN (the policy contract reads `CAMERAS`, `DEFAULT_RESOLUTION`,
`parse_resolution` and `check_camera_names` from here): only `CameraSpec.local_pose` and `CameraRig` need it,
and they import it when called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import sapien

DEFAULT_RESOLUTION = (320, 240)  # width, height of a D435 in RoboTwin's "demo_clean" config
_NEAR, _FAR = 0.01, 10.0


@dataclass(frozen=True)
class CameraSpec:
    """Where a camera is and what it sees.

    Args:
        name: Key in the observation dict.
        position: Camera position (world frame for static cameras, flange frame for wrist cameras).
        forward: Viewing direction in the same frame.
        left: The image's left direction (completes the frame).
        fovy_deg: Vertical field of view.
        mount: None for a static camera, or the arm ('left'/'right') whose flange carries it.
    """

    name: str
    position: tuple[float, float, float]
    forward: tuple[float, float, float]
    left: tuple[float, float, float]
    fovy_deg: float = 37.0
    mount: str | None = None

    def local_pose(self) -> sapien.Pose:
        """Camera pose in its mount frame, in SAPIEN's camera convention (x forward, y left, z up)."""
        from eva_bench.sim.poses import frame

        return frame(self.forward, self.left, self.position)


CAMERAS: dict[str, CameraSpec] = {
    spec.name: spec
    for spec in (
        # RoboTwin's head camera (-0.032, -0.45, 1.35) moved 30 cm back and 10 cm up, aimed at the same table
        # point (-0.032, 0.0075, 0.74): from there the arms, mounted at y = -0.42, are in the picture from the
        # shoulders on (docs/robustness.md, "The 0.5 layout"); at RoboTwin's pose they are behind the lower edge.
        CameraSpec("head_camera", (-0.032, -0.75, 1.45), (0.0, 0.7575, -0.71), (-1.0, 0.0, 0.0)),
        CameraSpec("front_camera", (0.20, -0.45, 0.85), (0.0, 1.0, -0.1), (-1.0, 0.0, 0.0)),
        # Wrist cameras sit on top of the palm and look along the fingers, tilted down to see the grasp: the
        # finger tips frame the lower corners, the palm is a thin strip at the bottom.
        CameraSpec("left_camera", (0.05, 0.0, 0.04), (1.0, 0.0, -0.25), (0.0, 1.0, 0.0), 60.0, "left"),
        CameraSpec("right_camera", (0.05, 0.0, 0.04), (1.0, 0.0, -0.25), (0.0, 1.0, 0.0), 60.0, "right"),
    )
}


def parse_resolution(text: str) -> tuple[int, int]:
    """(width, height) from "WIDTHxHEIGHT", e.g. "320x240".

    Raises:
        ValueError: The text is not of that form or a size is not positive.
    """
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"a resolution looks like 320x240, got {text!r}") from None
    if width <= 0 or height <= 0:
        raise ValueError(f"a resolution must be positive, got {text!r}")
    return width, height


def camera_alias(name: str, resolution: tuple[int, int]) -> str:
    """A second view of camera `name` at another resolution, "head_camera@160x120": requested beside `name`
    itself, it is the same camera (pose, field of view) rendered at `resolution` (the reward video does this
    when a policy watches the head camera at another size)."""
    return f"{name}@{int(resolution[0])}x{int(resolution[1])}"


def camera_spec(view: str) -> CameraSpec:
    """The spec of a camera name or of an alias made by `camera_alias`."""
    return CAMERAS[view.split("@", 1)[0]]


def view_digest(camera: str) -> str:
    """A short hash of what `camera` shows of the robot: its spec and the embodiment (mounts, home pose,
    drives). An IDM records it at training; frames from another view are not what it learned to decode."""
    import hashlib
    import json

    from eva_bench.sim.embodiment import PIPER_BIMANUAL

    text = json.dumps({"camera": asdict(camera_spec(camera)), "embodiment": PIPER_BIMANUAL.digest()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def check_camera_names(names) -> None:
    """Raise a clear error for unknown camera names (aliases of known cameras are accepted)."""
    unknown = sorted(n for n in set(names) if n.split("@", 1)[0] not in CAMERAS)
    if unknown:
        raise ValueError(f"unknown camera(s) {unknown}; available: {sorted(CAMERAS)}")


class CameraRig:
    """The cameras of one scene, created at the requested resolutions.

    Args:
        scene: The scene to add cameras to.
        requests: Camera name -> (width, height).
        flanges: Arm name -> flange entity, for wrist cameras.
    """

    def __init__(
        self, scene: sapien.Scene, requests: Mapping[str, tuple[int, int]], flanges: Mapping[str, sapien.Entity]
    ) -> None:
        import sapien

        check_camera_names(requests)
        self._cameras: dict[str, sapien.render.RenderCameraComponent] = {}
        for name, (width, height) in requests.items():
            spec = camera_spec(name)
            camera = sapien.render.RenderCameraComponent(int(width), int(height))
            camera.set_perspective_parameters(_NEAR, _FAR, *focal_parameters(width, height, spec.fovy_deg))
            camera.name = name
            if spec.mount is None:
                entity = sapien.Entity()
                entity.name = name
                entity.add_component(camera)
                entity.set_pose(spec.local_pose())
                scene.add_entity(entity)
            else:
                flanges[spec.mount].add_component(camera)
                camera.set_local_pose(spec.local_pose())
            self._cameras[name] = camera

    @property
    def names(self) -> list[str]:
        """Names of the cameras in this rig."""
        return list(self._cameras)

    def capture(self, names=None, masked=(), mask_ids=()) -> dict[str, dict[str, np.ndarray]]:
        """Render `names` (default: all) after `scene.update_render()` and return RoboTwin's per-camera dict.

        Args:
            names: Cameras to render.
            masked: Cameras of `names` whose dict also gets "robot_mask".
            mask_ids: Entity ids (`per_scene_id`) that "robot_mask" marks.

        Returns:
            name -> {"rgb": (H, W, 3) uint8, "intrinsic_cv": (3, 3), "extrinsic_cv": (3, 4),
            "cam2world_gl": (4, 4)}, plus "robot_mask" (H, W) bool (pixels of `mask_ids`) for `masked`.
        """
        out = {}
        for name in self._cameras if names is None else names:
            camera = self._cameras[name]
            camera.take_picture()
            rgba = camera.get_picture("Color")  # (H, W, 4) float32 in [0, 1]
            out[name] = {
                "rgb": (np.clip(rgba[..., :3], 0, 1) * 255 + 0.5).astype(np.uint8),
                "intrinsic_cv": camera.get_intrinsic_matrix().astype(np.float32),
                "extrinsic_cv": camera.get_extrinsic_matrix().astype(np.float32),
                "cam2world_gl": camera.get_model_matrix().astype(np.float32),
            }
            if name in masked:  # actor-level ids are channel 1 of SAPIEN's segmentation picture
                out[name]["robot_mask"] = np.isin(camera.get_picture("Segmentation")[..., 1], mask_ids)
        return out


def focal_parameters(width: int, height: int, fovy_deg: float) -> tuple[float, float, float, float, float]:
    """(fx, fy, cx, cy, skew) of a pinhole camera with square pixels and the given vertical FOV."""
    fy = height / 2 / np.tan(np.deg2rad(fovy_deg) / 2)
    return fy, fy, width / 2, height / 2, 0.0
