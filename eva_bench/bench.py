"""`eva-bench bench sim|idm|wm|grpo|act`: simulation, rendering, IDM, world-model, GRPO and ACT costs here."""

from __future__ import annotations

import time
from collections.abc import Callable

from eva_bench.expert import run_expert
from eva_bench.sim.env import BimanualEnv
from eva_bench.task import TASKS

CAMERA_SETUPS = {
    "head": ("head_camera",),
    "head+2 wrists": ("head_camera", "left_camera", "right_camera"),
}
RESOLUTIONS = ((320, 240), (128, 128))


def _rate(fn: Callable[[], None], repeat: int) -> float:
    fn()  # warm-up (pipeline compilation, caches)
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return repeat / (time.perf_counter() - start)


def _step_rate(optimizer, loss: Callable, repeat: int) -> float:
    """Optimizer steps per second of minimizing `loss()` (a scalar tensor)."""

    def step() -> None:
        value = loss()
        optimizer.zero_grad()
        value.backward()
        optimizer.step()

    return _rate(step, repeat)


def bench_sim(
    task: str = "click_bell", seed: int = 0, repeat: int = 30, expert_tasks: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """Measure physics steps/s, control steps/s, frames/s per camera setup and expert episodes' wall time.

    Args:
        task: Task whose scene is used for the physics and rendering measurements.
        seed: Scene seed.
        repeat: Repetitions per measurement.
        expert_tasks: Tasks whose expert episode is timed (default: `task` only).

    Returns:
        (metric, value) rows.
    """
    task_cls = TASKS.get(task)
    rows = []
    env = BimanualEnv()
    env.reset(task_cls, seed)
    scene_steps = 250
    rows.append(("physics steps/s (bare scene.step)", f"{_rate(lambda: env.scene.step(), scene_steps * 4):,.0f}"))
    rows.append(("physics steps/s (with drives + success check)",
                 f"{15 * _rate(lambda: env.step(env.command), repeat * 3):,.0f}"))
    for (width, height) in RESOLUTIONS:
        for label, names in CAMERA_SETUPS.items():
            cam_env = BimanualEnv(cameras=dict.fromkeys(names, (width, height)))
            cam_env.reset(task_cls, seed)
            fps = _rate(lambda e=cam_env, n=names: e.get_obs(list(n)), repeat)
            rows.append((f"observations/s, {label} @ {width}x{height}", f"{fps:.1f} ({fps * len(names):.1f} frames/s)"))
    for name in expert_tasks or (task,):
        rows.extend(_expert_episode(name, seed))
    return rows


def _expert_episode(task: str, seed: int) -> list[tuple[str, str]]:
    """Wall time of the expert planning and playing one episode, then of replaying it with the head video."""
    task_cls = TASKS.get(task)
    start = time.perf_counter()
    result = run_expert(task_cls, seed)
    planned = time.perf_counter() - start
    env = BimanualEnv(cameras={"head_camera": (320, 240)})
    env.reset(task_cls, seed)
    start = time.perf_counter()
    for action in result.actions:
        env.step(action)
        env.render("head_camera")
    replay = time.perf_counter() - start
    return [
        (f"expert episode, plan + physics ({task}, {len(result.actions)} steps)",
         f"{planned:.2f} s ({'solved' if result.solvable else 'NOT solved'})"),
        (f"expert replay + head video ({task})", f"{replay:.2f} s, {len(result.actions) / replay:.1f} steps/s"),
    ]


def bench_idm(checkpoint: str, frames: int = 256, sizes=((160, 120), (320, 240)), threads: int = 1,
              batch_size: int = 64) -> list[tuple[str, str]]:
    """IDM inference throughput: frames/s of `decode_video` on a random video of each size (resizing included).

    Args:
        checkpoint: IDM checkpoint folder.
        frames: Video length.
        sizes: (width, height) of the videos decoded.
        threads: Torch CPU threads.
        batch_size: Windows per forward pass.
    """
    import numpy as np
    import torch

    from eva_bench.idm.model import load_idm

    torch.set_num_threads(threads)
    model = load_idm(checkpoint)
    rows = [("IDM", f"{model.config['width']}x{model.config['height']} input, k={model.config['context']}, "
                    f"{model.config['pooling']}, {sum(p.numel() for p in model.parameters()):,} parameters"),
            ("torch threads", str(threads))]
    rng = np.random.default_rng(0)
    for width, height in sizes:
        video = rng.integers(0, 256, (frames, height, width, 3), dtype=np.uint8)
        rate = _rate(lambda v=video: model.decode_video(v, batch_size), repeat=3) * frames
        rows.append((f"decode_video frames/s, {width}x{height} video", f"{rate:,.0f}"))
    return rows


def bench_world_model(idm_checkpoint: str, preset: str = "tiny", batch_size: int = 8, sample_steps: int = 10,
                      segment_latents: int = 4, threads: int = 1, repeat: int = 3) -> list[tuple[str, str]]:
    """World-model costs at 160x120 (random weights: the cost does not depend on training): an SFT step,
    imagining one segment (history encoding, ODE, decoding), the IDM decoding it, and the peak memory.

    Args:
        idm_checkpoint: The IDM that decodes the segment (as `eva-norl` does).
        preset: World-model preset.
        batch_size: Clips per SFT step.
        sample_steps: ODE steps per segment.
        segment_latents: Latents per segment (4 frames each).
        threads: Torch CPU threads.
        repeat: Timed repetitions (after one warm-up).
    """
    import resource

    import numpy as np
    import torch

    from eva_bench.idm.scoring import RewardScorer
    from eva_bench.world_model.autoencoder import FrameAutoencoder
    from eva_bench.world_model.flow import training_example
    from eva_bench.world_model.model import VideoWorldModel
    from eva_bench.world_model.pipeline import WorldModelPipeline
    from eva_bench.world_model.text import InstructionEncoder

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    autoencoder = FrameAutoencoder()
    model = VideoWorldModel.from_preset(preset, latent_channels=autoencoder.config["latent_channels"])
    pipeline = WorldModelPipeline(model, autoencoder, InstructionEncoder())
    scorer = RewardScorer.load(idm_checkpoint)
    frames = segment_latents * autoencoder.group
    rows = [("world model", f"preset {preset}, {sum(p.numel() for p in model.parameters()):,} parameters; "
                            f"autoencoder {sum(p.numel() for p in autoencoder.parameters()):,}"),
            ("torch threads", str(threads))]

    latents = torch.randn(batch_size, 1 + segment_latents, *autoencoder.latent_shape(4)[1:])
    text = pipeline.encoder.encode(["click the bell"] * batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def sft_loss():
        noisy, sigmas, target = training_example(latents, 1, torch.randn_like(latents), torch.rand(batch_size))
        return ((model.train()(noisy, sigmas, text)[:, 1:] - target) ** 2).mean()

    step_rate = _step_rate(optimizer, sft_loss, repeat)
    rows.append((f"SFT step s (batch {batch_size}, 1 + {segment_latents} latents)", f"{1 / step_rate:.2f}"))
    rows.append(("SFT samples/s", f"{step_rate * batch_size:.1f}"))
    history = np.random.default_rng(0).integers(0, 256, (4, 120, 160, 3), dtype=np.uint8)
    model.eval()
    imagined = pipeline.imagine(history, "click the bell", seed=0, steps=sample_steps)
    imagine_rate = _rate(lambda: pipeline.imagine(history, "click the bell", seed=0, steps=sample_steps), repeat)
    video = np.concatenate([history, imagined])
    decode_rate = _rate(lambda: scorer.decode(video), repeat)
    rows.append((f"imagine s per {frames}-frame segment ({sample_steps} ODE steps)", f"{1 / imagine_rate:.2f}"))
    rows.append((f"IDM decode s per segment ({len(video)} frames)", f"{1 / decode_rate:.2f}"))
    rows.append(("eva-norl s per segment (imagine + decode)", f"{1 / imagine_rate + 1 / decode_rate:.2f}"))
    rows.append(("peak RSS MB", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"))
    return rows


def bench_grpo(idm_checkpoint: str, preset: str = "tiny", group_size: int = 8, sample_steps: int = 10,
               train_timesteps: int = 9, threads: int = 1, repeat: int = 2) -> list[tuple[str, str]]:
    """One Flow-GRPO iteration at 160x120 with random weights (the cost does not depend on training): `group_size`
    SDE rollouts of one prompt, their autoencoder decoding and IDM reward, then one update over
    `train_timesteps` stored transitions (forward, backward, AdamW on the LoRA adapter), each timed.

    Args:
        idm_checkpoint: The reward IDM.
        preset: World-model preset.
        group_size: Rollouts per prompt (G).
        sample_steps: SDE steps per rollout.
        train_timesteps: Trained transitions per rollout.
        threads: Torch CPU threads.
        repeat: Timed iterations (after one warm-up); the mean is reported.
    """
    import numpy as np
    import torch

    from eva_bench.align.config import GRPOConfig
    from eva_bench.align.grpo import grpo_loss, sample_rollouts
    from eva_bench.align.lora import add_lora
    from eva_bench.align.rewards import SegmentReward
    from eva_bench.idm.scoring import RewardScorer
    from eva_bench.world_model.autoencoder import FrameAutoencoder
    from eva_bench.world_model.model import VideoWorldModel
    from eva_bench.world_model.pipeline import WorldModelPipeline
    from eva_bench.world_model.text import InstructionEncoder

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    autoencoder = FrameAutoencoder()
    model = add_lora(VideoWorldModel.from_preset(preset, latent_channels=autoencoder.config["latent_channels"]),
                     rank=32, alpha=64)
    pipeline = WorldModelPipeline(model, autoencoder, InstructionEncoder())
    reward = SegmentReward("idm", RewardScorer.load(idm_checkpoint))
    config = GRPOConfig(init=".", data=".", out=".", group_size=group_size, sample_steps=sample_steps,
                        timestep_fraction=train_timesteps / sample_steps, inner_epochs=1)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr)
    history = np.random.default_rng(0).integers(0, 256, (4, 120, 160, 3), dtype=np.uint8)
    times = []
    for iteration in range(repeat + 1):
        rollouts = sample_rollouts(model, pipeline, reward, config, [(history, "click the bell", None, iteration)])
        started = time.perf_counter()
        loss, _ = grpo_loss(model, model, rollouts, config)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if iteration:  # the first is a warm-up
            times.append((rollouts.stats["sample_s"], rollouts.stats["reward_s"], time.perf_counter() - started))
    sample_s, reward_s, update_s = np.mean(times, axis=0)
    total = sample_s + reward_s + update_s
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return [("world model", f"preset {preset}, LoRA rank 32: {trainable:,} trainable parameters"),
            ("torch threads", str(threads)),
            (f"GRPO iteration s (G {group_size}, {sample_steps} SDE steps, {config.train_timesteps} trained)",
             f"{total:.1f}"),
            ("  sampling + autoencoder decoding s", f"{sample_s:.1f} ({sample_s / total:.0%})"),
            ("  IDM reward s", f"{reward_s:.1f} ({reward_s / total:.0%})"),
            ("  update s (loss forward, backward, AdamW)", f"{update_s:.1f} ({update_s / total:.0%})")]


def bench_act(preset: str = "tiny", batch_size: int = 8, threads: int = 1, repeat: int = 3) -> list[tuple[str, str]]:
    """ACT costs (random weights: the cost does not depend on training): a training step of `batch_size`
    samples at the preset's cameras and size, and one policy query (the chunk the `act` policy asks for at
    every control step with temporal aggregation)."""
    import resource

    import numpy as np
    import torch

    from eva_bench.policies.act.config import PRESETS
    from eva_bench.policies.act.model import ACT

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = ACT(**PRESETS[preset]["model"])
    cameras, width, height, chunk = (model.config[k] for k in ("cameras", "width", "height", "chunk"))
    rows = [("ACT", f"preset {preset}, {sum(p.numel() for p in model.parameters()):,} parameters, "
                    f"{len(cameras)} camera(s) at {width}x{height}, chunk {chunk}"), ("torch threads", str(threads))]
    images = torch.randint(0, 256, (batch_size, len(cameras), 3, height, width), dtype=torch.uint8)
    state, actions = torch.randn(batch_size, 14), torch.randn(batch_size, chunk, 14)
    is_pad = torch.zeros(batch_size, chunk, dtype=torch.bool)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

    step_rate = _step_rate(optimizer, lambda: model.loss(images, state, actions, is_pad)[0], repeat)
    rows.append((f"training step s (batch {batch_size})", f"{1 / step_rate:.2f}"))
    rows.append(("training samples/s", f"{step_rate * batch_size:.1f}"))
    frames = np.zeros((len(cameras), height, width, 3), np.uint8)
    query_rate = _rate(lambda: model.predict(frames, np.zeros(14)), 5 * repeat)
    rows.append(("policy query s (one chunk)", f"{1 / query_rate:.3f}"))
    rows.append(("peak RSS MB", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"))
    return rows


def bench_dp(preset: str = "tiny", batch_size: int = 8, threads: int = 1, repeat: int = 3) -> list[tuple[str, str]]:
    """Diffusion Policy costs (random weights): a training step of `batch_size` samples at the preset's camera
    and size, and one policy query (a chunk sampled with the preset's sampler and steps, then its executed rows
    serve as many control steps)."""
    import resource

    import numpy as np
    import torch

    from eva_bench.policies.dp.config import PRESETS
    from eva_bench.policies.dp.model import DiffusionPolicy

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = DiffusionPolicy(**PRESETS[preset]["model"])
    c = model.config
    rows = [("DP", f"preset {preset}, {sum(p.numel() for p in model.parameters()):,} parameters, {c['camera']} at "
                   f"{c['width']}x{c['height']}, {c['n_obs']} observation steps, horizon {c['horizon']}, "
                   f"{c['n_action']} executed"), ("torch threads", str(threads))]
    frames = torch.randint(0, 256, (batch_size, c["n_obs"], 3, c["height"], c["width"]), dtype=torch.uint8)
    states, actions = torch.randn(batch_size, c["n_obs"], 14), torch.randn(batch_size, c["horizon"], 14)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    step_rate = _step_rate(optimizer, lambda: model.loss(frames, states, actions), repeat)
    rows.append((f"training step s (batch {batch_size})", f"{1 / step_rate:.2f}"))
    rows.append(("training samples/s", f"{step_rate * batch_size:.1f}"))
    history = np.zeros((c["n_obs"], c["height"], c["width"], 3), np.uint8)
    query_rate = _rate(lambda: model.predict(history, np.zeros((c["n_obs"], 14))), repeat)
    rows.append((f"policy query s ({c['sampler']}, {c['inference_steps']} steps)", f"{1 / query_rate:.3f}"))
    rows.append(("per control step s", f"{1 / query_rate / c['n_action']:.3f}"))
    rows.append(("peak RSS MB", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"))
    return rows
