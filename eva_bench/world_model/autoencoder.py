"""`FrameAutoencoder`: the world model's video autoencoder (frames <-> latents), a diffusers `AutoencoderKL`.

Wan2.1 compresses a video 4x in time and 8x in space into 16 latent channels with a causal 3-D VAE; on two CPU
cores that VAE runs its conv3d at about 1 GFLOP/s (docs/performance.md). This autoencoder gives
the same compression at about a tenth of the cost: each group of `group` consecutive frames is stacked in the
channels (3 x group) of a 2-D `AutoencoderKL`, so one latent (16, H/8, W/8) holds 4 frames, and the world
model's 4-frame history is exactly one latent.

Shapes: frames (B, T, 3, H, W) uint8 with T a multiple of `group` <-> latents (B, T / group, C, H'/8, W/8)
float, normalized per channel with statistics measured on training data (`set_latent_stats`), so the world
model's flow matching sees roughly unit-variance latents. H is padded to H' by repeating the last row, so that
the latent grid's height is a multiple of `latent_multiple` (the world model's 2x2 patches: 120 -> 128 rows,
16 latent rows), and cropped again after decoding.

Training (`eva_bench.world_model.autoencoder_train`) uses the posterior mean plus a little Gaussian noise
rather than a sampled KL latent: sampled latents stalled at the mean image in the measurements above.
"""

from __future__ import annotations

import numpy as np
import torch

from eva_bench.saved_model import SavedModel

KIND = "autoencoder"


class FrameAutoencoder(SavedModel):
    """Groups of `group` frames <-> one latent each (see the module docstring for shapes).

    Args:
        width: Frame width W (a multiple of 2 ** (len(block_channels) - 1)).
        height: Frame height H (padded up to such a multiple inside).
        group: Consecutive frames stacked into one latent.
        latent_channels: C, channels of a latent.
        block_channels: Channels of the encoder's (and, reversed, the decoder's) resolution levels; each level
            after the first halves the resolution.
        layers_per_block: Residual layers per level.
        latent_noise: Std of the noise added to latents in training, relative to the batch's latent std; it
            keeps the decoder robust to the imprecise latents a world model generates.
        latent_multiple: The latent grid's height and width are multiples of this (width: W must allow it).
    """

    kind = KIND

    def __init__(
        self,
        width: int = 160,
        height: int = 120,
        group: int = 4,
        latent_channels: int = 16,
        block_channels: tuple[int, ...] | list = (32, 64, 128, 128),
        layers_per_block: int = 1,
        latent_noise: float = 0.1,
        latent_multiple: int = 2,
    ) -> None:
        super().__init__()
        from diffusers import AutoencoderKL  # lazy: importing diffusers costs seconds

        block_channels = tuple(int(c) for c in block_channels)
        self.scale = 2 ** (len(block_channels) - 1)
        cell = self.scale * latent_multiple
        if group < 1 or latent_multiple < 1 or width % cell or latent_noise < 0:
            raise ValueError(f"need group >= 1, width a multiple of {cell} (2 ** levels x latent_multiple) and "
                             f"latent_noise >= 0; got group {group}, {width}x{height}, noise {latent_noise}")
        self.config = {
            "width": width, "height": height, "group": group, "latent_channels": latent_channels,
            "block_channels": list(block_channels), "layers_per_block": layers_per_block,
            "latent_noise": latent_noise, "latent_multiple": latent_multiple,
        }
        self.padded_height = -(-height // cell) * cell
        groups = min(32, *block_channels)
        self.net = AutoencoderKL(
            in_channels=3 * group, out_channels=3 * group, latent_channels=latent_channels,
            down_block_types=("DownEncoderBlock2D",) * len(block_channels),
            up_block_types=("UpDecoderBlock2D",) * len(block_channels),
            block_out_channels=block_channels, layers_per_block=layers_per_block, norm_num_groups=groups,
        )
        self.register_buffer("latent_mean", torch.zeros(latent_channels))
        self.register_buffer("latent_std", torch.ones(latent_channels))

    # ------------------------------------------------------------------ shapes
    @property
    def group(self) -> int:
        return self.config["group"]

    def latent_shape(self, frames: int) -> tuple[int, int, int, int]:
        """(T / group, C, H' / 8, W / 8): the latent shape of `frames` frames."""
        if frames % self.group:
            raise ValueError(f"the number of frames must be a multiple of {self.group}, got {frames}")
        return (frames // self.group, self.config["latent_channels"], self.padded_height // self.scale,
                self.config["width"] // self.scale)

    def _stack(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, T, 3, H, W) uint8 or float in [0, 255] -> (B * T / group, 3 * group, H', W) in [-1, 1]."""
        b, t, c, h, w = frames.shape
        if (c, h, w) != (3, self.config["height"], self.config["width"]):
            raise ValueError(f"frames must be (B, T, 3, {self.config['height']}, {self.config['width']}), "
                             f"got {tuple(frames.shape)}")
        self.latent_shape(t)  # checks T
        x = frames.float() / 127.5 - 1.0
        if self.padded_height > h:
            x = torch.cat([x, x[..., -1:, :].expand(b, t, c, self.padded_height - h, w)], dim=3)
        return x.reshape(b * t // self.group, self.group * c, self.padded_height, w)

    def _unstack(self, x: torch.Tensor, batch: int) -> torch.Tensor:
        """(B * T / group, 3 * group, H', W) -> (B, T, 3, H, W), cropped back to H."""
        n, _, hp, w = x.shape
        x = x.reshape(batch, n // batch * self.group, 3, hp, w)
        return x[..., : self.config["height"], :]

    # ------------------------------------------------------------------ encode / decode
    def set_latent_stats(self, raw_latents: torch.Tensor) -> None:
        """Store the per-channel mean and std of un-normalized latents (N, C, h, w) of training frames."""
        channels = raw_latents.transpose(0, 1).reshape(raw_latents.shape[1], -1).double()
        self.latent_mean.copy_(channels.mean(1).float())
        self.latent_std.copy_(channels.std(1).clamp_min(1e-4).float())

    def encode_raw(self, frames: torch.Tensor) -> torch.Tensor:
        """Un-normalized posterior means (B * T / group, C, h, w) of frames (B, T, 3, H, W)."""
        return self.net.encode(self._stack(frames)).latent_dist.mean

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """Normalized latents (B, T / group, C, h, w) of frames (B, T, 3, H, W) uint8."""
        b = frames.shape[0]
        z = self.encode_raw(frames)
        z = (z - self.latent_mean[:, None, None]) / self.latent_std[:, None, None]
        return z.reshape(b, -1, *z.shape[1:])

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Frames (B, T, 3, H, W) in [-1, 1] (float) of normalized latents (B, T / group, C, h, w)."""
        z = latents.reshape(-1, *latents.shape[2:])
        return self.decode_raw(z * self.latent_std[:, None, None] + self.latent_mean[:, None, None], len(latents))

    def decode_raw(self, raw: torch.Tensor, batch: int) -> torch.Tensor:
        """Frames (batch, T, 3, H, W) in [-1, 1] of un-normalized latents (batch * T / group, C, h, w)."""
        return self._unstack(self.net.decode(raw).sample, batch)

    def reconstruct(self, frames: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Decoded frames (B, T, 3, H, W) in [-1, 1] of frames (B, T, 3, H, W), with `noise` (the latents'
        shape) added to the normalized latents, as in training."""
        z = self.encode(frames)
        return self.decode(z if noise is None else z + noise)

    @torch.no_grad()
    def round_trip(self, video: np.ndarray, batch_groups: int = 8) -> np.ndarray:
        """A whole video (T, H, W, 3) uint8 encoded and decoded, (T, H, W, 3) uint8; T is padded to a multiple
        of `group` by repeating the last frame, and the padding dropped again."""
        video = np.asarray(video)
        t = len(video)
        pad = -t % self.group
        if pad:
            video = np.concatenate([video, np.repeat(video[-1:], pad, 0)])
        frames = torch.from_numpy(np.ascontiguousarray(video.transpose(0, 3, 1, 2))).to(self.latent_mean.device)
        groups = frames.reshape(-1, self.group, *frames.shape[1:])
        out = [to_uint8(self.reconstruct(groups[i:i + batch_groups])) for i in range(0, len(groups), batch_groups)]
        return np.concatenate(out).reshape(-1, *out[0].shape[2:])[:t].transpose(0, 2, 3, 1)


def to_uint8(frames: torch.Tensor) -> np.ndarray:
    """Frames in [-1, 1] (any shape) -> uint8 numpy array of the same shape."""
    return ((frames.detach().float().clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8).cpu().numpy()
