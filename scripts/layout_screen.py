"""Screen candidate layouts (home pose x head-camera position) at frame 0: how much of the grippers and forearms
the head camera shows and how much of the task objects the arms leave visible (docs/robustness.md, "Layout").

    .venv/bin/python scripts/layout_screen.py --tasks click_bell,handover_block,place_object_basket \
        --homes="-15,105,-115,0,60,0;0,75,-70,0,55,0" --cameras="-0.032,-0.75,1.45;-0.032,-0.45,1.35"

Each camera keeps the head camera's field of view and is aimed at the table point RoboTwin's head camera looks
at. The arms are teleported to each home pose in the task's scene at seed 100000 (no expert is run: whether
the expert still solves the tasks from a home pose is `eva-bench tasks expert`'s job, after the pose is made the
default). Prints one JSON line per candidate: the minimum over tasks of the gripper in-frame fraction, the mean
forearm in-frame fraction and the minimum share of object pixels left visible.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

import numpy as np

from eva_bench.sim import cameras
from eva_bench.sim.embodiment import ARMS, MIRROR, PIPER_BIMANUAL
from eva_bench.sim.env import BimanualEnv
from eva_bench.task import TASKS
from eva_bench.visibility import FrameMeter

AIM = np.array([-0.032, 0.0075, 0.74])  # where RoboTwin's head camera's optical axis meets the table


def _triples(text: str, size: int) -> list[tuple[float, ...]]:
    out = [tuple(float(v) for v in part.split(",")) for part in text.split(";") if part.strip()]
    if any(len(t) != size for t in out):
        raise SystemExit(f"each entry needs {size} comma-separated numbers: {text!r}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="click_bell,handover_block,place_object_basket,place_dual_shoes")
    parser.add_argument("--homes", required=True, help="';'-separated left-arm home poses, 6 angles in degrees")
    parser.add_argument("--cameras", required=True, help="';'-separated head-camera positions x,y,z (m)")
    parser.add_argument("--seed", type=int, default=100000)
    args = parser.parse_args()
    homes, positions = _triples(args.homes, 6), _triples(args.cameras, 3)
    limits = PIPER_BIMANUAL.arm.lower, PIPER_BIMANUAL.arm.upper
    base_camera = cameras.CAMERAS["head_camera"]
    env = BimanualEnv(cameras={"head_camera": (320, 240)})
    results: dict[tuple, list] = {}
    for task in args.tasks.split(","):
        env.reset(TASKS.get(task), args.seed)
        for position in positions:
            forward = AIM - np.array(position)
            cameras.CAMERAS["head_camera"] = replace(base_camera, position=position,
                                                     forward=tuple(forward / np.linalg.norm(forward)))
            meter = FrameMeter(env, "head_camera", (320, 240))
            for home in homes:
                left = np.deg2rad(home)
                if np.any(np.minimum(left, left * MIRROR) < limits[0]) or np.any(np.maximum(left, left * MIRROR) >
                                                                                  limits[1]):
                    continue
                env.arms["left"].reset(left, 1.0)
                env.arms["right"].reset(left * MIRROR, 1.0)
                f = meter.fractions()
                results.setdefault((position, home), []).append((
                    np.nanmean([f[(arm, "gripper")] for arm in ARMS]),
                    np.nanmean([f[(arm, "forearm")] for arm in ARMS]),
                    meter.objects_unhidden()))
    cameras.CAMERAS["head_camera"] = base_camera
    for (position, home), values in results.items():
        v = np.array(values, dtype=float)
        sys.stdout.write(json.dumps({"camera": position, "home": home,
                                     "gripper_min": round(float(np.nanmin(v[:, 0])), 3),
                                     "forearm_mean": round(float(np.nanmean(v[:, 1])), 3),
                                     "objects_visible_min": round(float(np.nanmin(v[:, 2])), 3)}) + "\n")


if __name__ == "__main__":
    main()
