"""Figures shared by several reports: contact sheets of images, joint-angle panels of action sequences."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eva_bench.sim.embodiment import PIPER_BIMANUAL

_LABEL_HEIGHT = 14


def contact_sheet(images: dict[str, np.ndarray], columns: int = 7) -> np.ndarray:
    """Tile labelled RGB images (all (H, W, 3) uint8 of one size) into one (rows * (H + label), columns * W, 3).

    Raises:
        ValueError: No images, or images of different sizes.
    """
    from PIL import Image, ImageDraw

    if not images:
        raise ValueError("no images to tile")
    shapes = {image.shape for image in images.values()}
    if len(shapes) != 1:
        raise ValueError(f"images must share one size, got {sorted(shapes)}")
    height, width, _ = shapes.pop()
    columns = max(1, min(columns, len(images)))
    rows = -(-len(images) // columns)
    cell = height + _LABEL_HEIGHT
    sheet = Image.new("RGB", (columns * width, rows * cell), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for index, (label, image) in enumerate(images.items()):
        x, y = (index % columns) * width, (index // columns) * cell
        draw.text((x + 3, y + 1), label, fill=(0, 0, 0))
        sheet.paste(Image.fromarray(np.ascontiguousarray(image, np.uint8)), (x, y + _LABEL_HEIGHT))
    return np.asarray(sheet)


def joints_figure(path: Path, curves: dict[str, np.ndarray], title: str) -> Path:
    """A PNG of 14 panels (the joints and grippers of both arms), one line per curve (T, 14)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f"{arm} {joint}" for arm in ("left", "right") for joint in (*(f"j{i}" for i in range(1, 7)), "grip")]
    figure, axes = plt.subplots(2, 7, figsize=(21, 5.5), sharex=True)
    lower, upper = PIPER_BIMANUAL.action_lower(), PIPER_BIMANUAL.action_upper()
    for index, ax in enumerate(axes.flat):
        for label, curve in curves.items():
            ax.plot(curve[:, index], label=label, linewidth=1.2)
        ax.set_title(names[index], fontsize=9)
        if index % 7 == 6:  # grippers: their whole range, so a command that never closes shows as such
            ax.set_ylim(lower[index] - 0.05, upper[index] + 0.05)
    axes.flat[0].legend(fontsize=7)
    figure.suptitle(title, fontsize=10)
    figure.supxlabel("control step")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path
