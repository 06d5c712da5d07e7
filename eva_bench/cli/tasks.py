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


@app.command("robustness")
def tasks_robustness(
    tasks: Annotated[str, typer.Option(help="'all' or comma-separated task names.")] = "all",
    seeds: Annotated[int, typer.Option(min=1, help="Expert-solvable evaluation seeds per task.")] = 5,
    noise: Annotated[str, typer.Option(
        help="Comma-separated perturbations KIND:SIZE; kinds: none, iid, bias, lowpass (rad), gripper_shift "
             "(steps, negative = early), gripper_noise. Default: none, iid/bias/lowpass at 0.01/0.02/0.05, "
             "gripper_shift -5 and 5, gripper_noise 0.2.")] = "",
    workers: Annotated[int, typer.Option(min=1, help="Parallel worker processes.")] = 1,
    run_seed: Annotated[int, typer.Option(help="Evaluation seeds start at 100000 * (1 + RUN_SEED), as in `run`.")] = 0,
    hold_steps: Annotated[int, typer.Option(min=0, help="Steps the last action is held after the plan.")] = 50,
    out: Annotated[Path | None, typer.Option(help="Write every replay to this CSV (and the table beside it, .md).")]
    = None,
) -> None:
    """Replay each task's expert plan open-loop with simulated decoding errors and count the successes.

    Tells how much joint error a task tolerates: a video policy's actions are an IDM's decoding of the expert's
    motion, so a task that fails under 0.02 rad of noise caps every such policy, whatever its IDM.
    """
    from eva_bench import robustness
    from eva_bench.doctor import require_rendering

    names = split_tasks(tasks)
    try:
        perturbations = ([robustness.Perturbation.parse(p) for p in noise.split(",") if p.strip()]
                         or list(robustness.DEFAULT_PERTURBATIONS))
    except ValueError as error:
        raise UserError(str(error)) from None
    require_rendering()
    rows = _with_bar(len(names) * seeds, "robustness", "seed", lambda progress: robustness.measure(
        names, seeds, perturbations, workers, run_seed, hold_steps, progress))
    text = robustness.table(rows)
    typer.echo(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        robustness.write_csv(rows, out)
        _write_table(text, out.with_suffix(".md"))


@app.command("visibility")
def tasks_visibility(
    tasks: Annotated[str, typer.Option(help="'all' or comma-separated task names.")] = "all",
    seeds: Annotated[int, typer.Option(min=1, help="Evaluation seeds per task (from 100000).")] = 2,
    camera: Annotated[str, typer.Option(help="Static camera to measure.")] = "head_camera",
    resolution: Annotated[str, typer.Option(help="Frame size WIDTHxHEIGHT.")] = "320x240",
    stride: Annotated[int, typer.Option(min=1, help="Measure every STRIDE-th frame of the expert's episode.")] = 5,
    workers: Annotated[int, typer.Option(min=1, help="Parallel worker processes.")] = 1,
    out: Annotated[Path | None, typer.Option(help="Also write the table to this markdown file.")] = None,
) -> None:
    """How much of each arm's gripper and forearm is inside CAMERA's frame during the expert's episodes.

    Per task: the in-frame fraction (share of the part's unoccluded pixels, in an enlarged sensor with the same
    pose and focal length, that the real frame holds) at the home pose, averaged over each third of the
    episode, and the worst frame; both arms averaged. An IDM cannot decode a joint it cannot see.
    """
    from eva_bench import visibility
    from eva_bench.doctor import require_rendering
    from eva_bench.runner import eval_seed_start
    from eva_bench.sim.cameras import CAMERAS, parse_resolution

    names = split_tasks(tasks)
    if camera not in CAMERAS or CAMERAS[camera].mount is not None:
        raise UserError(f"--camera must be a static camera: {sorted(n for n, c in CAMERAS.items() if not c.mount)}")
    try:
        size = parse_resolution(resolution)
    except ValueError as error:
        raise UserError(str(error)) from None
    require_rendering()
    seed_list = [eval_seed_start(0) + i for i in range(seeds)]
    rows = _with_bar(len(names) * seeds, "visibility", "episode", lambda progress: visibility.measure(
        names, seed_list, camera, size, stride, workers, progress))
    text = visibility.table(rows)
    typer.echo(text)
    if out is not None:
        _write_table(text, out)


def _with_bar(total: int, desc: str, unit: str, work):
    """Run `work(progress)` with a tqdm bar on stderr fed by its `progress(done, total)` callback."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr)
    try:
        return work(lambda done, _total: bar.update(done - bar.n))
    finally:
        bar.close()


def _write_table(text: str, path: Path) -> None:
    """Write a markdown table (atomically) and say where."""
    from eva_bench.fileio import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text + "\n")
    typer.echo(f"wrote {path}")
