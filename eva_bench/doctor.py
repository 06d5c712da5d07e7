"""`eva-bench doctor`: what this machine offers the simulator, and how to fix what is missing."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

_FIX_VULKAN = (
    "SAPIEN needs a Vulkan driver. On a machine without a GPU install Mesa's lavapipe >= 24.3: on Debian 12 run "
    "`scripts/install_system.sh` (it adds bookworm-backports and installs mesa-vulkan-drivers 25.x); the default "
    "Debian 12 Mesa 22.x fails with 'failed to find a rendering device'. With an NVIDIA GPU install the driver's "
    "Vulkan ICD (libnvidia-gl-<version> inside containers). Set EVA_BENCH_RENDER_DEVICE to pick a device."
)


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _mesa_version() -> str:
    if shutil.which("dpkg-query"):
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "mesa-vulkan-drivers"], capture_output=True, text=True
        )
        if out.returncode == 0 and out.stdout:
            return out.stdout.strip()
    return "unknown"


def render_check() -> tuple[bool, str]:
    """Render one frame of a tiny scene; returns (ok, device summary or error text)."""
    try:
        import numpy as np
        import sapien

        scene = sapien.Scene()
        camera = scene.add_camera("probe", 64, 48, 1.0, 0.01, 10.0)
        scene.update_render()
        camera.take_picture()
        picture = camera.get_picture("Color")
        if picture.shape[:2] != (48, 64) or not np.isfinite(picture).all():
            return False, f"rendering returned a bad image of shape {picture.shape}"
        return True, sapien.render.get_device_summary().strip()
    except Exception as exc:  # any failure here is the answer the user asked for
        return False, f"{type(exc).__name__}: {exc}"


def report() -> tuple[bool, list[str]]:
    """Lines describing the machine and whether simulation and rendering work."""
    lines = [
        f"python      {sys.version.split()[0]} ({platform.platform()})",
        f"eva-bench   {_package('eva-bench')}",
        f"sapien      {_package('sapien')}",
        f"mplib       {_package('mplib')}",
        f"torch       {_package('torch')}",
        f"numpy       {_package('numpy')}",
        f"mesa vulkan {_mesa_version()}",
    ]
    ok, detail = render_check()
    lines.append(f"rendering   {'OK' if ok else 'FAILED'}")
    lines.extend(f"  {line}" for line in detail.splitlines())
    if not ok:
        lines.append(f"fix         {_FIX_VULKAN}")
    return ok, lines
