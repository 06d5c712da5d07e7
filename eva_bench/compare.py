"""`eva-bench compare`: evaluate checkpoints on validation seeds and rank them for early stopping.

Each checkpoint becomes one resumable evaluation run (`<name>-<label>`) on the validation seeds (never the
evaluation seeds: `eva_bench.runner.eval_seed_start`), with the policy its kind implies: a world-model
checkpoint runs as `eva-norl`, a LoRA adapter as `eva`. A GRPO run folder expands to its SFT base (step 0)
and every adapter snapshot it kept (`GRPOConfig.snapshot_every`). The statistics, the recommendation and the
files come from `eva_bench.report.compare`.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from eva_bench.checkpoint import CheckpointError, read_checkpoint
from eva_bench.errors import UserError

POLICY_OF_KIND = {"world_model": "eva-norl", "lora": "eva"}


@dataclass(frozen=True)
class Candidate:
    """A checkpoint to compare: its label (unique), the step it was saved at (None: unknown), its policy."""

    label: str
    step: int | None
    policy: str
    checkpoint: str


@dataclass
class CompareConfig:
    """What to compare and how.

    Args:
        checkpoints: World-model checkpoints, LoRA adapters, or GRPO run folders (each expands to its SFT base
            and its adapter snapshots), in the order to report them.
        tasks: Task names.
        episodes: Validation episodes per task and checkpoint (more: narrower intervals, longer runs).
        seed: Run seed of the validation seeds (100000 * seed + 50000 on).
        workers: Parallel worker processes per evaluation.
        name: Prefix of the evaluation runs' ids in the database.
        db_path: Results database.
        output_dir: Folder of the episodes' videos and action logs.
        out: Folder of the report (compare.md, compare.csv, compare.png).
        policy_options: Settings of the world-model policies (`eva-bench policies show eva`), for every
            checkpoint alike.
        instruction_kind: "unseen" or "seen" instructions.
        save_video: Record each episode's executed and imagined videos.
        reward_idm: IDM of the episodes' executed-video reward (None: the released one).
        include_base: Whether a GRPO run folder's SFT base is compared too (as step 0).
        bootstrap: Bootstrap resamples of each confidence interval.
        reference: Label of the checkpoint the paired differences are taken against (None: the first).
    """

    checkpoints: list[str]
    tasks: list[str]
    db_path: Path
    output_dir: Path
    out: Path
    episodes: int = 5
    seed: int = 0
    workers: int = 1
    name: str = "compare"
    policy_options: dict = field(default_factory=dict)
    instruction_kind: str = "unseen"
    save_video: bool = False
    reward_idm: str | None = None
    include_base: bool = True
    bootstrap: int = 2000
    reference: str | None = None

    def __post_init__(self) -> None:
        if not self.checkpoints:
            raise UserError("give at least one checkpoint or GRPO run folder to compare")
        if self.episodes < 1 or self.bootstrap < 100:
            raise UserError("episodes must be >= 1 and bootstrap >= 100")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", self.name):
            raise UserError(f"--name may hold letters, digits, '.', '_' and '-' only, got {self.name!r}")


def _step_of(checkpoint) -> int | None:
    step = checkpoint.provenance.get("step")
    return int(step) if isinstance(step, int | float) else None


def expand(path: str) -> list[Candidate]:
    """The candidates a command-line path means (module docstring)."""
    from eva_bench.align.grpo import snapshots

    folder = Path(path)
    if not folder.exists():
        raise UserError(f"no checkpoint or GRPO run at {folder}")
    found = snapshots(folder)
    if found:
        base = read_checkpoint(folder, "lora").provenance["base"]["path"]
        runs = [Candidate(f"{folder.name}-sft", 0, "eva-norl", base)]
        return runs + [Candidate(f"{folder.name}-step{step}", step, "eva", str(p)) for step, p in found]
    try:
        checkpoint = read_checkpoint(folder)
    except CheckpointError as error:
        raise UserError(f"{folder}: not a comparable checkpoint ({error})") from None
    if checkpoint.kind not in POLICY_OF_KIND:
        raise UserError(f"{folder}: a {checkpoint.kind!r} checkpoint; compare ranks world models "
                        f"({', '.join(POLICY_OF_KIND)})")
    label = folder.name if folder.name not in ("model",) else folder.parent.name
    return [Candidate(label, _step_of(checkpoint), POLICY_OF_KIND[checkpoint.kind], str(folder))]


def candidates(config: CompareConfig) -> list[Candidate]:
    """Every candidate of the configured paths, labels made unique, bases kept only when asked."""
    found: list[Candidate] = []
    for path in config.checkpoints:
        expanded = expand(path)
        if len(expanded) > 1 and not config.include_base:
            expanded = expanded[1:]
        found += expanded
    seen: dict[str, int] = {}
    unique = []
    for candidate in found:
        count = seen.get(candidate.label, 0)
        seen[candidate.label] = count + 1
        label = candidate.label if not count else f"{candidate.label}-{count + 1}"
        unique.append(Candidate(label, candidate.step, candidate.policy, candidate.checkpoint))
    return unique


def _train_metrics(candidate: Candidate) -> dict:
    """A GRPO snapshot's own held-out reward at its step (from the run's log.csv), when logged."""
    log = Path(candidate.checkpoint).parent.parent / "log.csv"
    if candidate.policy != "eva" or candidate.step is None or not log.is_file():
        return {}
    with log.open() as handle:
        for row in csv.DictReader(handle):
            if row.get("step") == str(candidate.step) and row.get("val_reward"):
                return {"train_val_reward": float(row["val_reward"])}
    return {}


def run_comparison(config: CompareConfig, progress=None, echo=print) -> tuple[list[Path], str]:
    """Evaluate every candidate (resuming stored runs) and write the report; returns (files, recommendation)."""
    from eva_bench.report.compare import Entry, comparison_markdown, comparison_plot, comparison_table, recommend
    from eva_bench.run_config import EvalConfig
    from eva_bench.runner import evaluate
    from eva_bench.store import ResultsStore

    found = candidates(config)
    labels = [c.label for c in found]
    if config.reference is not None and config.reference not in labels:
        raise UserError(f"--reference {config.reference!r} is none of the compared checkpoints: {', '.join(labels)}")
    entries = []
    for number, candidate in enumerate(found, start=1):
        run_id = f"{config.name}-{candidate.label}"
        echo(f"[{number}/{len(found)}] {candidate.label}: {candidate.policy} {candidate.checkpoint} -> run {run_id}")
        evaluate(EvalConfig(
            policy=candidate.policy, tasks=config.tasks, run_id=run_id, db_path=config.db_path,
            output_dir=config.output_dir, episodes=config.episodes, seed=config.seed, seed_split="validation",
            workers=config.workers, checkpoint=candidate.checkpoint, policy_options=dict(config.policy_options),
            instruction_kind=config.instruction_kind, save_video=config.save_video, reward_idm=config.reward_idm,
        ), progress)
        entries.append(Entry(candidate.label, candidate.step, run_id))
    reference = labels.index(config.reference) if config.reference is not None else 0
    settings = (f"{config.episodes} validation episodes per task (seed {config.seed}), {len(config.tasks)} "
                f"task(s), {config.instruction_kind} instructions, {config.bootstrap} bootstrap resamples.")
    with ResultsStore(config.db_path) as store:
        table = comparison_table(store, entries, reference, config.bootstrap,
                                 {c.label: _train_metrics(c) for c in found})
        choice = recommend(store, entries, table, config.bootstrap)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "compare.md", out / "compare.csv", out / "compare.json"]
    files[0].write_text(comparison_markdown(table, choice, labels[reference], settings))
    table.to_csv(files[1], index=False)
    files[2].write_text(json.dumps({"recommended": choice.label, "reason": choice.reason,
                                    "checkpoints": {c.label: c.checkpoint for c in found}}, indent=1) + "\n")
    files.append(comparison_plot(table, choice, out / "compare.png"))
    return files, f"recommended: {choice.label}: {choice.reason}"
