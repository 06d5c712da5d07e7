"""How much execution error a task tolerates: the expert's own actions, replayed open-loop with perturbations.

A video policy decodes its actions with an IDM, so its actions are the expert's plus a decoding error. This
module measures, per task, how often the expert's plan still succeeds when that error is simulated:

* `iid`: independent Gaussian noise of std SIZE rad on every arm joint at every step (fast jitter);
* `bias`: a constant offset of +-SIZE rad per joint (random sign) for the whole episode;
* `lowpass`: Gaussian noise of std SIZE rad that varies slowly (an AR(1) process with a 20-step, 1.2 s
  correlation time): the kind of error the IDM actually makes (most of its energy is slow);
* `gripper_shift`: both gripper channels delayed by SIZE steps (negative: early);
* `gripper_noise`: independent Gaussian noise of std SIZE on the normalized gripper commands.

The environment clips every perturbed action to the joint limits and speeds, as it does for any policy. After
the plan the last perturbed action is held for `hold_steps` more steps (objects settle, a latch may still fire),
never past the task's step limit. Success is the task's own latched rule; nothing is loosened here.

Seeds are the evaluation protocol's (the first expert-solvable candidates from `100000 * (1 + run_seed)`), so
the numbers describe the episodes the idm-oracle and every policy are scored on.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from eva_bench.sim.embodiment import GRIPPER_INDICES as _GRIPPERS
from eva_bench.sim.embodiment import JOINT_INDICES as _JOINTS

KINDS = ("none", "iid", "bias", "lowpass", "gripper_shift", "gripper_noise")
LOWPASS_STEPS = 20.0  # correlation time of the `lowpass` error, in control steps
DEFAULT_HOLD_STEPS = 50



@dataclass(frozen=True)
class Perturbation:
    """One kind of execution error and its size (rad for joints, steps for `gripper_shift`)."""

    kind: str
    size: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown perturbation {self.kind!r}; choose from {', '.join(KINDS)}")
        if self.kind != "gripper_shift" and self.size < 0:
            raise ValueError(f"{self.kind}: the size must be >= 0, got {self.size}")
        if self.kind == "gripper_shift" and self.size != int(self.size):
            raise ValueError(f"gripper_shift takes a whole number of steps, got {self.size}")

    @property
    def label(self) -> str:
        """E.g. "iid:0.02", "gripper_shift:-5", "none"."""
        if self.kind == "none":
            return "none"
        size = int(self.size) if self.kind == "gripper_shift" else self.size
        return f"{self.kind}:{size:g}"

    @classmethod
    def parse(cls, text: str) -> Perturbation:
        """From "KIND:SIZE" (or "none")."""
        kind, _, size = text.strip().partition(":")
        if kind == "none":
            return cls("none")
        if not size:
            raise ValueError(f"a perturbation looks like iid:0.02 or gripper_shift:5, got {text!r}")
        try:
            return cls(kind, float(size))
        except ValueError as error:
            raise ValueError(f"bad perturbation {text!r}: {error}") from None


DEFAULT_PERTURBATIONS = tuple(
    Perturbation.parse(p) for p in (
        "none",
        "iid:0.01", "iid:0.02", "iid:0.05",
        "bias:0.01", "bias:0.02", "bias:0.05",
        "lowpass:0.01", "lowpass:0.02", "lowpass:0.05",
        "gripper_shift:-5", "gripper_shift:5", "gripper_noise:0.2",
    )
)


def perturb(actions: np.ndarray, perturbation: Perturbation, rng: np.random.Generator) -> np.ndarray:
    """`actions` (T, 14) with `perturbation` applied (a new array; joints in rad, grippers normalized)."""
    out = np.array(actions, dtype=np.float64, copy=True)
    steps = len(out)
    kind, size = perturbation.kind, perturbation.size
    if kind == "iid":
        out[:, _JOINTS] += rng.normal(0.0, size, (steps, len(_JOINTS)))
    elif kind == "bias":
        out[:, _JOINTS] += size * rng.choice([-1.0, 1.0], len(_JOINTS))
    elif kind == "lowpass":
        out[:, _JOINTS] += slow_noise(steps, len(_JOINTS), size, rng)
    elif kind == "gripper_shift":
        source = np.clip(np.arange(steps) - int(size), 0, steps - 1)
        out[:, _GRIPPERS] = out[source][:, _GRIPPERS]
    elif kind == "gripper_noise":
        out[:, _GRIPPERS] = np.clip(out[:, _GRIPPERS] + rng.normal(0.0, size, (steps, len(_GRIPPERS))), 0, 1)
    return out.astype(np.float32)


def slow_noise(steps: int, dims: int, std: float, rng: np.random.Generator,
               correlation_steps: float = LOWPASS_STEPS) -> np.ndarray:
    """Stationary AR(1) noise (steps, dims) with marginal std `std` and the given correlation time."""
    a = float(np.exp(-1.0 / correlation_steps))
    noise = np.empty((steps, dims))
    state = rng.normal(0.0, std, dims)
    innovation = std * np.sqrt(1.0 - a * a)
    for t in range(steps):
        noise[t] = state
        state = a * state + rng.normal(0.0, innovation, dims)
    return noise


@dataclass(frozen=True)
class RobustnessRow:
    """The outcome of one perturbed replay."""

    task: str
    version: int
    seed: int
    perturbation: str
    success: bool
    steps: int


def replay_perturbed(env, task_cls, seed: int, actions: np.ndarray, perturbation: Perturbation,
                     hold_steps: int = DEFAULT_HOLD_STEPS) -> tuple[bool, int]:
    """Replay the perturbed `actions` on `task_cls` at `seed`; returns (success, control steps used)."""
    rng = np.random.default_rng([int(seed), KINDS.index(perturbation.kind), int(round(abs(perturbation.size) * 1e4))])
    perturbed = perturb(actions, perturbation, rng)
    env.reset(task_cls, seed)
    steps = 0
    for action in perturbed:
        steps += 1
        if env.step(action):
            return True, steps
    for _ in range(max(0, min(hold_steps, task_cls.step_limit - steps))):
        steps += 1
        if env.step(perturbed[-1]):
            return True, steps
    return False, steps


def check_task_seed(task: str, seed: int, perturbations: Sequence[Perturbation],
                    hold_steps: int = DEFAULT_HOLD_STEPS) -> list[RobustnessRow] | None:
    """Every perturbation of the expert's plan for `task` at `seed`; None when the expert cannot solve it."""
    from eva_bench.expert import run_expert
    from eva_bench.task import TASKS
    from eva_bench.workers import worker_env

    task_cls = TASKS.get(task)
    env = worker_env({})
    result = run_expert(task_cls, seed, env=env)
    if not result.solvable:
        return None
    rows = []
    for perturbation in perturbations:
        success, steps = replay_perturbed(env, task_cls, seed, result.actions, perturbation, hold_steps)
        rows.append(RobustnessRow(task, task_cls.version, seed, perturbation.label, success, steps))
    return rows


def _check_job(args) -> tuple[str, int, list[RobustnessRow] | None]:
    task, seed, perturbations, hold_steps = args
    return task, seed, check_task_seed(task, seed, perturbations, hold_steps)


def measure(tasks: Sequence[str], seeds_per_task: int, perturbations: Sequence[Perturbation], workers: int = 1,
            run_seed: int = 0, hold_steps: int = DEFAULT_HOLD_STEPS,
            progress: Callable[[int, int], None] | None = None) -> list[RobustnessRow]:
    """Robustness rows for the first `seeds_per_task` expert-solvable evaluation seeds of every task.

    Candidates are tried in order from `100000 * (1 + run_seed)`; unsolvable ones are skipped as in `run`.
    """
    from eva_bench.runner import MAX_CANDIDATES_PER_EPISODE, eval_seed_start
    from eva_bench.workers import map_jobs, worker_pool

    start = eval_seed_start(run_seed)
    found: dict[str, list[list[RobustnessRow]]] = {task: [] for task in tasks}
    next_seed = dict.fromkeys(tasks, start)
    done = 0
    with worker_pool(workers) as pool:
        while True:
            jobs = []
            for task in tasks:
                missing = seeds_per_task - len(found[task])
                if missing > 0:
                    if next_seed[task] >= start + MAX_CANDIDATES_PER_EPISODE * seeds_per_task:
                        raise RuntimeError(f"{task}: the expert solves too few seeds from {start}")
                    jobs += [(task, s, tuple(perturbations), hold_steps)
                             for s in range(next_seed[task], next_seed[task] + missing)]
                    next_seed[task] += missing
            if not jobs:
                break
            for task, _seed, rows in map_jobs(pool, _check_job, jobs):
                if rows is not None:
                    found[task].append(rows)
                    done += 1
                    if progress:
                        progress(done, len(tasks) * seeds_per_task)
    rows = [row for task in tasks for seed_rows in found[task] for row in seed_rows]
    return sorted(rows, key=lambda r: (tasks.index(r.task), r.seed))


def write_csv(rows: Iterable[RobustnessRow], path: Path) -> None:
    """One line per replay."""
    from eva_bench.fileio import atomic_path

    rows = list(rows)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(RobustnessRow.__dataclass_fields__))
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)


def read_csv(path: Path) -> list[RobustnessRow]:
    """The rows `write_csv` wrote."""
    with open(path, newline="") as handle:
        return [RobustnessRow(r["task"], int(r["version"]), int(r["seed"]), r["perturbation"],
                              r["success"] == "True", int(r["steps"])) for r in csv.DictReader(handle)]


def table(rows: Sequence[RobustnessRow]) -> str:
    """A markdown table: tasks down, perturbations across, successes/seeds in each cell, a mean row."""
    tasks = list(dict.fromkeys(r.task for r in rows))
    labels = list(dict.fromkeys(r.perturbation for r in rows))
    cells = {(r.task, r.perturbation): [] for r in rows}
    for r in rows:
        cells[(r.task, r.perturbation)].append(r.success)
    lines = ["| task | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for task in tasks:
        version = next(r.version for r in rows if r.task == task)
        values = [f"{sum(cells[(task, p)])}/{len(cells[(task, p)])}" for p in labels]
        lines.append(f"| {task} (v{version}) | " + " | ".join(values) + " |")
    means = []
    for p in labels:
        outcomes = [s for t in tasks for s in cells.get((t, p), [])]
        means.append(f"{100 * np.mean(outcomes):.0f}%")
    lines.append("| **mean** | " + " | ".join(means) + " |")
    below = [t for t in tasks for p in ("iid:0.02", "bias:0.02")
             if (t, p) in cells and np.mean(cells[(t, p)]) < 0.8]
    if any(p in labels for p in ("iid:0.02", "bias:0.02")):
        lines.append("")
        lines.append("Below the 80% target under iid:0.02 or bias:0.02: " + (", ".join(dict.fromkeys(below)) or "none"))
    return "\n".join(lines)


__all__ = ["DEFAULT_PERTURBATIONS", "KINDS", "Perturbation", "RobustnessRow", "check_task_seed",
           "measure", "perturb", "read_csv", "replay_perturbed", "slow_noise", "table", "write_csv"]
