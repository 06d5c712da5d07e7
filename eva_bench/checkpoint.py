"""One checkpoint format for every model (IDM today; world model, LoRA adapters, ACT, DP next).

A checkpoint is a folder:

    checkpoint.json     {"format": "eva-bench-checkpoint/1", "kind": "idm", "digest": "sha256:...",
                         "provenance": {command, data, git_commit, eva_bench_version, created_at, ...},
                         "metrics": {held-out numbers of this model, e.g. an IDM's accuracy}}
    config.json         the model constructor's arguments: `Model(**config)` rebuilds the net (diffusers' habit)
    model.safetensors   the weights (and buffers such as normalization statistics)

plus whatever a model keeps beside them (an IDM's `reward.json`, a training run's `metrics.json`); those are not
part of the digest. The digest is a SHA-256 over the kind, the canonical JSON of the config and the bytes of the
weights file: two checkpoints with one digest rebuild the same model with the same weights. It is checked on
every read, so a folder whose weights were replaced after it was written fails loudly instead of silently
reporting numbers of another model; the results database stores the digest of every checkpoint a run used.

Folders written by eva-bench 0.3 (an IDM's `config.json` carrying `"format": "eva-bench-idm/1"`, no
`checkpoint.json`) are read as checkpoints of kind "idm" with an empty provenance.

Pure Python + safetensors; torch is imported only to load or save tensors.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from eva_bench.fileio import atomic_path, atomic_write

FORMAT = "eva-bench-checkpoint/1"
MANIFEST_FILE = "checkpoint.json"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
RUN_MODEL_DIR = "model"  # a training run folder keeps its latest checkpoint here
_LEGACY_FORMATS = {"eva-bench-idm/1": "idm"}


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, of another kind, or was modified after it was written."""


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint folder as read by `read_checkpoint`.

    Args:
        folder: The folder holding the files.
        kind: Which model family it is ("idm", "world_model", "lora", ...).
        config: The constructor arguments.
        digest: "sha256:<hex>" over kind, config and weights (see the module docstring).
        provenance: How it was made (command, data, git commit, version, time); {} when unknown.
        metrics: How good it is (held-out scalars written with it; for 0.3 folders, the scalars of a
            `metrics.json` beside it); {} when unknown.
    """

    folder: Path
    kind: str
    config: dict
    digest: str
    provenance: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    @property
    def weights_path(self) -> Path:
        return self.folder / WEIGHTS_FILE

    @property
    def short_digest(self) -> str:
        """The first 12 hex digits, for tables and messages."""
        return self.digest.split(":", 1)[-1][:12]

    def load_state_dict(self, device: str = "cpu") -> dict:
        """The stored tensors, name -> torch.Tensor on `device`."""
        from safetensors.torch import load_file

        try:
            return load_file(str(self.weights_path), device=str(device))
        except Exception as error:  # safetensors raises its own types for truncated or garbage files
            raise CheckpointError(f"{self.weights_path} is corrupt or truncated: {error}") from error


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the form digests are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def compute_digest(kind: str, config: dict, weights: Path) -> str:
    """The content digest of a checkpoint: kind, config, and the weights file's tensors.

    The safetensors header is hashed in canonical form (its tensor table, without the free-form metadata)
    because its JSON key order is not stable between writes; the data section that follows is hashed as is.
    """
    h = hashlib.sha256()
    h.update(f"{kind}\0{canonical_json(config)}\0".encode())
    with open(weights, "rb") as f:
        try:
            size = int.from_bytes(f.read(8), "little")
            if not 0 < size <= os.fstat(f.fileno()).st_size - 8:
                raise ValueError(f"header size {size} does not fit the file")
            header = json.loads(f.read(size))
        except (ValueError, UnicodeDecodeError) as error:
            raise CheckpointError(f"{weights} is corrupt or truncated (no safetensors header): {error}") from None
        header.pop("__metadata__", None)
        h.update(canonical_json(header).encode() + b"\0")
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def git_commit(path: str | os.PathLike | None = None) -> str:
    """The commit of the git checkout holding `path` (default: this package's source), with "-dirty" when
    tracked files differ from it; "" when the code does not run from a git checkout (e.g. a wheel install)."""
    where = Path(path) if path else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{commit}-dirty" if dirty else commit


def package_version() -> str:
    """The installed eva-bench version ("unknown" when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("eva-bench")
    except PackageNotFoundError:
        return "unknown"


def make_provenance(data: Any = None, command: str | None = None, **extra: Any) -> dict:
    """Provenance of a checkpoint written now: the command line (default: this process's), what it was
    trained on, the git commit and eva-bench version, the time, and any `extra` fields (e.g. the parent
    checkpoint's digest)."""
    return {
        "command": command if command is not None else shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "data": data,
        "git_commit": git_commit(),
        "eva_bench_version": package_version(),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }


def write_checkpoint(folder: str | os.PathLike, kind: str, config: dict, state_dict: dict,
                     provenance: dict | None = None, metrics: dict | None = None) -> Checkpoint:
    """Write a checkpoint folder (each file atomically; the manifest last, so a folder with a manifest is whole).

    Args:
        folder: Where to write (created when missing; files of an older checkpoint there are replaced).
        kind: The model family.
        config: The constructor arguments (JSON-serializable).
        state_dict: name -> tensor (moved to CPU, made contiguous).
        provenance: See `make_provenance` (default: made now, data unknown).
        metrics: Held-out scalars of this model (they are stored with the runs that use it).
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST_FILE).unlink(missing_ok=True)  # a half-replaced folder must not read as whole
    config = json.loads(canonical_json(config))  # as it will be read back
    atomic_write(folder / CONFIG_FILE, json.dumps(config, indent=1) + "\n")
    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        save_file(tensors, str(tmp), metadata={"format": FORMAT, "kind": kind})
    digest = compute_digest(kind, config, folder / WEIGHTS_FILE)
    provenance = provenance if provenance is not None else make_provenance()
    metrics = dict(metrics or {})
    manifest = {"format": FORMAT, "kind": kind, "digest": digest, "provenance": provenance, "metrics": metrics}
    atomic_write(folder / MANIFEST_FILE, json.dumps(manifest, indent=1, default=str) + "\n")
    return Checkpoint(folder, kind, config, digest, provenance, metrics)


def resolve_folder(folder: str | os.PathLike) -> Path:
    """The checkpoint folder meant by `folder`: itself, or the latest model of a training run folder."""
    folder = Path(folder)
    if not (folder / CONFIG_FILE).is_file() and (folder / RUN_MODEL_DIR / CONFIG_FILE).is_file():
        return folder / RUN_MODEL_DIR
    return folder


def read_checkpoint(folder: str | os.PathLike, kind: str | None = None, verify: bool = True) -> Checkpoint:
    """Read a checkpoint's manifest and config (not the weights: see `Checkpoint.load_state_dict`).

    Args:
        folder: A checkpoint folder, or a training run folder (its latest model is read).
        kind: The expected kind; another kind is an error.
        verify: Recompute the digest and compare it with the manifest's.

    Raises:
        CheckpointError: Missing or corrupt files, another kind, or a digest that does not match.
    """
    given = Path(folder)
    folder = resolve_folder(given)
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        what = f"{kind} " if kind else ""
        raise CheckpointError(f"no {what}checkpoint at {given}: {config_path} is missing (`eva-bench train` "
                              "writes checkpoints)")
    config = _read_json(config_path)
    manifest_path = folder / MANIFEST_FILE
    if manifest_path.is_file():
        manifest = _read_json(manifest_path)
        if manifest.get("format") != FORMAT or not isinstance(manifest.get("kind"), str):
            raise CheckpointError(f"{manifest_path} is not an eva-bench checkpoint manifest ({FORMAT!r} expected)")
        found, stored, provenance = manifest["kind"], manifest.get("digest", ""), manifest.get("provenance") or {}
        # A training run's latest model: its final metrics are the run's metrics.json.
        metrics = manifest.get("metrics") or (_metrics_file(folder.parent) if folder.name == RUN_MODEL_DIR else {})
    elif config.get("format") in _LEGACY_FORMATS:  # eva-bench 0.3
        found, stored, provenance, metrics = _LEGACY_FORMATS[config.pop("format")], None, {}, _metrics_file(folder)
    else:
        raise CheckpointError(f"{folder} has a {CONFIG_FILE} but no {MANIFEST_FILE}: not an eva-bench checkpoint "
                              "(or one whose writing was interrupted)")
    if kind is not None and found != kind:
        raise CheckpointError(f"{folder} holds a {found} checkpoint, not a {kind} one")
    if not (folder / WEIGHTS_FILE).is_file():
        raise CheckpointError(f"checkpoint {folder} has a config but no {WEIGHTS_FILE}")
    digest = compute_digest(found, config, folder / WEIGHTS_FILE) if verify or stored is None else stored
    if stored is not None and digest != stored:
        raise CheckpointError(f"checkpoint {folder} was modified after it was written (digest {digest[:19]}..., "
                              f"manifest says {stored[:19]}...); write it again instead of editing its files")
    return Checkpoint(folder, found, config, digest, provenance, metrics)


def _metrics_file(folder: Path) -> dict:
    """The scalar entries of a training run's `metrics.json` in `folder` ({} when there is none)."""
    path = folder / "metrics.json"
    try:
        data = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path} is corrupt (not JSON): {error}") from error
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} is corrupt (a JSON object expected)")
    return data


def content_digest(path: str | os.PathLike) -> str:
    """The digest of whatever a `--checkpoint` names: an eva-bench checkpoint's own digest, else a SHA-256
    over a file's bytes or over every file of a folder (names and bytes), e.g. a RoboTwin policy folder.

    Raises:
        CheckpointError: Nothing exists at `path`, or an eva-bench checkpoint there fails its checks.
    """
    path = Path(path)
    if (resolve_folder(path) / CONFIG_FILE).is_file() and (
            (resolve_folder(path) / MANIFEST_FILE).is_file() or (resolve_folder(path) / WEIGHTS_FILE).is_file()):
        return read_checkpoint(path).digest
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}")
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        h.update(f"{file.relative_to(path) if file != path else file.name}\0".encode())
        with open(file, "rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(block)
    return "sha256:" + h.hexdigest()
