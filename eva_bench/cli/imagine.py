"""`eva-bench imagine`: a world model's imagined segments beside the ground truth (video, joints plot, metrics)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eva_bench.cli.common import split_tasks

CONTACT_SHEET = "contact_sheet.png"


def imagine(
    tasks: Annotated[str, typer.Option(help="'all' or comma-separated task names.")],
    checkpoint: Annotated[str | None, typer.Option(
        help="World-model checkpoint or training run (default: $EVA_BENCH_WM or the released one).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Episode seed (100000: the first evaluation seed).")] = 100000,
    segments: Annotated[int, typer.Option(min=1, help="Segments imagined, each from the real frames before it.")] = 4,
    steps: Annotated[int, typer.Option(min=1, help="Euler ODE steps per segment.")] = 10,
    idm: Annotated[str | None, typer.Option(
        help="IDM that decodes the joint angles (default: $EVA_BENCH_IDM or the released IDM).")] = None,
    autoencoder: Annotated[str | None, typer.Option(
        help="The world model's autoencoder (default: the one its checkpoint names).")] = None,
    instructions: Annotated[str, typer.Option(help='"seen" or "unseen" instruction templates.')] = "seen",
    out: Annotated[Path, typer.Option(help="Folder of the files written.")] = Path("imagined"),
) -> None:
    """Imagine segments of each task's expert episode at SEED and write, per task, an mp4 (imagined | real),
    a PNG of the joint angles the IDM decodes from each beside the expert's, and a JSON of PSNR/SSIM per
    segment and both videos' IDM reward; with several tasks also a contact sheet (imagined above real, at the end
    of the first segment)."""
    from tqdm import tqdm

    from eva_bench.doctor import require_rendering
    from eva_bench.idm.scoring import RewardScorer
    from eva_bench.paths import released_idm_dir, released_world_model_dir
    from eva_bench.world_model.imagine import imagine_episode
    from eva_bench.world_model.pipeline import WorldModelPipeline

    names = split_tasks(tasks)
    if instructions not in ("seen", "unseen"):
        raise typer.BadParameter('must be "seen" or "unseen"', param_hint="--instructions")
    require_rendering()
    pipeline = WorldModelPipeline.load(checkpoint or released_world_model_dir(), autoencoder)
    scorer = RewardScorer.load(idm or released_idm_dir())
    tiles = {}
    for task in tqdm(names, desc="imagining", unit="task", disable=None):
        result = imagine_episode(pipeline, scorer, task, seed, out, segments, steps, instructions)
        psnrs = ", ".join(f"{p:.1f}" for p in result.psnr_db)
        typer.echo(f"{task}: PSNR per segment {psnrs} dB; IDM reward imagined {result.reward_imagined:.3f}, "
                   f"real {result.reward_real:.3f} -> {result.files['video']}")
        tiles[task] = _tile(Path(result.files["video"]), result.segment_frames)
    if len(names) > 1:
        from PIL import Image

        from eva_bench.report.figures import contact_sheet

        Image.fromarray(contact_sheet(tiles, columns=7)).save(out / CONTACT_SHEET)
        typer.echo(f"contact sheet -> {out / CONTACT_SHEET}")


def _tile(video: Path, segment_frames: int):
    """Imagined above real, at the end of the first segment, from a side-by-side video."""
    import numpy as np

    from eva_bench.video import read_mp4

    frames = read_mp4(video)
    frame = frames[min(segment_frames, len(frames) - 1)]
    half = frame.shape[1] // 2
    return np.concatenate([frame[:, :half], frame[:, half:]], axis=0)
