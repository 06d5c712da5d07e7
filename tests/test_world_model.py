"""The world model's transformer, flow matching and instruction encoder (tiny shapes, CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eva_bench.world_model.flow import add_noise, generate, sampling_sigmas, shift_sigmas, training_example
from eva_bench.world_model.model import VideoWorldModel
from eva_bench.world_model.text import TEXT_DIM, InstructionEncoder

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY = {"latent_channels": 4, "text_dim": 8, "layers": 1, "heads": 2, "head_dim": 8, "ffn_dim": 16, "freq_dim": 8}


def _inputs(batch: int = 2, frames: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, frames, 4, 4, 6, generator=g), torch.randn(batch, 5, 8, generator=g)


def test_the_velocity_has_the_latents_shape_and_shapes_are_checked() -> None:
    torch.manual_seed(0)
    model = VideoWorldModel(**TINY)
    latents, text = _inputs()
    out = model(latents, torch.rand(2, 3), text)
    assert out.shape == latents.shape
    with pytest.raises(ValueError, match="multiples of the patch"):
        model(latents[..., :5], torch.rand(2, 3), text)
    with pytest.raises(ValueError, match="sigmas must be"):
        model(latents, torch.rand(2, 2), text)
    assert VideoWorldModel.from_preset("tiny").config["layers"] == 4
    with torch.device("meta"):  # the CPU presets' sizes, as their comments and the docs state them
        sizes = {name: sum(p.numel() for p in VideoWorldModel.from_preset(name).parameters())
                 for name in ("tiny", "small")}
    assert round(sizes["tiny"] / 1e6, 1) == 1.3 and round(sizes["small"] / 1e6, 1) == 5.2
    with pytest.raises(ValueError, match="unknown world-model preset"):
        VideoWorldModel.from_preset("huge")


def test_each_frame_is_conditioned_on_its_own_noise_level() -> None:
    """Per-frame levels reach the network: changing one frame's level changes the output."""
    torch.manual_seed(0)
    model = VideoWorldModel(**TINY).eval()
    latents, text = _inputs()
    sigmas = torch.tensor([[0.0, 0.5, 0.5]] * 2)
    base = model(latents, sigmas, text)
    other = sigmas.clone()
    other[:, 0] = 0.9
    assert not torch.allclose(model(latents, other, text), base)
    torch.testing.assert_close(model(latents, sigmas.clone(), text), base)


def test_a_saved_world_model_reloads_to_identical_outputs(tmp_path) -> None:
    torch.manual_seed(0)
    model = VideoWorldModel(**TINY).eval()
    model.save(tmp_path / "wm")
    again = VideoWorldModel.load(tmp_path / "wm").eval()
    latents, text = _inputs()
    sigmas = torch.rand(2, 3)
    torch.testing.assert_close(again(latents, sigmas, text), model(latents, sigmas, text), rtol=0, atol=0)


def test_training_examples_keep_the_history_clean() -> None:
    clean, _ = _inputs(frames=4)
    g = torch.Generator().manual_seed(0)
    noise, u = torch.randn(clean.shape, generator=g), torch.rand(2, generator=g)
    noisy, sigmas, target = training_example(clean, 1, noise, u)
    torch.testing.assert_close(noisy[:, :1], clean[:, :1])
    assert (sigmas[:, 0] == 0).all() and (sigmas[:, 1:] > 0).all() and (sigmas[:, 1:] == sigmas[:, 1:2]).all()
    assert target.shape == (2, 3, 4, 4, 6)
    # x = (1 - s) clean + s noise and v = noise - clean  =>  clean = x - s v
    s = sigmas[:, 1:, None, None, None]
    torch.testing.assert_close(noisy[:, 1:] - s * target, clean[:, 1:], atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="history"):
        training_example(clean, 4, clean, torch.rand(2))


def test_levels_shift_toward_noise_and_the_sampler_ends_clean() -> None:
    u = torch.linspace(0, 1, 11)
    shifted = shift_sigmas(u, 3.0)
    assert shifted[0] == 0 and shifted[-1] == 1 and (shifted[1:-1] > u[1:-1]).all()
    levels = sampling_sigmas(5)
    assert len(levels) == 6 and levels[0] == pytest.approx(1.0) and levels[-1] == 0 and (levels.diff() < 0).all()
    clean, _ = _inputs()
    torch.testing.assert_close(add_noise(clean, torch.zeros_like(clean), torch.ones(2, 3)), torch.zeros_like(clean))


def test_generation_is_deterministic_given_the_seed_and_uses_the_history() -> None:
    torch.manual_seed(0)
    model = VideoWorldModel(**TINY).eval()
    latents, text = _inputs(frames=1)

    def run(history, seed):
        return generate(model, history, 2, text, steps=3, generator=torch.Generator().manual_seed(seed))

    first = run(latents, 7)
    assert first.shape == (2, 2, 4, 4, 6)
    torch.testing.assert_close(run(latents, 7), first, rtol=0, atol=0)
    assert not torch.allclose(run(latents, 8), first)
    assert not torch.allclose(run(latents + 1.0, 7), first)  # another history, same noise: another video


def test_a_model_trained_a_few_steps_fits_a_fixed_batch() -> None:
    torch.manual_seed(0)
    model = VideoWorldModel(**TINY)
    clean, text = _inputs(frames=3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)

    def loss_at(seed):
        g = torch.Generator().manual_seed(seed)
        noise, u = torch.randn(clean.shape, generator=g), torch.rand(2, generator=g)
        noisy, sigmas, target = training_example(clean, 1, noise, u)
        return ((model(noisy, sigmas, text)[:, 1:] - target) ** 2).mean()

    with torch.no_grad():
        before = float(np.mean([loss_at(s).item() for s in range(4)]))
    for step in range(60):
        optimizer.zero_grad()
        loss_at(step % 4).backward()
        optimizer.step()
    with torch.no_grad():
        after = float(np.mean([loss_at(s).item() for s in range(4)]))
    assert after < 0.7 * before, (before, after)


def test_instructions_are_embedded_offline_and_cached() -> None:
    encoder = InstructionEncoder(max_tokens=12)
    texts = ["press the bell", "hand the red block over to the other arm and place it on the blue pad"]
    out = encoder.encode(texts + texts[:1])
    assert out.shape == (3, 12, TEXT_DIM) and out.dtype == torch.float32
    torch.testing.assert_close(out[0], out[2])
    assert (out[0, 6:] == 0).all() and out[1].abs().sum(1).gt(0).all()  # padding is zero; the long one fills all
    assert not torch.allclose(out[0, :3], out[1, :3])
    assert len(encoder._cache) == 2


def test_the_paper_preset_has_wan21_13b_shapes_without_weights() -> None:
    """Built on the meta device (no memory, no weights): Wan2.1-T2V-1.3B's transformer over the paper's
    640x480 x 49-frame latents (13 x 16 x 60 x 80)."""
    with torch.device("meta"):
        model = VideoWorldModel.from_preset("paper")
        params = sum(p.numel() for p in model.parameters())
        out = model(torch.zeros(1, 13, 16, 60, 80), torch.zeros(1, 13), torch.zeros(1, 32, 4096))
    assert 1.3e9 < params < 1.5e9 and out.shape == (1, 13, 16, 60, 80)
    assert model.config["text_dim"] == 4096 and model.config["layers"] == 30


def test_a_local_diffusers_transformer_loads_as_a_world_model(tmp_path) -> None:
    from diffusers import WanTransformer3DModel

    torch.manual_seed(0)
    net = WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=8, in_channels=4,
                                out_channels=4, text_dim=8, freq_dim=8, ffn_dim=16, num_layers=1,
                                rope_max_seq_len=64).eval()
    net.save_pretrained(tmp_path / "wan" / "transformer")
    model = VideoWorldModel.from_diffusers(tmp_path / "wan").eval()
    assert model.config == {**VideoWorldModel(**TINY).config, "patch": [1, 2, 2]}
    latents, text = _inputs()
    sigmas = torch.rand(2, 3)
    expected = net(latents.permute(0, 2, 1, 3, 4), (sigmas * 1000).repeat_interleave(6, 1), text,
                   return_dict=False)[0].permute(0, 2, 1, 3, 4)
    torch.testing.assert_close(model(latents, sigmas, text), expected)
    with pytest.raises(Exception, match="no diffusers WanTransformer3DModel"):
        VideoWorldModel.from_diffusers(tmp_path / "empty")


def test_the_sde_sampler_is_the_ode_at_noise_zero_and_rescores_its_own_steps_exactly() -> None:
    from eva_bench.world_model.flow import generate_with_logprob, transition_log_prob

    torch.manual_seed(0)
    model = VideoWorldModel(**TINY).eval()
    latents, text = _inputs(frames=1)
    ode = generate(model, latents, 2, text, steps=4, generator=torch.Generator().manual_seed(5))
    still = generate_with_logprob(model, latents, 2, text, steps=4, noise_level=0.0,
                                  generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(still.final, ode)

    trajectory = generate_with_logprob(model, latents, 2, text, steps=4, noise_level=0.7,
                                       generator=torch.Generator().manual_seed(5))
    assert trajectory.latents.shape == (2, 5, 2, 4, 4, 6) and trajectory.log_probs.shape == (2, 4)
    assert not torch.allclose(trajectory.final, ode)  # the SDE's noise changes the sample
    again = generate_with_logprob(model, latents, 2, text, steps=4, noise_level=0.7,
                                  generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(again.latents, trajectory.latents, rtol=0, atol=0)  # deterministic given the seed
    for step in range(4):  # unchanged weights: ratio 1 at every step
        log_prob, _, std = transition_log_prob(model, latents, trajectory, step, text, noise_level=0.7)
        torch.testing.assert_close(log_prob, trajectory.log_probs[:, step])
        assert std > 0
    with torch.no_grad():
        model.net.proj_out.weight.add_(0.05)
    moved, _, _ = transition_log_prob(model, latents, trajectory, 1, text, noise_level=0.7)
    assert not torch.allclose(moved, trajectory.log_probs[:, 1])  # changed weights: another probability


def test_the_released_world_model_loads_with_its_autoencoder_and_imagines() -> None:
    import json

    from eva_bench.paths import released_world_model_dir
    from eva_bench.world_model.pipeline import WorldModelPipeline

    folder = released_world_model_dir()
    provenance = json.loads((folder / "checkpoint.json").read_text())["provenance"]
    assert provenance["autoencoder"]["path"] == "autoencoder" and (folder / "MANIFEST.md").is_file()
    pipeline = WorldModelPipeline.load(folder)  # finds autoencoder/ inside and checks its digest
    assert pipeline.frame_size == (160, 120)
    start = np.full((1, 120, 160, 3), 200, np.uint8)
    frames = pipeline.imagine(start, "press the bell", seed=3, steps=2)
    assert frames.shape[1:] == (120, 160, 3) and len(frames) == 4 * pipeline.sampling.segment_latents
    np.testing.assert_array_equal(frames, pipeline.imagine(start, "press the bell", seed=3, steps=2))
