"""ACT (Zhao et al., 2023), the DETR-style conditional VAE over action chunks that RoboTwin 2.0 trains as a baseline.

Training: a transformer encoder (the CVAE encoder) reads [CLS, state, the target chunk] and gives the posterior
(mu, log var) of a style variable z; the policy's transformer encoder reads [z, state, (task), image tokens]
(each camera's backbone features projected to `hidden`, with 2-D sine positions and a camera embedding), and a
decoder turns `chunk` learned queries into the chunk of actions. Loss: L1 between predicted and target actions
(padding past the episode's end masked out) + `kl_weight` * KL(posterior || N(0, I)). At inference z = 0.

States and actions are regressed in normalized units ((x - mean) / std of the training set, std floored at
0.01, as RoboTwin's ACT does), kept as buffers so they are saved with the weights; frames enter as uint8 and
are resized to the model's size when they differ. Deviations from the original, for 2 CPU cores and for lack
of torchvision: the decoder's queries are its input (DETR adds them at every layer), PyTorch's post-norm
transformer layers, and a `micro` backbone option (`eva_bench.vision.conv_backbone`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from eva_bench.policies.per_task import task_index
from torch import nn

from eva_bench.saved_model import SavedModel
from eva_bench.sim.embodiment import ACTION_DIM
from eva_bench.vision import IMAGENET_MEAN, IMAGENET_STD, ResNet18, conv_backbone

KIND = "act"
BACKBONES = ("micro", "resnet18")
MIN_STD = 1e-2


def sine_positions_2d(height: int, width: int, channels: int) -> torch.Tensor:
    """DETR's 2-D sine position embedding, (height * width, channels): half the channels for y, half for x."""
    quarter = channels // 4
    scale = 10000.0 ** (-torch.arange(quarter, dtype=torch.float32) / quarter)
    ys = torch.arange(height, dtype=torch.float32)[:, None] * scale[None]
    xs = torch.arange(width, dtype=torch.float32)[:, None] * scale[None]
    y = torch.cat([ys.sin(), ys.cos()], dim=1)[:, None, :].expand(height, width, 2 * quarter)
    x = torch.cat([xs.sin(), xs.cos()], dim=1)[None, :, :].expand(height, width, 2 * quarter)
    table = torch.cat([y, x], dim=2).reshape(height * width, 4 * quarter)
    return F.pad(table, (0, channels - 4 * quarter))


def sine_positions_1d(length: int, channels: int) -> torch.Tensor:
    """The transformer's 1-D sine position table, (length, channels)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    scale = torch.exp(torch.arange(0, channels, 2, dtype=torch.float32) * (-math.log(10000.0) / channels))
    table = torch.zeros(length, channels)
    table[:, 0::2] = torch.sin(position * scale)
    table[:, 1::2] = torch.cos(position * scale)[:, : channels // 2]
    return table


def _encoder(hidden: int, heads: int, ff: int, dropout: float, layers: int) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(hidden, heads, ff, dropout, batch_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class ACT(SavedModel):
    """Action chunking with transformers: images (B, N_cam, 3, H, W) uint8 + state (B, 14) -> (B, chunk, 14).

    Args:
        cameras: Camera names, in the order of the image input.
        width, height: Input frame size.
        chunk: Actions predicted per query (RoboTwin: 50).
        hidden: Transformer width (RoboTwin: 512).
        ff: Feed-forward width (RoboTwin: 3200).
        heads: Attention heads (8).
        enc_layers: Encoder layers (4).
        dec_layers: Decoder layers (RoboTwin keeps 7 but only the first feeds the loss: 1).
        vae_layers: Layers of the CVAE encoder (4).
        latent_dim: Size of z (32).
        dropout: Transformer dropout (0.1).
        backbone: "resnet18" (RoboTwin's) or "micro" (a small GroupNorm CNN for 2 CPU cores).
        backbone_norm: ResNet-18's normalization: "group" (from scratch) or "frozen_bn" (pretrained weights).
        stem_channels, stages: The micro backbone's shape (`eva_bench.vision.conv_backbone`).
        tasks: Task names of a task-conditioned (multi-task) model, each a learned token; () for one task.
        action_dim: Size of a state and of an action (14).
    """

    kind = KIND

    def __init__(
        self,
        cameras: tuple[str, ...] | list = ("head_camera",),
        width: int = 128,
        height: int = 96,
        chunk: int = 50,
        hidden: int = 256,
        ff: int = 1024,
        heads: int = 8,
        enc_layers: int = 2,
        dec_layers: int = 1,
        vae_layers: int = 2,
        latent_dim: int = 32,
        dropout: float = 0.1,
        backbone: str = "micro",
        backbone_norm: str = "group",
        stem_channels: int = 24,
        stages: tuple | list = ((32, 1, 2), (64, 1, 2), (128, 1, 2)),
        tasks: tuple[str, ...] | list = (),
        action_dim: int = ACTION_DIM,
    ) -> None:
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, got {backbone!r}")
        if not cameras or chunk < 1 or hidden % heads or width < 16 or height < 16:
            raise ValueError("need >= 1 camera, chunk >= 1, hidden divisible by heads and frames of >= 16x16")
        stages = [list(map(int, s)) for s in stages]
        self.config = {"cameras": list(cameras), "width": width, "height": height, "chunk": chunk,
                       "hidden": hidden, "ff": ff, "heads": heads, "enc_layers": enc_layers,
                       "dec_layers": dec_layers, "vae_layers": vae_layers, "latent_dim": latent_dim,
                       "dropout": dropout, "backbone": backbone, "backbone_norm": backbone_norm,
                       "stem_channels": stem_channels, "stages": stages, "tasks": list(tasks),
                       "action_dim": action_dim}
        if backbone == "resnet18":
            self.backbone: nn.Module = ResNet18(backbone_norm)
            channels = ResNet18.out_channels
            self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
            self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        else:
            self.backbone, channels = conv_backbone(3, stem_channels, stages)
            self.register_buffer("pixel_mean", torch.full((1, 3, 1, 1), 0.5))
            self.register_buffer("pixel_std", torch.full((1, 3, 1, 1), 0.5))
        self.input_proj = nn.Conv2d(channels, hidden, 1)
        with torch.no_grad():
            feature = self.backbone(torch.zeros(1, 3, height, width))
        self.feature_hw = tuple(feature.shape[-2:])
        self.register_buffer("image_positions", sine_positions_2d(*self.feature_hw, hidden), persistent=False)
        self.camera_embed = nn.Embedding(len(cameras), hidden)
        self.task_embed = nn.Embedding(len(tasks), hidden) if len(tasks) > 1 else None
        extra = 3 if self.task_embed is not None else 2  # z, state, (task)
        self.token_positions = nn.Embedding(extra, hidden)
        self.state_proj = nn.Linear(action_dim, hidden)
        self.latent_proj = nn.Linear(latent_dim, hidden)

        self.encoder = _encoder(hidden, heads, ff, dropout, enc_layers)
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(hidden, heads, ff, dropout, batch_first=True),
                                             dec_layers)
        self.queries = nn.Embedding(chunk, hidden)
        self.action_head = nn.Linear(hidden, action_dim)
        # The CVAE encoder (training only).
        self.vae_cls = nn.Embedding(1, hidden)
        self.vae_state = nn.Linear(action_dim, hidden)
        self.vae_action = nn.Linear(action_dim, hidden)
        self.vae_encoder = _encoder(hidden, heads, ff, dropout, vae_layers)
        self.register_buffer("vae_positions", sine_positions_1d(chunk + 2, hidden), persistent=False)
        self.latent_out = nn.Linear(hidden, 2 * latent_dim)
        for name in ("state", "action"):
            self.register_buffer(f"{name}_mean", torch.zeros(action_dim))
            self.register_buffer(f"{name}_std", torch.ones(action_dim))

    # ------------------------------------------------------------------ statistics
    def set_stats(self, states: np.ndarray, actions: np.ndarray) -> None:
        """Normalization statistics of the training states and actions (N, 14); std floored at 0.01."""
        for name, values in (("state", states), ("action", actions)):
            values = np.asarray(values, np.float64)
            getattr(self, f"{name}_mean").copy_(torch.as_tensor(values.mean(0), dtype=torch.float32))
            getattr(self, f"{name}_std").copy_(torch.as_tensor(np.maximum(values.std(0), MIN_STD),
                                                               dtype=torch.float32))

    def task_index(self, task: str) -> int:
        """The task token of `task` (0 for a single-task model, which conditions on no task)."""
        return task_index(self.config["tasks"], task, "ACT")

    # ------------------------------------------------------------------ forward
    def _image_tokens(self, images: torch.Tensor) -> torch.Tensor:
        b, n, _, h, w = images.shape
        x = images.reshape(b * n, 3, h, w).float() / 255.0
        if (w, h) != (self.config["width"], self.config["height"]):
            x = F.interpolate(x, size=(self.config["height"], self.config["width"]), mode="bilinear",
                              align_corners=False, antialias=True)
        features = self.input_proj(self.backbone((x - self.pixel_mean) / self.pixel_std))
        tokens = features.flatten(2).transpose(1, 2).reshape(b, n, -1, features.shape[1])
        tokens = tokens + self.image_positions[None, None] + self.camera_embed.weight[None, :, None]
        return tokens.reshape(b, -1, features.shape[1])

    def posterior(self, state: torch.Tensor, actions: torch.Tensor, is_pad: torch.Tensor):
        """(mu, logvar) of z given normalized state (B, 14) and target chunk (B, chunk, 14)."""
        b = state.shape[0]
        tokens = torch.cat([self.vae_cls.weight[None].expand(b, -1, -1), self.vae_state(state)[:, None],
                            self.vae_action(actions)], dim=1) + self.vae_positions[None]
        mask = torch.cat([torch.zeros(b, 2, dtype=torch.bool, device=state.device), is_pad], dim=1)
        out = self.vae_encoder(tokens, src_key_padding_mask=mask)[:, 0]
        mu, logvar = self.latent_out(out).chunk(2, dim=-1)
        return mu, logvar

    def forward(self, images: torch.Tensor, state: torch.Tensor, task: torch.Tensor | None = None,
                actions: torch.Tensor | None = None, is_pad: torch.Tensor | None = None, sample: bool = True):
        """Normalized chunk (B, chunk, 14) and (mu, logvar) (None at inference). `state` and `actions` are in
        joint units; with `actions` (training) z comes from the posterior (sampled when `sample`)."""
        state_n = (state - self.state_mean) / self.state_std
        b = state.shape[0]
        if actions is not None:
            actions_n = (actions - self.action_mean) / self.action_std
            pad = is_pad if is_pad is not None else torch.zeros(actions.shape[:2], dtype=torch.bool,
                                                                 device=state.device)
            mu, logvar = self.posterior(state_n, actions_n, pad)
            z = mu + (torch.randn_like(mu) * (0.5 * logvar).exp() if sample else 0)
            stats = (mu, logvar)
        else:
            z, stats = torch.zeros(b, self.config["latent_dim"], device=state.device), None
        extra = [self.latent_proj(z), self.state_proj(state_n)]
        if self.task_embed is not None:
            extra.append(self.task_embed(task if task is not None else torch.zeros(b, dtype=torch.long,
                                                                                    device=state.device)))
        extra = torch.stack(extra, dim=1) + self.token_positions.weight[None]
        memory = self.encoder(torch.cat([extra, self._image_tokens(images)], dim=1))
        out = self.decoder(self.queries.weight[None].expand(b, -1, -1), memory)
        return self.action_head(out), stats

    def loss(self, images, state, actions, is_pad, task=None, kl_weight: float = 10.0) -> tuple[torch.Tensor, dict]:
        """ACT's loss (module docstring) and its parts {"l1", "kl"}."""
        predicted, (mu, logvar) = self(images, state, task, actions, is_pad)
        target = (actions - self.action_mean) / self.action_std
        keep = (~is_pad).unsqueeze(-1).float()
        l1 = ((predicted - target).abs() * keep).sum() / (keep.sum() * predicted.shape[-1]).clamp(min=1)
        kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(-1).mean()
        return l1 + kl_weight * kl, {"l1": float(l1.detach()), "kl": float(kl.detach())}

    @torch.no_grad()
    def predict(self, images: np.ndarray, state: np.ndarray, task: str = "") -> np.ndarray:
        """The chunk (chunk, 14) in joint units for one observation: images (N_cam, H, W, 3) uint8, state (14,)."""
        was_training = self.training
        self.eval()
        device = self.state_mean.device
        frames = torch.from_numpy(np.ascontiguousarray(np.asarray(images).transpose(0, 3, 1, 2)))[None].to(device)
        state_t = torch.as_tensor(np.asarray(state, np.float32), device=device)[None]
        task_t = torch.tensor([self.task_index(task)], device=device)
        predicted, _ = self(frames, state_t, task_t)
        self.train(was_training)
        return (predicted[0] * self.action_std + self.action_mean).cpu().numpy().astype(np.float32)
