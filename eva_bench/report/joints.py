"""The paper's Figure 2 from a run: the joint angles the IDM decodes from a high-reward and a low-reward rollout.

The rollouts are the run's episodes with the highest and the lowest reward: of the imagined videos (`imagined`:
a world-model policy's, scored by the reward of its imagined segments, what GRPO maximises) or of the executed
videos (`executed`: any policy's, scored by the episode's stored IDM reward). The chosen videos are decoded
again by the IDM and scored whole from the saved mp4 (`reward_from_mp4`). That differs from the stored score:
an executed episode's was scored on the uncompressed frames, an imagined rollout's is the mean over its
segments, each scored with its history frames. Writes figure2_joints.png and figure2_joints.json.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eva_bench.store import EpisodeRecord, ResultsStore

SOURCES = ("imagined", "executed")


def _scored(store: ResultsStore, run_id: str, source: str) -> list[tuple[float, EpisodeRecord, Path]]:
    """(score, episode, video) of the run's finished episodes that have a score and a saved video of `source`."""
    rows = []
    for episode in store.episodes(run_id):
        if episode.error is not None:
            continue
        metrics = episode.policy_metrics or {}
        if source == "imagined":
            score, video = metrics.get("imagined_reward"), (metrics.get("videos") or {}).get("imagined")
        else:
            score, video = episode.reward, episode.video_path
        found = _video_file(store, video) if video else None
        if score is not None and found is not None:
            rows.append((float(score), episode, found))
    return rows


def _video_file(store: ResultsStore, video: str) -> Path | None:
    """A stored video path: as given (relative to where the run was made) or relative to the database's folder."""
    for path in (Path(video), Path(store.path).parent / video):
        if path.is_file():
            return path
    return None


def write_joints_report(store: ResultsStore, run_id: str, out: str | Path, source: str = "imagined",
                        idm: str | None = None) -> list[Path]:
    """Figure 2 of run `run_id` (module docstring); `idm` defaults to the run's reward IDM.

    Raises:
        ValueError: No such run, an unknown source, fewer than two scored episodes with saved videos, or no IDM.
    """
    from eva_bench.idm.reward import executability
    from eva_bench.idm.scoring import RewardScorer
    from eva_bench.report.figures import joints_figure
    from eva_bench.video import read_mp4

    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    run = store.get_run(run_id)
    if run is None:
        raise ValueError(f"no run {run_id!r} in {store.path}")
    rows = _scored(store, run_id, source)
    if len(rows) < 2:
        raise ValueError(f"run {run_id} has {len(rows)} episode(s) with an {source} video and its reward; need two "
                         f"(was it run with videos{' and a world-model policy' if source == 'imagined' else ''}?)")
    idm = idm or run.reward_idm
    if not idm:
        raise ValueError(f"run {run_id} stored no reward IDM: give one (--idm)")
    scorer = RewardScorer.load(idm)
    rows.sort(key=lambda row: (row[0], row[1].task, row[1].episode))
    summary, curves = {}, {}
    for label, (score, episode, video) in (("high", rows[-1]), ("low", rows[0])):
        decoded = scorer.decode(read_mp4(video))
        breakdown = executability(decoded, scorer.config)
        summary[label] = {"task": episode.task, "episode": episode.episode, "seed": episode.seed,
                          "success": bool(episode.success), "stored_reward": score,
                          "reward_from_mp4": breakdown.reward, "components": breakdown.to_dict(), "video": str(video)}
        curves[f"{label}: {episode.task} #{episode.episode}, R {score:.3f}"] = decoded
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    title = (f"Run {run_id} ({run.policy}): IDM-decoded joints of the highest- and lowest-reward {source} rollouts "
             f"of {len(rows)}")
    figure = joints_figure(out / "figure2_joints.png", curves, title)
    info = out / "figure2_joints.json"
    shown = os.path.relpath(idm) if Path(idm).resolve().is_relative_to(Path.cwd()) else str(idm)
    info.write_text(json.dumps({"run_id": run_id, "source": source, "idm": shown, "episodes_scored": len(rows),
                                **summary}, indent=1))
    return [figure, info]
