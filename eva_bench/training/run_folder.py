"""The run folder of a training run: what lives where, the settings snapshot and the strict-resume check.

    <out>/
      run_config.json   {"format", "kind", "settings"}: every setting of the run (trainer's and model's)
      state/            the resumable state: accelerate's `save_state` (model weights, optimizer state dict,
                        RNG states, gradient scaler) plus trainer_state.json (step, processes, resume key);
                        written to .state.tmp/ and renamed, so a crash never leaves half a state
      model/            the latest model as an eva-bench checkpoint (`eva_bench.checkpoint`); readers given
                        <out> resolve to it (`resolve_folder`)
      log.csv           one row per evaluation (step, epoch, lr, train_loss, the model's columns,
                        samples_per_s, time)
      metrics.json      the final held-out metrics (written when the run reaches its last step)
      tensorboard/      TensorBoard event files (optional)

A run folder is resumed by running again with the same settings; only the fields the trainer and the model
declare resumable (steps, eval_every, threads, device, ...) may differ. Any other difference is refused with
the list of differing settings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eva_bench.errors import UserError
from eva_bench.fileio import atomic_write

FORMAT = "eva-bench-run/1"
CONFIG_FILE = "run_config.json"
STATE_DIR = "state"
MODEL_DIR = "model"  # = eva_bench.checkpoint.RUN_MODEL_DIR
LOG_FILE = "log.csv"
METRICS_FILE = "metrics.json"
TENSORBOARD_DIR = "tensorboard"
_LEGACY_FILES = ("train_state.safetensors", "train_config.json")  # eva-bench <= 0.3 IDM runs


class RunFolder:
    """Paths and settings of one run folder.

    Args:
        out: The folder (created on the first write).
    """

    def __init__(self, out: str | os.PathLike) -> None:
        self.out = Path(out)
        self.config_path = self.out / CONFIG_FILE
        self.state_dir = self.out / STATE_DIR
        self.model_dir = self.out / MODEL_DIR
        self.log_path = self.out / LOG_FILE
        self.metrics_path = self.out / METRICS_FILE
        self.tensorboard_dir = self.out / TENSORBOARD_DIR

    def check(self, kind: str, settings: dict, resumable: set[str] | tuple[str, ...]) -> bool:
        """Whether `out` holds a run these settings may resume (False: a new run; nothing is written).

        Raises:
            UserError: `out` holds a run of another kind, of an older eva-bench, a state without settings,
                or one with other settings than `settings` in fields outside `resumable` (all are listed).
        """
        if not self.config_path.exists():
            legacy = [name for name in _LEGACY_FILES if (self.out / name).exists()]
            if legacy:
                raise UserError(f"{self.out} holds a training run of eva-bench 0.3 ({legacy[0]}), which this "
                                "version cannot resume; give another --out")
            if self.state_dir.exists():
                raise UserError(f"{self.out} holds training state but no {CONFIG_FILE}; give another --out")
            return False
        try:
            saved = json.loads(self.config_path.read_text())
            saved_kind, saved_settings = saved["kind"], saved["settings"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise UserError(f"{self.config_path} is corrupt ({error!r}); give another --out") from error
        if saved_kind != kind:
            raise UserError(f"{self.out} holds a {saved_kind} training run, not a {kind} one; give another --out")
        diff = settings_diff(saved_settings, settings, resumable)
        if diff:
            raise UserError(f"{self.out} holds a run with another config: {diff}; give another --out, or the same "
                            f"settings to resume (these may change: {', '.join(sorted(resumable))})")
        return True

    def write_config(self, kind: str, settings: dict) -> None:
        """Write the settings snapshot (atomically)."""
        text = json.dumps({"format": FORMAT, "kind": kind, "settings": settings}, indent=1, default=str)
        atomic_write(self.config_path, text + "\n")

    def write_metrics(self, metrics: dict) -> None:
        """Write metrics.json (atomically)."""
        atomic_write(self.metrics_path, json.dumps(metrics, indent=1, default=str))


def settings_diff(saved: dict, current: dict, resumable: set[str] | tuple[str, ...] = ()) -> str:
    """The settings that differ between a saved run and now, outside `resumable`, as
    "name (saved X, now Y), ..." ("" when none). A setting missing on one side reads as "missing"."""
    current = json.loads(json.dumps(current, default=str))  # tuples -> lists, as saved
    missing = object()
    parts = []
    for key in sorted(set(saved) | set(current)):
        if key in resumable:
            continue
        before, now = saved.get(key, missing), current.get(key, missing)
        if before != now:
            show = [("missing" if v is missing else json.dumps(v)) for v in (before, now)]
            parts.append(f"{key} (saved {show[0]}, now {show[1]})")
    return ", ".join(parts)
