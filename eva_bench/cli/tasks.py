"""`eva-bench tasks ...`: list tasks, render their scenes, check their experts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from eva_bench.cli.common import split_tasks
from eva_bench.errors import UserError

app = typer.Typer(help="List tasks and render their scenes.", no_args_is_help=True)


@app.command("list")
def tasks_list() -> None:
    """Show every task with its step limit and arm usage."""
    from eva_bench.task import TASKS

    typer.echo(f"{'task':28s} {'version':>7s} {'step limit':>10s} {'arms':>6s}  description")
    for name in TASKS.names():
        if name.startswith("_"):
            continue
        cls = TASKS.get(name)
        typer.echo(f"{name:28s} {cls.version:>7d} {cls.step_limit:>10d} {cls.arms:>6s}  {cls.summary()}")


@app.command("render")
def tasks_render(
    task: Annotated[str, typer.Argument(help="Task name (see `eva-bench tasks list`).")],
    seed: Annotated[int, typer.Option(help="Scene seed.")] = 0,
    out: Annotated[Path, typer.Option(help="Folder for the PNG files.")] = Path("renders"),
    width: Annotated[int, typer.Option(min=16, max=4096, help="Image width.")] = 320,
    height: Annotated[int, typer.Option(min=16, max=4096, help="Image height.")] = 240,
) -> None:
    """Write a PNG of every camera for TASK's scene at SEED."""
    import imageio.v3 as iio

    from eva_bench.doctor import require_rendering
    from eva_bench.sim.cameras import CAMERAS
    from eva_bench.sim.env import BimanualEnv
    from eva_bench.task import TASKS

    task_cls = TASKS.get(task)
    require_rendering()
    env = BimanualEnv(cameras=dict.fromkeys(CAMERAS, (width, height)))
    instance = env.reset(task_cls, seed)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in env.get_obs()["observation"].items():
        path = out / f"{task}_seed{seed}_{name}.png"
        iio.imwrite(path, data["rgb"])
        typer.echo(str(path))
    for kind in ("seen", "unseen"):  # what `eva-bench run` draws for this seed (with --instructions KIND)
        typer.echo(f"instruction ({kind}): {instance.episode_instruction(seed, kind)}")


@app.command("sheet")
def tasks_sheet(
    out: Annotated[Path, typer.Option(help="PNG file to write.")] = Path("renders/tasks_head_camera.png"),
    tasks: Annotated[str, typer.Option(help="'all' or comma-separated task names.")] = "all",
    seed: Annotated[int, typer.Option(help="Scene seed of every task.")] = 0,
    camera: Annotated[str, typer.Option(help="Camera to show.")] = "head_camera",
    columns: Annotated[int, typer.Option(min=1, help="Images per row.")] = 7,
    width: Annotated[int, typer.Option(min=16, max=1024, help="Width of each image.")] = 320,
    height: Annotated[int, typer.Option(min=16, max=1024, help="Height of each image.")] = 240,
) -> None:
    """Write one contact sheet of every task's scene at SEED as seen by CAMERA."""
    import imageio.v3 as iio

    from eva_bench.doctor import require_rendering
    from eva_bench.report.figures import contact_sheet
    from eva_bench.sim.cameras import check_camera_names
    from eva_bench.sim.env import BimanualEnv
    from eva_bench.task import TASKS

    try:
        check_camera_names([camera])
    except ValueError as error:
        raise UserError(str(error)) from None
    names = split_tasks(tasks)
    require_rendering()
    env = BimanualEnv(cameras={camera: (width, height)})
    images = {}
    for name in names:
        env.reset(TASKS.get(name), seed)
        images[name] = env.render(camera)
    out.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(out, contact_sheet(images, columns))
    typer.echo(str(out))


@app.command("expert")
def tasks_expert(
    tasks: Annotated[str, typer.Option(help="'all' or comma-separated task names.")] = "all",
    seeds: Annotated[int, typer.Option(min=1, help="Check training seeds 0 .. SEEDS-1.")] = 50,
    workers: Annotated[int, typer.Option(min=1, help="Parallel worker processes.")] = 1,
) -> None:
    """Run each task's scripted expert on training seeds and report how many it solves (and why not)."""
    from tqdm import tqdm

    from eva_bench.doctor import require_rendering
    from eva_bench.runner import check_expert
    from eva_bench.task import TASKS, derived_step_limit

    names = split_tasks(tasks)
    require_rendering()
    bar = tqdm(total=len(names) * seeds, desc="expert", unit="seed", file=sys.stderr)
    results = check_expert(names, range(seeds), workers, lambda _stage, done, _total: bar.update(done - bar.n))
    bar.close()
    for task, checks in results.items():
        solved = sum(c.solvable for c in checks)
        lengths = [c.expert_steps for c in checks if c.solvable and c.expert_steps]
        mean_steps = sum(lengths) / max(1, len(lengths))
        longest = max(lengths, default=0)
        limit = f"limit {derived_step_limit(longest)} (task has {TASKS.get(task).step_limit})" if longest else ""
        typer.echo(f"{task:28s} {solved:3d}/{len(checks)} solved ({100 * solved / len(checks):.0f}%), "
                   f"mean {mean_steps:.0f} steps, longest {longest} -> {limit}")
        for check in checks:
            if not check.solvable:
                typer.echo(f"    seed {check.seed}: {check.reason}")
