"""The shared trainer of eva-bench: one training loop for every model (the IDM today; the world model,
Flow-GRPO's LoRA adapters, ACT and DP next), on Hugging Face accelerate.

A model plugs in by implementing `TrainTask` (build the model, the batch of step s, the loss, held-out
evaluation, export of the checkpoint) and calling `fit(task, TrainerConfig(...))`. The trainer gives it the run
folder with a settings snapshot and strict resume, log.csv (+ TensorBoard), metrics.json, crash-safe state
(accelerate `save_state`), the warm-up + cosine schedule, the seeded batch order, mixed precision, gradient
accumulation, Ctrl-C checkpoints and multi-GPU / multi-process runs under `accelerate launch`. See
docs/training.md.

Modules, one purpose each:

* `config`: `TrainerConfig`, the trainer's settings, and which of them may change on resume;
* `task`: `TrainTask`, the interface a model implements;
* `trainer`: `fit`, the loop;
* `run_folder`: the run folder's layout, settings snapshot and the strict-resume check;
* `state`: the resumable state (accelerate `save_state` / `load_state`, written atomically);
* `logs`: log.csv and TensorBoard;
* `schedule`: the learning-rate schedule;
* `sampling`: the batch order and how a batch splits over processes and micro-batches;
* `toy`: a minimal task (linear regression) - the example of the interface and the multi-process smoke test.
"""

import importlib

from eva_bench.training.config import MIXED_PRECISIONS, RESUMABLE, TrainerConfig

# The loop and the interface import torch and accelerate: loaded on first use, so that configs (and the command
# line that reads their defaults) stay light.
_LAZY = {
    "RunFolder": "run_folder", "settings_diff": "run_folder", "batch_indices": "sampling",
    "shard_positions": "sampling", "warmup_cosine": "schedule", "TrainTask": "task", "ConfiguredTask": "task",
    "FitResult": "trainer",
    "fit": "trainer", "run_settings": "trainer",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"eva_bench.training.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'eva_bench.training' has no attribute {name!r}")


__all__ = [
    "MIXED_PRECISIONS", "RESUMABLE", "ConfiguredTask", "FitResult", "RunFolder", "TrainTask", "TrainerConfig",
    "batch_indices", "fit",
    "run_settings", "settings_diff", "shard_positions", "warmup_cosine",
]
