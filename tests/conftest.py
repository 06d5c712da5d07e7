"""Shared test fixtures: a tiny task with a scripted success pulse, registered once for the whole session."""

from __future__ import annotations

import numpy as np
import pytest

from eva_bench.task import TASKS, Task


class PulseTask(Task):
    """A scene with no objects whose success condition holds during exactly one physics sub-step.

    It makes the latch and the step limit observable without depending on any real task's physics.
    """

    name = "_test_pulse"
    step_limit = 5
    arms = "single"
    seen_instructions = tuple(f"pulse seen {i}" for i in range(20))
    unseen_instructions = tuple(f"pulse unseen {i}" for i in range(5))
    pulse_at = 20  # physics sub-step (counted from the first env.step) at which the condition holds

    def load(self) -> None:
        self.substeps = 0

    def check_success(self) -> bool:
        self.substeps += 1
        return self.substeps == self.pulse_at

    def play_expert(self, motion) -> None:
        motion.hold(3)


class NeverTask(PulseTask):
    """Like PulseTask but never succeeds."""

    name = "_test_never"
    pulse_at = -1


for _cls in (PulseTask, NeverTask):
    if _cls.name not in TASKS:
        TASKS.register(_cls.name, _cls)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def one_torch_thread():
    """Small models on a shared 2-core machine run several times faster on one thread than on two."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_world_model(tmp_path_factory):
    """A tiny untrained world model at 160x120 (2 latents = 8 frames per segment) in <root>/wm, its
    autoencoder in <root>/ae and a random LoRA adapter on it in <root>/eva: the plumbing of world-model
    policies, not their quality."""
    import torch

    from eva_bench.world_model.autoencoder import FrameAutoencoder
    from eva_bench.world_model.model import VideoWorldModel

    root = tmp_path_factory.mktemp("tiny_world_model")
    torch.manual_seed(0)
    ae = FrameAutoencoder(block_channels=[8, 8, 8, 8]).save(root / "ae")
    provenance = {"autoencoder": {"path": str(root / "ae"), "digest": ae.digest},
                  "sampling": {"shift": 3.0, "history_latents": 1, "segment_latents": 2}}
    base = VideoWorldModel(latent_channels=16, layers=1, heads=2, head_dim=8, ffn_dim=16, freq_dim=8).save(
        root / "wm", provenance=provenance)
    from eva_bench.align.lora import add_lora, save_lora

    aligned = add_lora(VideoWorldModel.load(root / "wm"), rank=2, alpha=4)
    with torch.no_grad():  # a trained adapter's B is not zero: the aligned model differs from its base
        for name, parameter in aligned.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.5)
    save_lora(aligned, root / "eva", base)
    return root


@pytest.fixture(scope="session")
def tiny_act(tmp_path_factory):
    """An untrained ACT of click_bell at 64x48 (the policy contract's; its plumbing, not its quality)."""
    import torch
    from eva_bench.policies.act.model import ACT

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny_act") / "act"
    ACT(width=64, height=48, chunk=5, hidden=32, ff=64, heads=2, enc_layers=1, vae_layers=1, latent_dim=4,
        stem_channels=8, stages=[[16, 1, 2], [16, 1, 2]]).save(folder, provenance={"data": {"tasks": ["click_bell"]}})
    return folder


@pytest.fixture(scope="session")
def tiny_dp(tmp_path_factory):
    """An untrained Diffusion Policy of click_bell at 64x48 (the policy contract's; its plumbing, not quality)."""
    import torch
    from eva_bench.policies.dp.model import DiffusionPolicy

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny_dp") / "dp"
    DiffusionPolicy(width=64, height=48, n_obs=2, horizon=4, n_action=2, stem_channels=8, stages=[[16, 1, 2]],
                    keypoints=8, down_dims=[16, 32], groups=4, step_dim=16, train_steps=20,
                    inference_steps=3).save(folder, provenance={"data": {"tasks": ["click_bell"]}})
    return folder
