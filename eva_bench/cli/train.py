"""`eva-bench train ...`: train models (the IDM, the video autoencoder, the world model, its GRPO adapter, the
ACT and DP baselines) on the shared trainer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eva_bench.align.config import GRPOConfig
from eva_bench.cli.common import split_task_option
from eva_bench.configs import field_default, field_docs
from eva_bench.errors import UserError
from eva_bench.idm.train_config import TrainConfig
from eva_bench.policies.act.config import ACTTrainConfig
from eva_bench.policies.dp.config import DPTrainConfig
from eva_bench.world_model.autoencoder_config import AutoencoderTrainConfig
from eva_bench.world_model.train_config import WorldModelTrainConfig

app = typer.Typer(help="Train models.", no_args_is_help=True)


def _resolution(text: str | None) -> tuple[int, int] | None:
    from eva_bench.sim.cameras import parse_resolution  # imports SAPIEN: not at CLI start-up

    if text is None:
        return None
    try:
        return parse_resolution(text)
    except ValueError as error:
        raise UserError(f"--resolution: {error}") from None


def _help(name: str, config: type = TrainConfig) -> str:
    return field_docs(config)[name]


def _default(name: str, config: type = TrainConfig):
    return field_default(config, name)


def _finished(result, steps: int, unit: str) -> dict | None:
    """Print the step reached and the throughput; return the held-out metrics to print (None: none, or not the
    main process, which alone reports under `accelerate launch`)."""
    if not result.main_process:
        return None
    typer.echo(f"step {result.step}/{steps}, {result.samples_per_s:.1f} {unit}/s -> {result.out}")
    if result.metrics is None:
        typer.echo("no held-out episode: no test metrics (use more episodes or --holdout)")
    return result.metrics


def _field_helpers(config: type):
    """(help text of a field, its default) readers for one config dataclass."""
    return (lambda name: _help(name, config)), (lambda name: _default(name, config))


_ae_help, _ae_default = _field_helpers(AutoencoderTrainConfig)


_wm_help, _wm_default = _field_helpers(WorldModelTrainConfig)


@app.command("idm")
def train_idm(
    data: Annotated[Path, typer.Option(help=_help("data"))],
    out: Annotated[Path, typer.Option(help=_help("out"))],
    preset: Annotated[str, typer.Option(help=_help("preset"))] = _default("preset"),
    pooling: Annotated[str, typer.Option(help=_help("pooling"))] = _default("pooling"),
    steps: Annotated[int, typer.Option(min=1, help=_help("steps"))] = _default("steps"),
    batch_size: Annotated[int, typer.Option(min=1, help=_help("batch_size"))] = _default("batch_size"),
    lr: Annotated[float, typer.Option(help=_help("lr"))] = _default("lr"),
    context: Annotated[int, typer.Option(min=0, help=_help("context"))] = _default("context"),
    resolution: Annotated[str | None, typer.Option(help="WIDTHxHEIGHT: " + _help("resolution"))] = None,
    camera: Annotated[str, typer.Option(help=_help("camera"))] = _default("camera"),
    tasks: Annotated[str | None, typer.Option(help="Comma-separated. " + _help("tasks"))] = None,
    holdout: Annotated[float, typer.Option(help=_help("holdout"))] = _default("holdout"),
    seed: Annotated[int, typer.Option(help=_help("seed"))] = _default("seed"),
    eval_every: Annotated[int, typer.Option(min=1, help=_help("eval_every"))] = _default("eval_every"),
    checkpoint_every: Annotated[int, typer.Option(min=1, help=_help("checkpoint_every"))] = _default(
        "checkpoint_every"),
    threads: Annotated[int, typer.Option(min=0, help=_help("threads"))] = _default("threads"),
    cache_mb: Annotated[int, typer.Option(min=0, help=_help("cache_mb") + " All 21 tasks x 50 episodes at "
                                          "160x120 need about 8,200.")] = _default("cache_mb"),
    device: Annotated[str, typer.Option(help=_help("device"))] = _default("device"),
    mixed_precision: Annotated[str, typer.Option(help=_help("mixed_precision"))] = _default("mixed_precision"),
    grad_accum: Annotated[int, typer.Option(min=1, help=_help("grad_accum"))] = _default("grad_accum"),
    tensorboard: Annotated[bool, typer.Option(help=_help("tensorboard"))] = _default("tensorboard"),
    init: Annotated[Path | None, typer.Option(help=_help("init"))] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train the inverse dynamics model on episode files (resumable: run again with the same --out; the model
    lands in OUT/model, see docs/training.md).

    Several GPUs: accelerate launch --multi_gpu --num_processes N -m eva_bench.cli train idm ... --device cuda
    """
    from eva_bench.idm.train import train

    if not data.exists():
        raise UserError(f"--data: no such folder {data}")
    config = TrainConfig(
        data=str(data), out=str(out), preset=preset, pooling=pooling, context=context,
        resolution=_resolution(resolution), camera=camera, tasks=split_task_option(tasks), holdout=holdout, seed=seed,
        steps=steps, batch_size=batch_size, lr=lr, eval_every=eval_every, checkpoint_every=checkpoint_every,
        threads=threads, device=device, cache_mb=cache_mb, mixed_precision=mixed_precision, grad_accum=grad_accum,
        tensorboard=tensorboard, init=str(init) if init else "",
    )
    result = train(config, progress=progress)
    m = _finished(result, config.steps, "samples")
    if m is None:
        return
    typer.echo(f"held-out: {m['samples']} samples, accuracy (|error| <= 0.05) {m['accuracy']:.4f}, "
               f"mean MAE {m['mae_mean']:.4f}")
    names = [f"{arm}_{j}" for arm in ("left", "right") for j in (*(f"j{i}" for i in range(1, 7)), "gripper")]
    typer.echo("  ".join(f"{n}={v:.3f}" for n, v in zip(names, m["mae"], strict=True)))




@app.command("vae")
def train_vae(
    data: Annotated[Path, typer.Option(help=_ae_help("data"))],
    out: Annotated[Path, typer.Option(help=_ae_help("out"))],
    steps: Annotated[int, typer.Option(min=1, help=_ae_help("steps"))] = _ae_default("steps"),
    batch_size: Annotated[int, typer.Option(min=1, help=_ae_help("batch_size"))] = _ae_default("batch_size"),
    lr: Annotated[float, typer.Option(help=_ae_help("lr"))] = _ae_default("lr"),
    block_channels: Annotated[str, typer.Option(help="Comma-separated channels of the resolution levels (each "
                                                "after the first halves the resolution).")] = "32,64,128,128",
    latent_channels: Annotated[int, typer.Option(min=1, help="Channels of a latent.")] = 16,
    latent_noise: Annotated[float, typer.Option(min=0.0, help="Std of the noise added to latents in training, "
                                                "relative to their std.")] = 0.1,
    camera: Annotated[str, typer.Option(help=_ae_help("camera"))] = _ae_default("camera"),
    tasks: Annotated[str | None, typer.Option(help="Comma-separated. " + _ae_help("tasks"))] = None,
    holdout: Annotated[float, typer.Option(help=_ae_help("holdout"))] = _ae_default("holdout"),
    seed: Annotated[int, typer.Option(help=_ae_help("seed"))] = _ae_default("seed"),
    eval_every: Annotated[int, typer.Option(min=1, help=_ae_help("eval_every"))] = _ae_default("eval_every"),
    checkpoint_every: Annotated[int, typer.Option(min=1, help=_ae_help("checkpoint_every"))] = _ae_default(
        "checkpoint_every"),
    reward_idm: Annotated[str | None, typer.Option(help=_ae_help("reward_idm"))] = None,
    reward_episodes: Annotated[int, typer.Option(min=0, help=_ae_help("reward_episodes"))] = _ae_default(
        "reward_episodes"),
    window_groups: Annotated[int, typer.Option(min=1, help=_ae_help("window_groups"))] = _ae_default(
        "window_groups"),
    temporal_weight: Annotated[float, typer.Option(min=0.0, help=_ae_help("temporal_weight"))] = _ae_default(
        "temporal_weight"),
    idm_weight: Annotated[float, typer.Option(min=0.0, help=_ae_help("idm_weight"))] = _ae_default("idm_weight"),
    idm: Annotated[str | None, typer.Option(help=_ae_help("idm"))] = None,
    init: Annotated[Path | None, typer.Option(help=_ae_help("init"))] = None,
    threads: Annotated[int, typer.Option(min=0, help=_ae_help("threads"))] = _ae_default("threads"),
    cache_mb: Annotated[int, typer.Option(min=0, help=_ae_help("cache_mb"))] = _ae_default("cache_mb"),
    device: Annotated[str, typer.Option(help=_ae_help("device"))] = _ae_default("device"),
    mixed_precision: Annotated[str, typer.Option(help=_ae_help("mixed_precision"))] = _ae_default(
        "mixed_precision"),
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train the world model's video autoencoder (4 frames per latent, 8x spatial) on episode files at their
    recorded resolution (resumable: run again with the same --out; the model lands in OUT/model, held-out
    reconstructions in OUT/reconstructions.png)."""
    from eva_bench.world_model.autoencoder_train import train_autoencoder

    if not data.exists():
        raise UserError(f"--data: no such folder {data}")
    try:
        channels = [int(c) for c in block_channels.split(",")]
    except ValueError:
        raise UserError(f"--block-channels: comma-separated integers, got {block_channels!r}") from None
    config = AutoencoderTrainConfig(
        data=str(data), out=str(out), steps=steps, batch_size=batch_size, lr=lr, camera=camera,
        model={"block_channels": channels, "latent_channels": latent_channels, "latent_noise": latent_noise},
        tasks=split_task_option(tasks), holdout=holdout, seed=seed, eval_every=eval_every,
        checkpoint_every=checkpoint_every, reward_idm=reward_idm, reward_episodes=reward_episodes, threads=threads,
        cache_mb=cache_mb, device=device, mixed_precision=mixed_precision, window_groups=window_groups,
        temporal_weight=temporal_weight, idm_weight=idm_weight, idm=idm, init=str(init) if init else "",
    )
    result = train_autoencoder(config, progress=progress)
    m = _finished(result, config.steps, "groups")
    if m is None:
        return
    typer.echo(f"held-out: {m['groups']} groups, PSNR {m['psnr_db']:.2f} dB")
    if "reward_real" in m:
        typer.echo(f"reward round trip ({m['episodes']} videos): real {m['reward_real']:.3f}, reconstructed "
                   f"{m['reward_reconstructed']:.3f}, mean |difference| {m['reward_abs_diff']:.3f}; rank correlation "
                   f"over {m['segments']} 16-frame segments {m['segment_rank_correlation']:.3f}")


@app.command("wm")
def train_wm(
    data: Annotated[Path, typer.Option(help=_wm_help("data"))],
    autoencoder: Annotated[Path, typer.Option(help=_wm_help("autoencoder"))],
    out: Annotated[Path, typer.Option(help=_wm_help("out"))],
    preset: Annotated[str, typer.Option(help=_wm_help("preset"))] = _wm_default("preset"),
    steps: Annotated[int, typer.Option(min=1, help=_wm_help("steps"))] = _wm_default("steps"),
    batch_size: Annotated[int, typer.Option(min=1, help=_wm_help("batch_size"))] = _wm_default("batch_size"),
    lr: Annotated[float, typer.Option(help=_wm_help("lr"))] = _wm_default("lr"),
    warmup: Annotated[int, typer.Option(min=0, help=_wm_help("warmup"))] = _wm_default("warmup"),
    history_latents: Annotated[int, typer.Option(min=1, help=_wm_help("history_latents"))] = _wm_default(
        "history_latents"),
    segment_latents: Annotated[int, typer.Option(min=1, help=_wm_help("segment_latents"))] = _wm_default(
        "segment_latents"),
    camera: Annotated[str, typer.Option(help=_wm_help("camera"))] = _wm_default("camera"),
    tasks: Annotated[str | None, typer.Option(help="Comma-separated. " + _wm_help("tasks"))] = None,
    holdout: Annotated[float, typer.Option(help=_wm_help("holdout"))] = _wm_default("holdout"),
    seed: Annotated[int, typer.Option(help=_wm_help("seed"))] = _wm_default("seed"),
    eval_every: Annotated[int, typer.Option(min=1, help=_wm_help("eval_every"))] = _wm_default("eval_every"),
    checkpoint_every: Annotated[int, typer.Option(min=1, help=_wm_help("checkpoint_every"))] = _wm_default(
        "checkpoint_every"),
    eval_segments: Annotated[int, typer.Option(min=0, help=_wm_help("eval_segments"))] = _wm_default(
        "eval_segments"),
    sample_steps: Annotated[int, typer.Option(min=1, help=_wm_help("sample_steps"))] = _wm_default("sample_steps"),
    reward_idm: Annotated[str | None, typer.Option(help=_wm_help("reward_idm"))] = None,
    latent_cache: Annotated[Path | None, typer.Option(help=_wm_help("latent_cache"))] = None,
    threads: Annotated[int, typer.Option(min=0, help=_wm_help("threads"))] = _wm_default("threads"),
    device: Annotated[str, typer.Option(help=_wm_help("device"))] = _wm_default("device"),
    mixed_precision: Annotated[str, typer.Option(help=_wm_help("mixed_precision"))] = _wm_default(
        "mixed_precision"),
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Fine-tune the video world model on episode files in the latent space of a trained autoencoder (SFT with
    diffusion forcing; resumable: run again with the same --out; the model lands in OUT/model)."""
    from eva_bench.world_model.train import train_world_model

    if not data.exists():
        raise UserError(f"--data: no such folder {data}")
    config = WorldModelTrainConfig(
        data=str(data), autoencoder=str(autoencoder), out=str(out), preset=preset, steps=steps,
        batch_size=batch_size, lr=lr, warmup=warmup, history_latents=history_latents,
        segment_latents=segment_latents, camera=camera, tasks=split_task_option(tasks), holdout=holdout, seed=seed,
        eval_every=eval_every, checkpoint_every=checkpoint_every, eval_segments=eval_segments,
        sample_steps=sample_steps, reward_idm=reward_idm, latent_cache=str(latent_cache) if latent_cache else None,
        threads=threads, device=device, mixed_precision=mixed_precision,
    )
    result = train_world_model(config, progress=progress)
    m = _finished(result, config.steps, "clips")
    if m is None:
        return
    line = f"held-out: loss {m['loss']:.4f}, {m['segments']} generated segments, PSNR {m['psnr_db']:.2f} dB"
    if "reward" in m:
        line += f", IDM reward {m['reward']:.3f} (real segments {m['reward_real']:.3f})"
    typer.echo(line)


_g_help, _g_default = _field_helpers(GRPOConfig)


@app.command("grpo")
def train_grpo_command(
    init: Annotated[Path, typer.Option(help=_g_help("init"))],
    data: Annotated[Path, typer.Option(help=_g_help("data"))],
    out: Annotated[Path, typer.Option(help=_g_help("out"))],
    steps: Annotated[int, typer.Option(min=1, help=_g_help("steps"))] = _g_default("steps"),
    batch_size: Annotated[int, typer.Option(min=1, help=_g_help("batch_size"))] = _g_default("batch_size"),
    group_size: Annotated[int, typer.Option(min=2, help=_g_help("group_size"))] = _g_default("group_size"),
    lr: Annotated[float, typer.Option(help=_g_help("lr"))] = _g_default("lr"),
    warmup: Annotated[int, typer.Option(min=0, help=_g_help("warmup"))] = _g_default("warmup"),
    tasks: Annotated[str | None, typer.Option(help="Comma-separated. " + _g_help("tasks"))] = None,
    reward: Annotated[str, typer.Option(help=_g_help("reward"))] = _g_default("reward"),
    reward_idm: Annotated[str | None, typer.Option(help=_g_help("reward_idm"))] = None,
    sample_steps: Annotated[int, typer.Option(min=1, help=_g_help("sample_steps"))] = _g_default("sample_steps"),
    noise_level: Annotated[float, typer.Option(help=_g_help("noise_level"))] = _g_default("noise_level"),
    timestep_fraction: Annotated[float, typer.Option(help=_g_help("timestep_fraction"))] = _g_default(
        "timestep_fraction"),
    clip_range: Annotated[float, typer.Option(help=_g_help("clip_range"))] = _g_default("clip_range"),
    adv_clip: Annotated[float, typer.Option(help=_g_help("adv_clip"))] = _g_default("adv_clip"),
    beta: Annotated[float, typer.Option(help=_g_help("beta"))] = _g_default("beta"),
    advantage_std: Annotated[str, typer.Option(help=_g_help("advantage_std"))] = _g_default("advantage_std"),
    inner_epochs: Annotated[int, typer.Option(min=1, help=_g_help("inner_epochs"))] = _g_default("inner_epochs"),
    lora_rank: Annotated[int, typer.Option(min=1, help=_g_help("lora_rank"))] = _g_default("lora_rank"),
    lora_alpha: Annotated[float, typer.Option(help=_g_help("lora_alpha"))] = _g_default("lora_alpha"),
    eval_every: Annotated[int, typer.Option(min=1, help=_g_help("eval_every"))] = _g_default("eval_every"),
    checkpoint_every: Annotated[int, typer.Option(min=1, help=_g_help("checkpoint_every"))] = _g_default(
        "checkpoint_every"),
    snapshot_every: Annotated[int, typer.Option(min=0, help=_g_help("snapshot_every"))] = _g_default(
        "snapshot_every"),
    val_prompts: Annotated[int, typer.Option(min=1, help=_g_help("val_prompts"))] = _g_default("val_prompts"),
    seed: Annotated[int, typer.Option(help=_g_help("seed"))] = _g_default("seed"),
    threads: Annotated[int, typer.Option(min=0, help=_g_help("threads"))] = _g_default("threads"),
    device: Annotated[str, typer.Option(help=_g_help("device"))] = _g_default("device"),
    mixed_precision: Annotated[str, typer.Option(help=_g_help("mixed_precision"))] = _g_default("mixed_precision"),
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Align an SFT world model with Flow-GRPO on the IDM reward (LoRA adapter; resumable: run again with the
    same --out). The adapter lands in OUT/model, snapshots in OUT/snapshots (rank them with `eva-bench compare
    OUT`); per-step reward, detectors, KL and timings in OUT/grpo_log.csv."""
    from eva_bench.align.grpo import LOG_FILE, train_grpo

    if not data.exists():
        raise UserError(f"--data: no such folder {data}")
    config = GRPOConfig(
        init=str(init), data=str(data), out=str(out), steps=steps, batch_size=batch_size, group_size=group_size,
        lr=lr, warmup=warmup, tasks=split_task_option(tasks), reward=reward, reward_idm=reward_idm,
        sample_steps=sample_steps, noise_level=noise_level, timestep_fraction=timestep_fraction,
        clip_range=clip_range, adv_clip=adv_clip, beta=beta, advantage_std=advantage_std, inner_epochs=inner_epochs,
        lora_rank=lora_rank, lora_alpha=lora_alpha, eval_every=eval_every, checkpoint_every=checkpoint_every,
        snapshot_every=snapshot_every, val_prompts=val_prompts, seed=seed, threads=threads, device=device,
        mixed_precision=mixed_precision,
    )
    result = train_grpo(config, progress=progress)
    if not result.main_process:
        return
    typer.echo(f"step {result.step}/{config.steps} -> {result.out} (per-step log: {result.out / LOG_FILE})")
    if result.metrics:
        typer.echo(f"held-out prompts: reward {result.metrics['val_reward']:.4f} (ODE rollouts)")


_a_help, _a_default = _field_helpers(ACTTrainConfig)


@app.command("act")
def train_act_command(
    data: Annotated[Path, typer.Option(help=_a_help("data"))],
    out: Annotated[Path, typer.Option(help=_a_help("out"))],
    tasks: Annotated[str | None, typer.Option(help="Comma-separated. " + _a_help("tasks"))] = None,
    preset: Annotated[str, typer.Option(help=_a_help("preset"))] = _a_default("preset"),
    multi_task: Annotated[bool, typer.Option(help=_a_help("multi_task"))] = False,
    steps: Annotated[int, typer.Option(min=0, help="Optimizer steps (0: the preset's).")] = 0,
    batch_size: Annotated[int, typer.Option(min=0, help="Samples per step (0: the preset's).")] = 0,
    lr: Annotated[float, typer.Option(min=0, help="Peak learning rate (0: the preset's).")] = 0.0,
    warmup: Annotated[int, typer.Option(min=0, help=_help("warmup", ACTTrainConfig))] = _a_default("warmup"),
    kl_weight: Annotated[float | None, typer.Option(help=_a_help("kl_weight") + " Default: the preset's.")] = None,
    chunk: Annotated[int | None, typer.Option(min=1, help="Actions per chunk (default: the preset's, 50).")] = None,
    resnet_weights: Annotated[Path | None, typer.Option(help=_a_help("resnet_weights"))] = None,
    holdout: Annotated[float, typer.Option(help=_a_help("holdout"))] = _a_default("holdout"),
    seed: Annotated[int, typer.Option(help=_a_help("seed"))] = _a_default("seed"),
    eval_every: Annotated[int, typer.Option(min=1, help=_a_help("eval_every"))] = _a_default("eval_every"),
    checkpoint_every: Annotated[int, typer.Option(min=1, help=_a_help("checkpoint_every"))] = _a_default(
        "checkpoint_every"),
    cache_mb: Annotated[int, typer.Option(min=0, help=_a_help("cache_mb"))] = _a_default("cache_mb"),
    threads: Annotated[int, typer.Option(min=0, help=_a_help("threads"))] = _a_default("threads"),
    device: Annotated[str, typer.Option(help=_a_help("device"))] = _a_default("device"),
    mixed_precision: Annotated[str, typer.Option(help=_a_help("mixed_precision"))] = _a_default(
        "mixed_precision"),
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train ACT (the Table 2 baseline) on expert demos: one task per model by RoboTwin's protocol, or one
    task-conditioned model with --multi-task (resumable: run again with the same --out; the model lands in
    OUT/model, and `eva-bench run --policy act --checkpoint OUT` evaluates it)."""
    from eva_bench.policies.act.train import train_act

    if not data.exists():
        raise UserError(f"--data: no such folder {data}")
    config = ACTTrainConfig(
        data=str(data), out=str(out), tasks=split_task_option(tasks), preset=preset, multi_task=multi_task,
        steps=steps, batch_size=batch_size, lr=lr, warmup=warmup, kl_weight=kl_weight,
        model={"chunk": chunk} if chunk else {}, resnet_weights=str(resnet_weights) if resnet_weights else "",
        holdout=holdout, seed=seed, eval_every=eval_every, checkpoint_every=checkpoint_every, cache_mb=cache_mb,
        threads=threads, device=device, mixed_precision=mixed_precision,
    )
    result = train_act(config, progress=progress)
    m = _finished(result, config.steps, "samples")
    if m is None:
        return
    typer.echo(f"held-out ({m['samples']} samples): L1 {m['val_l1']:.4f} (normalized), first action MAE "
               f"{m['val_first_mae']:.4f} rad, chunk MAE {m['val_chunk_mae']:.4f} rad")


_d_help, _d_default = _field_helpers(DPTrainConfig)


@app.command("dp")
def train_dp_command(
    data: Annotated[Path, typer.Option(help=_d_help("data"))],
    out: Annotated[Path, typer.Option(help=_d_help("out"))],
    tasks: Annotated[str | None, typer.Option(help="Comma-separated. " + _d_help("tasks"))] = None,
    preset: Annotated[str, typer.Option(help=_d_help("preset"))] = _d_default("preset"),
    multi_task: Annotated[bool, typer.Option(help=_d_help("multi_task"))] = False,
    steps: Annotated[int, typer.Option(min=0, help="Optimizer steps (0: the preset's).")] = 0,
    batch_size: Annotated[int, typer.Option(min=0, help="Samples per step (0: the preset's).")] = 0,
    lr: Annotated[float, typer.Option(min=0, help="Peak learning rate (0: the preset's).")] = 0.0,
    warmup: Annotated[int, typer.Option(min=0, help="Warm-up steps (0: the preset's, 500).")] = 0,
    inference_steps: Annotated[int | None, typer.Option(
        min=1, help="The model's default denoising steps at inference (default: the preset's).")] = None,
    ema: Annotated[bool, typer.Option(help=_d_help("ema"))] = _d_default("ema"),
    holdout: Annotated[float, typer.Option(help=_d_help("holdout"))] = _d_default("holdout"),
    seed: Annotated[int, typer.Option(help=_d_help("seed"))] = _d_default("seed"),
    eval_every: Annotated[int, typer.Option(min=1, help=_d_help("eval_every"))] = _d_default("eval_every"),
    eval_samples: Annotated[int, typer.Option(min=1, help=_d_help("eval_samples"))] = _d_default("eval_samples"),
    checkpoint_every: Annotated[int, typer.Option(min=1, help=_d_help("checkpoint_every"))] = _d_default(
        "checkpoint_every"),
    cache_mb: Annotated[int, typer.Option(min=0, help=_d_help("cache_mb"))] = _d_default("cache_mb"),
    threads: Annotated[int, typer.Option(min=0, help=_d_help("threads"))] = _d_default("threads"),
    device: Annotated[str, typer.Option(help=_d_help("device"))] = _d_default("device"),
    mixed_precision: Annotated[str, typer.Option(help=_d_help("mixed_precision"))] = _d_default(
        "mixed_precision"),
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train Diffusion Policy (the Table 2 baseline) on expert demos: one task per model by RoboTwin's
    protocol, or one task-conditioned model with --multi-task (resumable: run again with the same --out; the
    EMA model lands in OUT/model, and `eva-bench run --policy dp --checkpoint OUT` evaluates it)."""
    from eva_bench.policies.dp.train import train_dp

    if not data.exists():
        raise UserError(f"--data: no such folder {data}")
    config = DPTrainConfig(
        data=str(data), out=str(out), tasks=split_task_option(tasks), preset=preset, multi_task=multi_task,
        steps=steps, batch_size=batch_size, lr=lr, warmup=warmup, ema=ema,
        model={"inference_steps": inference_steps} if inference_steps else {}, holdout=holdout, seed=seed,
        eval_every=eval_every, eval_samples=eval_samples, checkpoint_every=checkpoint_every, cache_mb=cache_mb,
        threads=threads, device=device, mixed_precision=mixed_precision,
    )
    result = train_dp(config, progress=progress)
    m = _finished(result, config.steps, "samples")
    if m is None:
        return
    typer.echo(f"held-out ({m['samples']} samples): epsilon MSE {m['val_mse']:.4f}, first action MAE "
               f"{m['val_first_mae']:.4f} rad, executed chunk MAE {m['val_chunk_mae']:.4f} rad")
