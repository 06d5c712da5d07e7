"""The policy contract and its registry.

A policy turns observations into chunks of 14-dim actions. The runner calls `reset(task, instruction, seed)`
once per episode, then repeatedly `act(obs)`, executing up to `execute_steps` actions of each returned chunk
before asking again (receding horizon). A policy declares which cameras it needs and at which resolution; the
environment renders nothing else.

Built-in policies live in the top-level `policies/` folder (installed as `eva_bench.policies`); third-party
packages add theirs through the `eva_bench.policies` entry-point group, pointing at a `Policy` subclass.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import numpy as np

from eva_bench.registry import Registry
from eva_bench.sim.cameras import DEFAULT_RESOLUTION, check_camera_names
from eva_bench.sim.embodiment import ACTION_DIM

POLICIES: Registry[type[Policy]] = Registry("policy", "eva_bench.policies", entry_point_group="eva_bench.policies")


class Policy(abc.ABC):
    """Base class of all policies.

    Class attributes:
        name: Registry name.
        cameras: Cameras the policy reads (keys of `obs["observation"]`); empty for state-only policies.
        image_size: (width, height) the cameras are rendered at.
        execute_steps: How many actions of each chunk the runner executes before calling `act` again;
            None executes whole chunks.

    Args:
        checkpoint: Path of the weights to load, for learned policies.
        **options: Policy-specific settings (documented by each policy).
    """

    name: ClassVar[str]
    cameras: ClassVar[tuple[str, ...]] = ()
    image_size: ClassVar[tuple[int, int]] = DEFAULT_RESOLUTION
    execute_steps: ClassVar[int | None] = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "__abstractmethods__", None):
            return
        if not isinstance(getattr(cls, "name", None), str):
            raise TypeError(f"policy {cls.__name__} must define a string `name`")
        check_camera_names(cls.cameras)

    def __init__(self, checkpoint: str | None = None, **options: Any) -> None:
        if options:
            raise TypeError(f"policy {self.name!r} takes no options, got {sorted(options)}")
        self.checkpoint = checkpoint

    def reset(self, task: str, instruction: str, seed: int) -> None:  # noqa: B027 (optional hook)
        """Start an episode of `task` (registry name) with `instruction`; `seed` is the evaluation seed."""

    @abc.abstractmethod
    def act(self, obs: dict) -> np.ndarray:
        """The next chunk of actions, (N, 14) float32, N >= 1, for the observation `obs` (RoboTwin layout)."""

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


def make_policy(name: str, checkpoint: str | None = None, **options: Any) -> Policy:
    """Instantiate the registered policy `name` (raises UnknownNameError listing the available ones)."""
    return POLICIES.get(name)(checkpoint=checkpoint, **options)


def register_policy(cls: type[Policy]) -> type[Policy]:
    """Class decorator: add a policy to the registry under its `name`."""
    POLICIES.register(cls.name, cls)
    return cls
