"""The resumable state of a run: accelerate's `save_state` / `load_state`, made crash-safe, plus the step.

`save` writes the whole state into <out>/.state.tmp/ (every process writes its part: accelerate saves the
model and optimizer state dicts from the main process and one RNG file per process), adds trainer_state.json
(the step reached, the number of processes, the model's resume key) and renames the folder onto <out>/state/.
The previous state is moved aside first and deleted last, so at every moment one whole state exists: state/,
or .state.old/ when a crash fell between the two renames (`find` picks it up). The optimizer state travels as
a torch state dict (optimizer.bin), which is what LoRA/peft and FSDP runs need.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from eva_bench.errors import UserError
from eva_bench.fileio import atomic_write

INFO_FILE = "trainer_state.json"
_TMP, _OLD = ".state.tmp", ".state.old"


def find(state_dir: Path) -> Path | None:
    """The whole state to resume from: `state_dir`, else the moved-aside previous one, else None."""
    old = state_dir.with_name(_OLD)
    if (state_dir / INFO_FILE).exists():
        return state_dir
    if (old / INFO_FILE).exists():
        return old
    return None


def save(accelerator: Any, state_dir: Path, info: dict) -> None:
    """Save the accelerator's registered model(s), optimizer(s) and RNG states with `info` (call on every
    process: it synchronizes them)."""
    tmp, old = state_dir.with_name(_TMP), state_dir.with_name(_OLD)
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        atomic_write(tmp / INFO_FILE, json.dumps(info, indent=1) + "\n")
        if state_dir.exists():
            shutil.rmtree(old, ignore_errors=True)
            state_dir.rename(old)
        tmp.rename(state_dir)
        shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def load(accelerator: Any, folder: Path) -> dict:
    """Load a state written by `save` into the accelerator's registered objects; its info dict.

    Raises:
        UserError: The state is unreadable (one line: which folder, what failed, how to restart).
    """
    try:
        info = json.loads((folder / INFO_FILE).read_text())
        int(info["step"])
        accelerator.load_state(str(folder))
    except Exception as error:  # torch, safetensors and pickle raise many types for truncated or foreign files
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(f"the training state in {folder} is corrupt ({type(error).__name__}: {first}); delete "
                        f"it to restart the run from step 0") from error
    return info
