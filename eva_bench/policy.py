"""The policy contract and its registry.

A policy turns observations into chunks of 14-dim actions. The runner calls `reset(task, instruction, seed)`
once per episode, then repeatedly `act(obs)`, executing up to `execute_steps` actions of each returned chunk
before asking again (receding horizon). A policy declares which cameras it needs and at which resolution; the
environment renders nothing else.

Each policy has one config dataclass (a `PolicyConfig` subclass, every field documented under "Args:");
`--policy-option KEY=VALUE` is parsed and validated against it (`policy_config`). Built-in policies live in the
top-level `policies/` folder (installed as `eva_bench.policies`) and are registered lazily by module path, so
listing them imports nothing heavy; third-party packages add theirs through the `eva_bench.policies`
entry-point group, pointing at a `Policy` subclass. The runner builds a policy once per worker process.
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from eva_bench.configs import build_config
from eva_bench.registry import Registry
from eva_bench.sim.cameras import DEFAULT_RESOLUTION, check_camera_names
from eva_bench.sim.embodiment import ACTION_DIM

POLICIES: Registry[type[Policy]] = Registry("policy", "eva_bench.policies", entry_point_group="eva_bench.policies")


@dataclasses.dataclass
class PolicyConfig:
    """Settings of a policy. This base has none; each policy subclasses it and documents every field under
    "Args:", which `eva-bench policies show NAME` prints and `--policy-option KEY=VALUE` is checked against."""


class Policy(abc.ABC):
    """Base class of all policies.

    Class attributes:
        name: Registry name.
        config_class: The policy's config dataclass (a `PolicyConfig` subclass).
        cameras: Cameras the policy reads (keys of `obs["observation"]`); empty for state-only policies.
        image_size: (width, height) the cameras are rendered at.
        execute_steps: How many actions of each chunk the runner executes before calling `act` again;
            None executes whole chunks. A policy may set it per instance from its config.
        observes_steps: Whether the runner also passes the observation after every executed action to
            `observe` (a policy that conditions on recent frames, such as a world model, needs them).
        robot_mask_cameras: Cameras of `cameras` whose observation also carries "robot_mask", the (H, W) bool
            pixels of the arms (from the simulator's segmentation), for policies that measure themselves.

    Args:
        config: The policy's settings (default: `config_class()`).
        checkpoint: Path of the weights to load, for learned policies (see `resolve_checkpoint`).
    """

    name: ClassVar[str]
    config_class: ClassVar[type[PolicyConfig]] = PolicyConfig
    cameras: ClassVar[tuple[str, ...]] = ()
    image_size: ClassVar[tuple[int, int]] = DEFAULT_RESOLUTION
    execute_steps: int | None = None
    observes_steps: bool = False
    robot_mask_cameras: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        # an abstract intermediate base (ABCMeta sets __abstractmethods__ only after this hook runs)
        if any(getattr(getattr(cls, name, None), "__isabstractmethod__", False) for name in dir(cls)):
            return
        if not isinstance(getattr(cls, "name", None), str):
            raise TypeError(f"policy {cls.__name__} must define a string `name`")
        if not (isinstance(cls.config_class, type) and issubclass(cls.config_class, PolicyConfig)
                and dataclasses.is_dataclass(cls.config_class)):
            raise TypeError(f"policy {cls.__name__}: config_class must be a PolicyConfig dataclass")
        check_camera_names(cls.cameras)

    def __init__(self, config: PolicyConfig | None = None, checkpoint: str | None = None) -> None:
        config = self.config_class() if config is None else config
        if not isinstance(config, self.config_class):
            raise TypeError(f"policy {self.name!r} takes a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config
        self.checkpoint = self.resolve_checkpoint(checkpoint)

    @classmethod
    def resolve_checkpoint(cls, checkpoint: str | None) -> str | None:
        """The checkpoint this policy loads for the given `--checkpoint` (None: the policy's default, if any).

        Called before any episode runs, so the run records what was actually loaded; cheap (no loading).
        """
        return checkpoint

    def reset(self, task: str, instruction: str, seed: int) -> None:  # noqa: B027 (optional hook)
        """Start an episode of `task` (registry name) with `instruction`; `seed` is the evaluation seed."""

    @abc.abstractmethod
    def act(self, obs: dict) -> np.ndarray:
        """The next chunk of actions, (N, 14) float32, N >= 1, for the observation `obs` (RoboTwin layout)."""

    def observe(self, obs: dict) -> None:  # noqa: B027 (optional hook)
        """The observation after each executed action (called only when `observes_steps` is true; the last
        one of a chunk is also the next `act`'s)."""

    def episode_metrics(self) -> dict:
        """Numbers the policy measured in the episode just played, stored with it (JSON-serializable)."""
        return {}

    def episode_videos(self) -> dict[str, list[np.ndarray]]:
        """Videos the policy made in the episode just played, name -> frames (H, W, 3) uint8; saved beside the
        episode's video as episodeNNN_<name>.mp4 when videos are recorded."""
        return {}

    def camera_requests(self) -> dict[str, tuple[int, int]]:
        """Camera name -> (width, height) this policy needs rendered."""
        return dict.fromkeys(self.cameras, tuple(self.image_size))


def check_chunk(chunk, policy: str) -> np.ndarray:
    """Validate a policy's output and return it as a (N, 14) float32 array.

    Raises:
        ValueError: Wrong shape, empty chunk, or non-finite values; the message names the policy.
    """
    chunk = np.asarray(chunk, dtype=np.float32)
    if chunk.ndim == 1:
        chunk = chunk[None]
    if chunk.ndim != 2 or chunk.shape[1] != ACTION_DIM or len(chunk) == 0:
        raise ValueError(f"policy {policy!r} returned actions of shape {chunk.shape}; expected (N, {ACTION_DIM})")
    if not np.all(np.isfinite(chunk)):
        raise ValueError(f"policy {policy!r} returned NaN or inf actions")
    return chunk


def policy_config(name: str, options: Mapping[str, Any] | None = None) -> PolicyConfig:
    """The validated config of policy `name` from options (strings are parsed to the field types).

    Raises:
        UnknownNameError: No such policy (the message lists the registered ones).
        UserError: An unknown option, a wrong type or an invalid value (the message lists the valid fields).
    """
    cls = POLICIES.get(name)
    return build_config(cls.config_class, dict(options or {}), f"policy {name!r}")


def make_policy(name: str, checkpoint: str | None = None, options: Mapping[str, Any] | None = None,
                **more_options: Any) -> Policy:
    """Instantiate the registered policy `name` with validated options (see `policy_config`)."""
    return POLICIES.get(name)(policy_config(name, {**(options or {}), **more_options}), checkpoint)


def register_policy(cls: type[Policy]) -> type[Policy]:
    """Class decorator: add a policy to the registry under its `name` (third-party code, tests)."""
    POLICIES.register(cls.name, cls)
    return cls


def register_builtin(name: str, target: str, summary: str, registry: Registry | None = None) -> None:
    """Register a built-in policy lazily: `target` ("module:Class", module inside `eva_bench.policies`) is
    imported on first lookup, so listing policies imports no model code, SAPIEN or torch."""
    module, _, attribute = target.partition(":")

    def load() -> type[Policy]:
        cls = getattr(importlib.import_module(f"eva_bench.policies.{module}"), attribute)
        if not (isinstance(cls, type) and issubclass(cls, Policy)) or cls.name != name:
            raise TypeError(f"{target} is not the Policy subclass named {name!r}")
        return cls

    (POLICIES if registry is None else registry).register_lazy(name, load, summary)
