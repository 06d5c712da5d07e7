"""Why an autoencoder fails the reward round trip (docs/world_model.md): per held-out episode, the IDM reward of
the real and of the reconstructed video, the decoded joints' error and accelerations by position in the 4-frame
group (the seams between groups are positions 3 -> 0), and over all episodes the rank correlation of segment
rewards (what `eva-bench train vae` reports at its end).

    python scripts/diagnose_autoencoder.py RUN_FOLDER [--idm results/checkpoints/idm-v3] [--episodes 8]

RUN_FOLDER is a `train vae` run; its own held-out split is used.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from eva_bench.data.episode import EpisodeFile
from eva_bench.idm.reward import executability
from eva_bench.idm.scoring import RewardScorer
from eva_bench.world_model.autoencoder import FrameAutoencoder
from eva_bench.world_model.autoencoder_train import reward_round_trip, spread

ARM_JOINTS = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12]


def _frames(video: np.ndarray, change) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(change(Image.fromarray(frame)).convert("RGB")) for frame in video])


def _jpeg(image, quality: int = 50):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(buffer)


def _blur(image):
    from PIL import ImageFilter

    return image.filter(ImageFilter.GaussianBlur(0.7))


PERTURBATIONS = {
    "blur 0.7 px": lambda video: _frames(video, _blur),
    "JPEG q50": lambda video: _frames(video, _jpeg),
    "noise std 3": lambda video: np.clip(video + np.random.default_rng(0).normal(0, 3, video.shape), 0, 255
                                         ).astype(np.uint8),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--idm", default="results/checkpoints/idm-v3")
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--perturbations", action="store_true",
                        help="Also R of each real video blurred (sigma 0.7 px), JPEG-compressed (q50), noised (std 3).")
    args = parser.parse_args()
    torch.set_num_threads(1)
    autoencoder = FrameAutoencoder.load(args.run).eval()
    scorer = RewardScorer.load(args.idm)
    state = json.loads((args.run / "state" / "trainer_state.json").read_text())
    held_out = [Path(p) for p in state["resume_key"]["val"]]
    episodes = [held_out[i] for i in spread(len(held_out), args.episodes)]
    for path in episodes:
        video = EpisodeFile(path).frames("head_camera", range(len(EpisodeFile(path))))
        real, rebuilt = scorer.decode(video), scorer.decode(autoencoder.round_trip(video))
        error = np.abs(real - rebuilt)[:, ARM_JOINTS].mean(1)
        accel = np.abs(np.diff(rebuilt, 2, axis=0))
        rewards = [executability(actions, scorer.config).reward for actions in (real, rebuilt)]
        real_accel = np.abs(np.diff(real, 2, axis=0)).mean()
        sys.stdout.write(f"{path.parent.parent.name:28s} {len(video):4d} frames  R real {rewards[0]:.3f} "
                         f"reconstructed {rewards[1]:.3f}  joint error by t%4 "
                         f"{np.round([error[i::4].mean() for i in range(4)], 4)}  |accel| real {real_accel:.4f} "
                         f"reconstructed by t%4 {np.round([accel[i::4].mean() for i in range(4)], 4)}\n")
        if args.perturbations:
            changed = {name: executability(scorer.decode(perturb(video)), scorer.config).reward
                       for name, perturb in PERTURBATIONS.items()}
            sys.stdout.write(f"{'':28s} R of the real video {', '.join(f'{k} {v:.3f}' for k, v in changed.items())}\n")
    summary = reward_round_trip(autoencoder, episodes, "head_camera", args.idm)
    sys.stdout.write(f"{ {k: round(v, 4) if isinstance(v, float) else v for k, v in summary.items()} }\n")


if __name__ == "__main__":
    main()
