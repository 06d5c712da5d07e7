"""A contact sheet of a run's episodes, to look at what a policy did: per episode one strip of evenly spaced
frames of the executed video and, for a world-model policy, one of the imagined video beside it, labelled with
the task, episode, outcome and IDM reward. Writes episodes_<outcome>.png.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eva_bench.report.joints import _video_file
from eva_bench.store import ResultsStore

OUTCOMES = ("success", "failure", "all")


def _strip(video: np.ndarray, frames: int, size: tuple[int, int]) -> np.ndarray:
    """`frames` evenly spaced frames of a (T, H, W, 3) video, each resized to size (W, H), side by side."""
    from PIL import Image

    picks = np.linspace(0, len(video) - 1, frames).round().astype(int)
    return np.concatenate([np.asarray(Image.fromarray(video[i]).resize(size)) for i in picks], axis=1)


def write_episode_sheet(store: ResultsStore, run_id: str, out: str | Path, outcome: str = "success",
                        frames: int = 8, limit: int = 40) -> list[Path]:
    """The sheet of the run's first `limit` episodes of `outcome` (task, then episode order) with a saved video.

    Raises:
        ValueError: An unknown run or outcome, or no such episode with a readable video.
    """
    from eva_bench.report.figures import contact_sheet
    from eva_bench.video import read_mp4

    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    if store.get_run(run_id) is None:
        raise ValueError(f"no run {run_id!r} in {store.path}")
    wanted = [e for e in store.episodes(run_id) if e.error is None and e.video_path
              and (outcome == "all" or e.success == (outcome == "success"))]
    strips, missing = {}, 0
    for episode in wanted:
        if len(strips) >= 2 * limit:
            break
        videos = {"executed": episode.video_path,
                  "imagined": ((episode.policy_metrics or {}).get("videos") or {}).get("imagined")}
        files = {kind: _video_file(store, path) for kind, path in videos.items() if path}
        if files.get("executed") is None:
            missing += 1
            continue
        executed = read_mp4(files["executed"])
        size = (executed.shape[2], executed.shape[1])
        reward = "" if episode.reward is None else f", R {episode.reward:.3f}"
        head = f"{episode.task} #{episode.episode} {'success' if episode.success else 'failure'}{reward}"
        strips[f"{head}: executed"] = _strip(executed, frames, size)
        if files.get("imagined") is not None:
            strips[f"{head}: imagined"] = _strip(read_mp4(files["imagined"]), frames, size)
    if not strips:
        raise ValueError(f"run {run_id!r} has no {outcome} episode with a saved video"
                         + (f" ({missing} whose video file is gone)" if missing else ""))
    from PIL import Image

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"episodes_{outcome}.png"
    Image.fromarray(contact_sheet(strips, columns=1)).save(path)
    return [path]
