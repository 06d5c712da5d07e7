"""The executability reward of an action sequence (EVA paper, section 4.2, equations 5-9).

Given actions A = (a_1 .. a_T), each a 14-dim vector at control interval dt (CONTROL_DT, 0.06 s), finite
differences give velocity v_t = (a_{t+1} - a_t) / dt (T - 1 rows), acceleration alpha_t = (v_{t+1} - v_t) / dt
(T - 2 rows) and jerk j_t = (alpha_{t+1} - alpha_t) / dt (T - 3 rows). Then, with E_t the mean over rows and the
elementwise Huber and squares summed over the 14 dimensions (as the squared norm of eq. 7 does):

    P_acc_huber  = E_t[Huber(alpha_t; delta_a)]                          (eq. 5, 6)
    P_jerk_huber = E_t[Huber(j_t; delta_j)]
    P_vel_limit  = E_t || max(|v_t| - v_max, 0) ||^2                      (eq. 7)
    P_acc_limit  = E_t || max(|alpha_t| - a_max, 0) ||^2
    P = lambda_j P_jerk_huber + lambda_a P_acc_huber + lambda_vlim P_vel_limit + lambda_alim P_acc_limit   (eq. 8)
    R = (1 + P / P0) ** (-gamma)                                         (eq. 9)

Limits come from the embodiment spec: joints use `arm.max_speed` / `arm.max_accel`, grippers (normalized [0, 1]
command, 1 = open) use `arm.gripper_speed` and no acceleration limit (the spec gives none, and the scripted
expert opens and closes the gripper as a step at full speed). A difference that needs more rows than the
sequence has (a jerk of fewer than 4 actions) contributes 0. The paper gives no values for the weights, deltas
and gamma; the defaults below are ours (documented per field). P0 is set by `calibrate`: the paper estimates it
from rollouts of the pretrained video model; we use the median penalty of a set of sequences, so a sequence with
the median penalty scores R = 2^-gamma.

Pure numpy (no torch): `executability(actions)` returns every component, which add up to P exactly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from eva_bench.sim.embodiment import ACTION_DIM, PIPER_BIMANUAL, EmbodimentSpec

FORMAT = "eva-bench-reward/1"


def _control_dt() -> float:
    from eva_bench.sim.embodiment import CONTROL_DT

    return float(CONTROL_DT)


def velocity_limits(spec: EmbodimentSpec = PIPER_BIMANUAL) -> tuple[float, ...]:
    """The 14 velocity limits of `spec`: joints in rad/s, grippers in normalized units per second."""
    arm = [*spec.arm.max_speed.tolist(), spec.arm.gripper_speed]
    return tuple(float(v) for v in arm + arm)


def acceleration_limits(spec: EmbodimentSpec = PIPER_BIMANUAL) -> tuple[float, ...]:
    """The 14 acceleration limits of `spec`: joints in rad/s^2, grippers unlimited (inf; the spec has none)."""
    arm = [*spec.arm.max_accel.tolist(), float("inf")]
    return tuple(float(v) for v in arm + arm)


@dataclass(frozen=True)
class RewardConfig:
    """Every constant of the executability reward (saved as JSON with `save`, read with `load`).

    Args:
        dt: Control interval in seconds between consecutive actions (default: the env's CONTROL_DT, 0.06 s).
        delta_acc: Huber threshold delta_a on acceleration (rad/s^2). Ours: 1.0, a quarter of the scripted
            expert's largest joint acceleration, so ordinary motion is quadratic and spikes grow linearly.
        delta_jerk: Huber threshold delta_j on jerk (rad/s^3). Ours: 10.0 (the expert's jerk peaks are ~65).
        lambda_jerk: Weight lambda_j of the jerk Huber term. Ours: 0.1, because a jerk is 1/dt (~17x) larger
            than the acceleration of the same motion.
        lambda_acc: Weight lambda_a of the acceleration Huber term. Ours: 1.0.
        lambda_vel_limit: Weight lambda_v-lim of the velocity-limit violation. Ours: 10.0 (a violation cannot
            be executed at all, while roughness only degrades execution).
        lambda_acc_limit: Weight lambda_a-lim of the acceleration-limit violation. Ours: 1.0 (its squares are
            in (rad/s^2)^2, already large).
        velocity_limit: v_max per action dimension (14), from the embodiment spec.
        acceleration_limit: a_max per action dimension (14), from the embodiment spec (inf = unlimited).
        p0: Penalty scale P0 of eq. 9 (set by `calibrate`; 1.0 until then).
        gamma: Decay rate gamma of eq. 9. Ours: 1.0 (R of a median sequence is 0.5).
    """

    dt: float = field(default_factory=_control_dt)
    delta_acc: float = 1.0
    delta_jerk: float = 10.0
    lambda_jerk: float = 0.1
    lambda_acc: float = 1.0
    lambda_vel_limit: float = 10.0
    lambda_acc_limit: float = 1.0
    velocity_limit: tuple[float, ...] = field(default_factory=velocity_limits)
    acceleration_limit: tuple[float, ...] = field(default_factory=acceleration_limits)
    p0: float = 1.0
    gamma: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "velocity_limit", tuple(float(v) for v in self.velocity_limit))
        object.__setattr__(self, "acceleration_limit", tuple(float(v) for v in self.acceleration_limit))
        for name in ("dt", "delta_acc", "delta_jerk", "p0", "gamma"):
            if not getattr(self, name) > 0:
                raise ValueError(f"reward config: {name} must be > 0, got {getattr(self, name)}")
        for name in ("lambda_jerk", "lambda_acc", "lambda_vel_limit", "lambda_acc_limit"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"reward config: {name} must be >= 0, got {getattr(self, name)}")
        for name in ("velocity_limit", "acceleration_limit"):
            limits = getattr(self, name)
            if len(limits) != ACTION_DIM or not all(v > 0 for v in limits):
                raise ValueError(f"reward config: {name} must hold {ACTION_DIM} positive values, got {limits}")

    @classmethod
    def for_embodiment(cls, spec: EmbodimentSpec, **overrides) -> RewardConfig:
        """A config whose limits come from `spec` (other fields from `overrides` or the defaults)."""
        return cls(velocity_limit=velocity_limits(spec), acceleration_limit=acceleration_limits(spec), **overrides)

    def to_dict(self) -> dict:
        """JSON-ready fields (infinite limits as the string "inf") plus a format tag."""
        data = asdict(self)
        for name in ("velocity_limit", "acceleration_limit"):
            data[name] = [v if np.isfinite(v) else "inf" for v in data[name]]
        return {"format": FORMAT, **data}

    @classmethod
    def from_dict(cls, data: dict) -> RewardConfig:
        """Inverse of `to_dict`; unknown keys are an error (a typo must not fall back to a default)."""
        data = dict(data)
        if data.pop("format", FORMAT) != FORMAT:
            raise ValueError(f"reward config has format {data.get('format')!r}, expected {FORMAT!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"reward config has unknown keys {unknown}; known: {sorted(known)}")
        for name in ("velocity_limit", "acceleration_limit"):
            if name in data:
                data[name] = tuple(float(v) for v in data[name])
        return cls(**data)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the config as JSON to `path` (parents created)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> RewardConfig:
        """Read a config written by `save`.

        Raises:
            FileNotFoundError: No such file.
            ValueError: The file is not a reward config.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no reward config {path}")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON: {error}") from error
        if not isinstance(data, dict):
            raise ValueError(f"{path} does not hold a reward config object")
        return cls.from_dict(data)


@dataclass(frozen=True)
class RewardBreakdown:
    """The reward of one action sequence and its weighted components (they add up to `penalty` exactly).

    Args:
        vel_limit: lambda_v-lim * P_vel (eq. 7).
        acc_limit: lambda_a-lim * P_acc (eq. 7).
        acc_huber: lambda_a * P_alpha (eq. 6).
        jerk_huber: lambda_j * P_j (eq. 6).
        penalty: P(A), eq. 8 (the sum of the four terms above).
        reward: R = (1 + P / P0)^-gamma, eq. 9, in (0, 1].
        raw: The unweighted terms {"vel_limit", "acc_limit", "acc_huber", "jerk_huber"}.
    """

    vel_limit: float
    acc_limit: float
    acc_huber: float
    jerk_huber: float
    penalty: float
    reward: float
    raw: dict[str, float]

    def to_dict(self) -> dict:
        """Flat JSON-ready dict (raw terms prefixed with "raw_")."""
        data = {k: v for k, v in asdict(self).items() if k != "raw"}
        data.update({f"raw_{k}": v for k, v in self.raw.items()})
        return data


def huber(x: np.ndarray, delta: float) -> np.ndarray:
    """Elementwise Huber function of eq. 5: x^2 / 2 for |x| <= delta, else delta (|x| - delta / 2)."""
    ax = np.abs(x)
    return np.where(ax <= delta, 0.5 * ax * ax, delta * (ax - 0.5 * delta))


def derivatives(actions: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Velocity (T-1, D), acceleration (T-2, D) and jerk (T-3, D) of actions (T, D) by finite differences."""
    velocity = np.diff(actions, axis=0) / dt
    acceleration = np.diff(velocity, axis=0) / dt
    jerk = np.diff(acceleration, axis=0) / dt
    return velocity, acceleration, jerk


def _mean_over_rows(per_row: np.ndarray) -> float:
    """E_t of a (rows,) array; 0 when there is no row."""
    return float(per_row.mean()) if len(per_row) else 0.0


def penalty_terms(actions: np.ndarray, config: RewardConfig) -> dict[str, float]:
    """The four unweighted terms of eq. 6-7 for actions (T, 14)."""
    actions = np.asarray(actions, np.float64)
    if actions.ndim != 2 or actions.shape[1] != ACTION_DIM:
        raise ValueError(f"actions must be (T, {ACTION_DIM}), got {actions.shape}")
    if len(actions) == 0:
        raise ValueError("actions is empty")
    if not np.all(np.isfinite(actions)):
        raise ValueError("actions hold NaN or infinite values")
    velocity, acceleration, jerk = derivatives(actions, config.dt)
    v_max = np.asarray(config.velocity_limit)
    a_max = np.asarray(config.acceleration_limit)
    return {
        "vel_limit": _mean_over_rows((np.maximum(np.abs(velocity) - v_max, 0.0) ** 2).sum(axis=1)),
        "acc_limit": _mean_over_rows((np.maximum(np.abs(acceleration) - a_max, 0.0) ** 2).sum(axis=1)),
        "acc_huber": _mean_over_rows(huber(acceleration, config.delta_acc).sum(axis=1)),
        "jerk_huber": _mean_over_rows(huber(jerk, config.delta_jerk).sum(axis=1)),
    }


def reward_of_penalty(penalty: float | np.ndarray, config: RewardConfig) -> float | np.ndarray:
    """Eq. 9: R = (1 + P / P0)^-gamma."""
    return (1.0 + np.asarray(penalty) / config.p0) ** (-config.gamma)


def executability(actions: np.ndarray, config: RewardConfig | None = None) -> RewardBreakdown:
    """The executability reward of one action sequence with its components.

    Args:
        actions: (T, 14) actions at the config's control interval (joints in rad, grippers in [0, 1]).
        config: Reward constants (default: `RewardConfig()`, P0 = 1 until calibrated).

    Raises:
        ValueError: `actions` is not (T, 14), is empty or is not finite.
    """
    config = config or RewardConfig()
    raw = penalty_terms(actions, config)
    weighted = {
        "vel_limit": config.lambda_vel_limit * raw["vel_limit"],
        "acc_limit": config.lambda_acc_limit * raw["acc_limit"],
        "acc_huber": config.lambda_acc * raw["acc_huber"],
        "jerk_huber": config.lambda_jerk * raw["jerk_huber"],
    }
    penalty = float(sum(weighted.values()))
    return RewardBreakdown(**weighted, penalty=penalty, reward=float(reward_of_penalty(penalty, config)), raw=raw)


@dataclass(frozen=True)
class Calibration:
    """What `calibrate` found.

    Args:
        config: The input config with `p0` set.
        penalties: P(A) of every sequence, in input order.
        quantile: The quantile of the penalties that became P0.
    """

    config: RewardConfig
    penalties: np.ndarray
    quantile: float

    def summary(self) -> dict[str, float]:
        """count, min, p10, median, mean, p90, max of the penalties, P0, and the mean reward under P0."""
        p = self.penalties
        return {
            "count": int(len(p)),
            "min": float(p.min()),
            "p10": float(np.quantile(p, 0.1)),
            "median": float(np.median(p)),
            "mean": float(p.mean()),
            "p90": float(np.quantile(p, 0.9)),
            "max": float(p.max()),
            "p0": self.config.p0,
            "mean_reward": float(np.mean(reward_of_penalty(p, self.config))),
        }


def calibrate(sequences: Iterable[np.ndarray], config: RewardConfig | None = None,
              quantile: float = 0.5) -> Calibration:
    """Set P0 to a quantile (default the median) of the penalties of `sequences`.

    The quantile is taken with numpy's "lower" method, so P0 is the penalty of an actual sequence: with the
    default, the median sequence (the lower middle one for an even count) gets R = 2^-gamma exactly.

    Args:
        sequences: Action sequences (T_i, 14), e.g. IDM-decoded rollouts of the pretrained world model (the
            paper's choice) or of ground-truth demonstrations.
        config: The other reward constants (default: `RewardConfig()`); its `p0` is replaced.
        quantile: Which quantile of the penalties becomes P0, in (0, 1].

    Raises:
        ValueError: No sequence, a bad quantile, or a zero quantile penalty (all motion perfectly smooth).
    """
    config = config or RewardConfig()
    if not 0.0 < quantile <= 1.0:
        raise ValueError(f"quantile must be in (0, 1], got {quantile}")
    penalties = np.array([executability(s, config).penalty for s in sequences], np.float64)
    if len(penalties) == 0:
        raise ValueError("calibrate needs at least one action sequence")
    p0 = float(np.quantile(penalties, quantile, method="lower"))
    if not p0 > 0:
        raise ValueError(f"the {quantile:g} quantile of the penalties is {p0}: P0 must be > 0 "
                         "(were the sequences motionless?)")
    return Calibration(replace(config, p0=p0), penalties, quantile)


def rewards(sequences: Sequence[np.ndarray], config: RewardConfig | None = None) -> np.ndarray:
    """R of each sequence, (N,) float64 (e.g. one group of G rollouts in GRPO)."""
    return np.array([executability(s, config).reward for s in sequences], np.float64)
