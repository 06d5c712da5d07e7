"""The task contract: what one RoboTwin-style task file declares and implements.

A task subclass declares its facts as class attributes (name, version, step limit, arm usage, instruction
templates) and implements three hooks:

* `load()`: build the objects, randomized with `self.rng` (the episode's seeded generator);
* `check_success()`: RoboTwin's success rule, cheap enough to run after every physics sub-step;
* `play_expert(motion)`: the scripted expert, written with the shared primitives of `eva_bench.motion`.

Tasks register themselves with `@register_task`; the engine finds them through the registry only.
"""

from __future__ import annotations

import abc
import re
import string
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

from eva_bench.registry import Registry

if TYPE_CHECKING:
    from eva_bench.motion import Motion
    from eva_bench.sim.env import BimanualEnv
    from eva_bench.sim.objects import SimObject

InstructionKind = Literal["seen", "unseen"]
TASKS: Registry[type[Task]] = Registry("task", "eva_bench.tasks")

_MIN_SEEN, _MIN_UNSEEN = 20, 5


class Task(abc.ABC):
    """Base class of all tasks.

    Class attributes (required on every concrete task):
        name: Registry name, e.g. "click_bell".
        version: Bumped whenever randomization or the success rule changes; stored with every result.
        step_limit: Maximum number of control steps (policy actions) per evaluation episode.
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

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "__abstractmethods__", None):
            return
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

    def instruction_slots(self) -> dict[str, str]:
        """Values of the `{slot}` fields in the instruction templates (visible attributes of objects)."""
        return {}

    def instruction(self, kind: InstructionKind, rng: np.random.Generator) -> str:
        """One instruction of `kind`, drawn with `rng` (seeded by the caller, so runs are reproducible)."""
        templates = self.seen_instructions if kind == "seen" else self.unseen_instructions
        text = templates[int(rng.integers(len(templates)))].format(**self.instruction_slots())
        return text[0].upper() + text[1:]

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


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: add a task to the registry under its `name`."""
    TASKS.register(cls.name, cls)
    return cls
