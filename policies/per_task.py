"""`PerTaskModelPolicy`: a policy backed by imitation models trained in the harness (ACT, DP), loaded from one
checkpoint (or training run) serving the task(s) it was trained on, or from a folder of per-task ones,
`<folder>/<task>/` (RoboTwin's protocol: one model per task), each loaded when its task's first episode starts.
The cameras the policy asks the runner for are the models'."""

from __future__ import annotations

import os
from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

from eva_bench.checkpoint import CheckpointError, read_checkpoint, resolve_folder
from eva_bench.errors import UserError
from eva_bench.policy import Policy


class PerTaskModelPolicy(Policy):
    """Base of the trained baselines. Subclass attributes: `model_kind` (the checkpoint kind), `env_var` (the
    checkpoint's environment variable), `train_command` (named in errors); methods `camera_view` (the cameras
    of a model config) and `load_model` (a model from a folder)."""

    model_kind: ClassVar[str]
    env_var: ClassVar[str]
    train_command: ClassVar[str]

    @classmethod
    def resolve_checkpoint(cls, checkpoint: str | None) -> str | None:
        return checkpoint or os.environ.get(cls.env_var) or None

    @staticmethod
    @abstractmethod
    def camera_view(config: dict) -> dict[str, tuple[int, int]]:
        """Camera name -> (width, height) a model with constructor arguments `config` sees."""

    @abstractmethod
    def load_model(self, folder: Path):
        """The model stored in `folder`, on the policy's device."""

    def __init__(self, config=None, checkpoint: str | None = None) -> None:
        super().__init__(config, checkpoint)
        name, kind = self.name, self.model_kind
        if not self.checkpoint:
            raise UserError(f"{name} needs --checkpoint (or ${self.env_var}): a {kind} checkpoint, or a folder of "
                            f"per-task ones (`{self.train_command}`)")
        self.folders = self._model_folders(Path(self.checkpoint))
        views, self.trained = set(), {}
        for key, folder in self.folders.items():
            try:
                stored = read_checkpoint(folder, kind)
            except CheckpointError as error:
                raise UserError(f"{name}: {error}") from None
            views.add(tuple(sorted(self.camera_view(stored.config).items())))
            self.trained[key] = list((stored.provenance.get("data") or {}).get("tasks") or [])
        if len(views) > 1:
            raise UserError(f"{name}: the per-task models under {self.checkpoint} see different cameras or sizes")
        self.view = dict(views.pop())
        self.cameras = tuple(self.view)  # what the runner observes (the class has none: they come from the model)
        self.models: dict[str, object] = {}
        self.model = None
        self.task = ""

    def _model_folders(self, root: Path) -> dict[str, Path]:
        """task -> checkpoint folder ("" for one checkpoint serving whatever tasks it was trained on)."""
        if not root.exists():
            raise UserError(f"{self.name}: no checkpoint at {root}; train one with `{self.train_command}` "
                            "(docs/baselines.md)")
        if (resolve_folder(root) / "checkpoint.json").is_file():
            return {"": root}
        found = {p.name: p for p in sorted(root.iterdir()) if (resolve_folder(p) / "checkpoint.json").is_file()}
        if not found:
            raise UserError(f"{self.name}: {root} is neither a {self.model_kind} checkpoint nor a folder of "
                            "per-task ones (<task>/)")
        return found

    def camera_requests(self) -> dict[str, tuple[int, int]]:
        return dict(self.view)

    def reset(self, task: str, instruction: str, seed: int) -> None:
        """Select (and load on first use) the model serving `task`."""
        key = "" if "" in self.folders else task
        if key not in self.folders:
            raise UserError(f"{self.name}: no model for {task} under {self.checkpoint} (found: "
                            f"{', '.join(self.folders)})")
        trained = self.trained[key]
        if trained and task not in trained:
            raise UserError(f"{self.name}: the model at {self.folders[key]} was trained on {', '.join(trained)}, "
                            f"not on {task}")
        if key not in self.models:
            self.models[key] = self.load_model(self.folders[key])
        self.model, self.task = self.models[key], task


def task_index(tasks: list[str], task: str, label: str) -> int:
    """The task token of `task` in a model trained on `tasks` (0 for a single-task model, which conditions on
    no task); `label` names the model in the error.

    Raises:
        ValueError: A multi-task model that was not trained on `task`.
    """
    if len(tasks) <= 1:
        return 0
    if task not in tasks:
        raise ValueError(f"this {label} was trained on {', '.join(tasks)}; not on {task!r}")
    return tasks.index(task)
