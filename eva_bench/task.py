"""The task contract: what one RoboTwin-style task file declares and implements.

A task subclass declares its facts as class attributes (name, version, step limit, arm usage, instruction
templates) and implements three hooks:

* `load()`: build the objects, randomized with `self.rng` (the episode's seeded generator);
* `check_success()`: RoboTwin's success rule, cheap enough to run after every physics sub-step;
* `play_expert(motion)`: the scripted expert, written with the shared primitives of `eva_bench.motion`.

Two more hooks make the task testable by the suite that runs over the registry (tests/test_task_rules.py):

* `randomization_ranges()`: the declared ranges of the initial object poses (checked over many seeds);
* `stage(case)`: put the scene by hand into a success configuration ("success") or into one of the
  `near_misses` (each just outside the rule), using the helpers of `eva_bench.staging`.

Tasks register themselves with `@register_task`; the engine finds them through the registry only.
"""

from __future__ import annotations

import abc
import re
import string
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
import sapien

from eva_bench.registry import Registry

if TYPE_CHECKING:
    from eva_bench.motion import Motion
    from eva_bench.sim.env import BimanualEnv
    from eva_bench.sim.objects import SimObject

InstructionKind = Literal["seen", "unseen"]
#: Measures a range can bound: world x, y, z of the object origin, |x|, and yaw (rad, about world z).
RANGE_MEASURES = ("x", "y", "z", "abs_x", "yaw")
Ranges = dict[str, dict[str, tuple[float, float]]]
#: The most a pushing gripper's approach may lean from the push direction (rad): the expert tilts a push up to
#: 60 deg from the object's push axis where the wrist needs it (`motion._TILTS`; seen at 62.5 deg under contact).
PUSH_TILT = np.deg2rad(65.0)
#: The most a pressing gripper may lean from straight down (rad). The experts' presses lean at most 30 deg
#: (training seeds 0..49); a sideways-swinging closed hand reached a button at 63 deg (docs/tasks.md).
PRESS_TILT = np.deg2rad(45.0)
TASKS: Registry[type[Task]] = Registry("task", "eva_bench.tasks")

_MIN_SEEN, _MIN_UNSEEN = 20, 5


def derived_step_limit(expert_max_steps: int) -> int:
    """The step limit our tasks use: twice the longest expert episode, rounded up to a multiple of 50.

    A learned policy gets room for hesitation and retries; the longest expert episode comes from our own
    expert's measured lengths (`eva-bench tasks expert` prints it and the limit it implies).
    """
    return int(50 * np.ceil(2 * expert_max_steps / 50))


class Task(abc.ABC):
    """Base class of all tasks.

    Class attributes (required on every concrete task):
        name: Registry name, e.g. "click_bell".
        version: Bumped whenever randomization or the success rule changes; stored with every result.
        step_limit: Maximum number of control steps (policy actions) per evaluation episode; derived from
            `expert_max_steps` when a task gives that instead.
        arms: "single" (either arm, chosen by the scene) or "dual" (both arms needed).
        seen_instructions: Training instruction templates; `{slot}` fields are filled from
            `instruction_slots()`.
        unseen_instructions: Held-out templates for evaluation.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    step_limit: ClassVar[int]
    arms: ClassVar[Literal["single", "dual"]]
    seen_instructions: ClassVar[tuple[str, ...]]
    unseen_instructions: ClassVar[tuple[str, ...]]
    #: Longest expert episode (control steps) over training seeds 0..49, measured by
    #: `eva-bench tasks expert --seeds 50`; `step_limit` is derived from it by `derived_step_limit`.
    expert_max_steps: ClassVar[int | None] = None
    #: Names of the near-miss configurations `stage()` can build (each just outside the success rule).
    near_misses: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "__abstractmethods__", None):
            return
        if cls.expert_max_steps is not None and "step_limit" not in cls.__dict__:
            cls.step_limit = derived_step_limit(cls.expert_max_steps)
        missing = [a for a in ("name", "step_limit", "arms", "seen_instructions", "unseen_instructions")
                   if not hasattr(cls, a)]
        if missing:
            raise TypeError(f"task {cls.__name__} must define {missing}")
        if cls.arms not in ("single", "dual"):
            raise TypeError(f"task {cls.__name__}: arms must be 'single' or 'dual', got {cls.arms!r}")
        if len(cls.seen_instructions) < _MIN_SEEN or len(cls.unseen_instructions) < _MIN_UNSEEN:
            raise TypeError(
                f"task {cls.__name__} needs >= {_MIN_SEEN} seen and >= {_MIN_UNSEEN} unseen instructions"
            )
        overlap = set(cls.seen_instructions) & set(cls.unseen_instructions)
        if overlap:
            raise TypeError(f"task {cls.__name__}: unseen instructions repeat seen ones: {sorted(overlap)}")

    def __init__(self, env: BimanualEnv, rng: np.random.Generator) -> None:
        self.env = env
        self.rng = rng

    @property
    def task_id(self) -> str:
        """Versioned id, e.g. "click_bell-v1"."""
        return f"{self.name}-v{self.version}"

    @abc.abstractmethod
    def load(self) -> None:
        """Create and place the task's objects in `self.env.scene`, drawing randomness from `self.rng`."""

    @abc.abstractmethod
    def check_success(self) -> bool:
        """Whether the task is solved right now (called after every physics sub-step)."""

    @abc.abstractmethod
    def play_expert(self, motion: Motion) -> None:
        """Solve the task with the shared motion primitives (raises PlanningError when it cannot)."""

    def randomization_ranges(self) -> Ranges:
        """Declared ranges of the initial poses: {task attribute: {measure: (low, high)}}.

        The attribute names a `SimObject` (or a list of them: every element is checked); measures are those
        of `RANGE_MEASURES`. Evaluated after `load()`, so a range may depend on what was drawn (e.g. the
        side of another object).
        """
        return {}

    def stage(self, case: str) -> None:
        """Test hook: teleport objects (and set commands) into `case`: "success" or one of `near_misses`.

        The suite then runs one physics sub-step (to compute contacts) and expects `check_success()` to be
        True for "success" and False for every near miss.
        """
        raise NotImplementedError(f"{self.name} does not stage success configurations")

    def instruction_slots(self) -> dict[str, str]:
        """Values of the `{slot}` fields in the instruction templates (visible attributes of objects)."""
        return {}

    def instruction(self, kind: InstructionKind, rng: np.random.Generator) -> str:
        """One instruction of `kind`, drawn with `rng` (seeded by the caller, so runs are reproducible).

        An episode's instruction is `episode_instruction(seed, kind)`; this is the draw underneath it.
        """
        if kind not in ("seen", "unseen"):
            raise ValueError(f"instruction kind must be 'seen' or 'unseen', got {kind!r}")
        templates = self.seen_instructions if kind == "seen" else self.unseen_instructions
        text = templates[int(rng.integers(len(templates)))].format(**self.instruction_slots())
        return text[0].upper() + text[1:]

    def episode_instruction(self, seed: int, kind: InstructionKind) -> str:
        """The instruction of the episode on scene seed `seed`: the one rule that evaluation (`eva-bench run`),
        collection (stored in each episode file) and `eva-bench tasks render` share.

        Drawn from `kind`'s templates with `np.random.default_rng([seed, 1])`: a stream of its own, so the
        draw neither consumes nor depends on the scene's randomization (`self.rng`, seeded by `seed` alone).
        """
        return self.instruction(kind, np.random.default_rng([int(seed), 1]))

    @classmethod
    def template_slots(cls) -> set[str]:
        """Every `{slot}` name used by the templates."""
        slots = set()
        for template in (*cls.seen_instructions, *cls.unseen_instructions):
            slots.update(f for _, f, _, _ in string.Formatter().parse(template) if f)
        return slots

    @classmethod
    def summary(cls) -> str:
        """The first line of the task's docstring."""
        doc = (cls.__doc__ or "").strip()
        return re.split(r"\n", doc, maxsplit=1)[0]

    # Helpers shared by many success rules --------------------------------------------------------
    def side_arm(self, obj: SimObject) -> str:
        """RoboTwin's arm choice: the right arm for objects at x > 0, else the left."""
        return "right" if obj.pose.p[0] > 0 else "left"

    def both_grippers_open(self) -> bool:
        """Both grippers commanded open (> 0.8)."""
        return self.env.gripper_open("left") and self.env.gripper_open("right")

    def touches(self, arm: str, entity: sapien.Entity, near: sapien.Pose | None = None,
                box=(np.inf, np.inf, np.inf)) -> bool:
        """A contact between `arm`'s gripper (flange or fingers) and `entity`; if `near` is given, one within `box`
        (half extents in m, along `near`'s axes) of `near`'s origin. RoboTwin's boxes are world-aligned:
        `near=sapien.Pose(point)`."""
        points = self.env.contacts(entity, self.env.gripper_entities(arm))
        if near is None:
            return bool(points)
        to_box = near.inv().to_transformation_matrix()
        return any(np.all(np.abs(to_box[:3, :3] @ p + to_box[:3, 3]) < box) for p in points)

    def pushing(self, arm: str, entity: sapien.Entity, direction, near: sapien.Pose | None = None,
                box=(np.inf, np.inf, np.inf), tilt: float = PUSH_TILT) -> bool:
        """`arm` pushes `entity` along `direction` (world) the way the expert does: its gripper commanded closed,
        its approach axis within `tilt` of `direction`, touching `entity` (in the box of `touches`).

        RoboTwin's press, switch and lid rules check only a contact or a joint; a hand flailing into the object with
        open fingers or sideways meets those too (our random-action policy scored up to 30 % on them)."""
        approach = self.env.tcp_pose(arm).to_transformation_matrix()[:3, 0]
        return (self.env.gripper_closed(arm) and float(np.dot(approach, direction)) >= np.cos(tilt)
                and self.touches(arm, entity, near, box))

    def pressing(self, arm: str, entity: sapien.Entity, point, box) -> bool:
        """`arm` presses down on `entity` within `box` (world-aligned half extents) of `point`: `pushing` down,
        within `PRESS_TILT` of vertical."""
        return self.pushing(arm, entity, (0.0, 0.0, -1.0), sapien.Pose(point), box, PRESS_TILT)

    def gripping(self, arm: str, entity: sapien.Entity) -> bool:
        """Both of `arm`'s fingers touch `entity`, whatever the gripper command (a decoded command may sit
        between open and closed while the fingers hold the object)."""
        return all(self.env.contacts(entity, [f.entity]) for f in self.env.arms[arm].fingers)

    def holding(self, arm: str, entity: sapien.Entity) -> bool:
        """`arm` holds `entity`: its gripper is commanded closed and both of its fingers touch it."""
        return self.env.gripper_closed(arm) and self.gripping(arm, entity)


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: add a task to the registry under its `name`."""
    TASKS.register(cls.name, cls)
    return cls
