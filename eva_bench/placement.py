"""Where a held object goes: `Placement` and the TCP waypoints it implies.

A scripted expert states placements as targets for an object's functional point; the TCP poses follow from how
the object sits in the gripper. `Motion.grasp(..., then=...)` uses the same computation to pick grasps that make
the placement reachable before committing to them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np
import sapien

from eva_bench.sim.objects import SimObject
from eva_bench.sim.poses import rotation

Then = Union["Placement", Sequence["Placement"], Callable[[sapien.Pose], Sequence["Placement"]], None]


def alternatives(then: Then, grasp: sapien.Pose) -> list[Placement]:
    """The placement alternatives `then` stands for, for a grasp at `grasp`."""
    if then is None:
        return []
    if isinstance(then, Placement):
        return [then]
    if callable(then):
        return list(then(grasp))
    return list(then)


def retreat_pose(tcp: sapien.Pose, distance: float, axis: str) -> sapien.Pose:
    """`tcp` moved back by `distance` along its approach axis ("approach") or straight up ("up")."""
    if axis == "approach":
        direction = -rotation(tcp)[:, 0]
    elif axis == "up":
        direction = np.array([0.0, 0.0, 1.0])
    else:
        raise ValueError(f"retreat axis must be 'approach' or 'up', got {axis!r}")
    return sapien.Pose(tcp.p + distance * direction, tcp.q)


@dataclass(frozen=True)
class Placement:
    """Where a held object goes.

    Args:
        target: Target of the object's functional point (or origin); with `align`, also its orientation
            (otherwise the object keeps the orientation it has in the gripper).
        functional_point: Index of the object's functional point to bring to the target; None for the origin.
        pre_dis: Height above the target of the approach waypoint (m).
        dis: Height above the target where the object is released (m).
        align: Whether to rotate the object to `target`'s orientation.
        lift: Straight lift (m) right after the grasp, before carrying the object over.
        retreat: Backing-off distance (m) once the object is let go; `place` does it after releasing,
            `handover` after the other arm has taken over.
        retreat_axis: "approach" backs off along the gripper's approach axis, "up" rises vertically.
        supports: What the object is set down on (a plate, a pad): the final descent may come close to them.
        point: The functional point in the object's frame (filled by `Placement.of`).
    """

    target: sapien.Pose
    functional_point: int | None = None
    pre_dis: float = 0.1
    dis: float = 0.02
    align: bool = False
    lift: float = 0.0
    retreat: float = 0.0
    retreat_axis: str = "approach"
    supports: tuple[SimObject, ...] = ()
    point: sapien.Pose = sapien.Pose()

    @classmethod
    def of(cls, obj: SimObject, target: sapien.Pose, functional_point: int | None = None, **kwargs) -> Placement:
        """A placement of `obj`'s functional point (or origin) at `target`."""
        point = obj.functional_points[functional_point] if functional_point is not None else sapien.Pose()
        return cls(target, functional_point, point=point, **kwargs)

    def tcp_poses(self, obj_pose: sapien.Pose, tcp: sapien.Pose) -> list[sapien.Pose]:
        """TCP waypoints (lift, approach, release, retreat) for an object at `obj_pose` held at `tcp`.

        Zero-length stages (no lift, no retreat) are left out. The descent to the release pose is the only
        stage that must be a straight line.
        """
        point_world = obj_pose * self.point
        orientation = self.target.q if self.align else point_world.q
        new_obj = sapien.Pose(self.target.p, orientation) * self.point.inv()
        final = new_obj * (obj_pose.inv() * tcp)
        up = np.array([0.0, 0.0, 1.0])
        release = sapien.Pose(final.p + self.dis * up, final.q)
        poses = [sapien.Pose(tcp.p + self.lift * up, tcp.q)] if self.lift else []
        poses += [sapien.Pose(final.p + self.pre_dis * up, final.q), release]
        if self.retreat:
            poses.append(retreat_pose(release, self.retreat, self.retreat_axis))
        return poses
