"""`eva-bench doctor`: what this machine offers the simulator, and how to fix what is missing."""

from __future__ import annotations

import json
import platform
import shutil
import signal
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

from eva_bench.errors import RenderingUnavailableError

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


_PROBE = """
import json, os, sys
import numpy as np
import sapien
try:
    scene = sapien.Scene()
    camera = scene.add_camera("probe", 64, 48, 1.0, 0.01, 10.0)
    scene.update_render()
    camera.take_picture()
    picture = camera.get_picture("Color")
    ok = picture.shape[:2] == (48, 64) and bool(np.isfinite(picture).all())
    result = {"ok": ok, "device": sapien.render.get_device_summary(), "error": "" if ok else "bad image"}
except Exception as exc:
    result = {"ok": False, "device": "", "error": f"{type(exc).__name__}: {exc}"}
print(json.dumps(result), flush=True)
os._exit(0)  # SAPIEN may crash while tearing down after a failed device search
"""


def render_check(timeout: float = 180.0) -> tuple[bool, str]:
    """Render one frame of a tiny scene in a separate process; returns (ok, device summary or what failed).

    A separate process, because SAPIEN can crash the interpreter after failing to find a Vulkan device.
    """
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"rendering one frame took more than {timeout:.0f} s"
    if proc.returncode != 0:
        if proc.returncode < 0:
            return False, f"the render probe crashed ({signal.Signals(-proc.returncode).name})"
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        return False, lines[-1] if lines else f"the render probe exited with status {proc.returncode}"
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return False, f"unexpected render probe output: {proc.stdout[-200:]!r}"
    if not result["ok"]:
        return False, result["error"]
    return True, result["device"].strip()


def require_rendering() -> None:
    """Raise RenderingUnavailableError (with the fix) unless SAPIEN can render on this machine."""
    ok, detail = render_check()
    if not ok:
        raise RenderingUnavailableError(f"SAPIEN cannot render here ({detail}). {_FIX_VULKAN}")


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
