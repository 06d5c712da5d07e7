"""`SavedModel`: save and load for every torch model of eva-bench, in the one checkpoint format.

A model keeps its constructor arguments in `self.config` (the constructor *is* the config, diffusers' habit) and
names its family in the class attribute `kind`; `save` writes an `eva_bench.checkpoint` folder and `load`
rebuilds the model from one, refusing a folder of another kind, a config the class rejects or weights that do
not fit. The IDM, the video autoencoder and the world model all inherit it.
"""

from __future__ import annotations

import os
from typing import ClassVar, TypeVar

import torch

from eva_bench.checkpoint import CONFIG_FILE, Checkpoint, CheckpointError, read_checkpoint, write_checkpoint

Model = TypeVar("Model", bound="SavedModel")


class SavedModel(torch.nn.Module):
    """Mixin of a `torch.nn.Module` whose `config` dict holds its constructor arguments."""

    kind: ClassVar[str]
    config: dict

    def save(self, folder: str | os.PathLike, provenance: dict | None = None,
             metrics: dict | None = None) -> Checkpoint:
        """Write this model as an eva-bench checkpoint of its kind (see `eva_bench.checkpoint`)."""
        return write_checkpoint(folder, self.kind, self.config, self.state_dict(), provenance, metrics)

    @classmethod
    def load_config(cls, folder: str | os.PathLike) -> dict:
        """The constructor arguments stored in a checkpoint folder (or a training run's latest model).

        Raises:
            CheckpointError: No such folder or config, another kind of model, or modified since written.
        """
        return read_checkpoint(folder, cls.kind).config

    @classmethod
    def load(cls: type[Model], folder: str | os.PathLike, map_location: str | torch.device = "cpu") -> Model:
        """Rebuild a model from a checkpoint folder written by `save`.

        Raises:
            CheckpointError: Missing or corrupt files, or weights that do not fit the stored config.
        """
        checkpoint = read_checkpoint(folder, cls.kind)
        try:
            model = cls(**checkpoint.config)
        except (TypeError, ValueError) as error:
            raise CheckpointError(f"{checkpoint.folder / CONFIG_FILE} does not describe a model of kind "
                                  f"{cls.kind!r}: {error}") from error
        model.load_checkpoint_weights(checkpoint, map_location)
        return model

    def load_checkpoint_weights(self, checkpoint: Checkpoint, map_location: str | torch.device = "cpu") -> None:
        """Load the weights of `checkpoint` into this model, checking that its config matches."""
        if checkpoint.config != self.config:
            diff = {k: (checkpoint.config.get(k), v) for k, v in self.config.items() if checkpoint.config.get(k) != v}
            raise CheckpointError(f"checkpoint {checkpoint.folder} was saved with another config (stored, this "
                                  f"model): {diff}")
        try:
            self.load_state_dict(checkpoint.load_state_dict(str(map_location)), strict=True)
        except RuntimeError as error:
            raise CheckpointError(f"{checkpoint.weights_path} does not fit the model of {CONFIG_FILE}: "
                                  f"{error}") from error

    def load_weights(self, folder: str | os.PathLike, map_location: str | torch.device = "cpu") -> None:
        """Load the weights of the checkpoint in `folder` into this model, checking that the config matches."""
        self.load_checkpoint_weights(read_checkpoint(folder, self.kind), map_location)
