#!/usr/bin/env bash
# Install eva-bench into a virtualenv (default: .venv in the repository root).
#
#   scripts/install.sh                       # system check/install + venv + package
#   EVA_BENCH_SKIP_SYSTEM=1 scripts/install.sh   # skip scripts/install_system.sh
#   EVA_BENCH_VENV=/path/to/venv scripts/install.sh
#   TORCH_SPEC='torch==2.13.0' scripts/install.sh   # e.g. a CUDA build for GPU users
#   PYTHON=python3.11 scripts/install.sh
#
# Idempotent: an existing venv is reused (never recreated) and pip is a no-op when up to date.
set -euo pipefail

log() { echo "[eva-bench] $*"; }
die() { echo "[eva-bench] ERROR: $*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

VENV="${EVA_BENCH_VENV:-.venv}"
# Install torch first: an unpinned torch requirement pulls a multi-GB CUDA build.
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
PYTHON="${PYTHON:-python3}"

log "Repository: ${ROOT}"

# 1. System prerequisites (Vulkan / Mesa lavapipe).
if [[ "${EVA_BENCH_SKIP_SYSTEM:-0}" == "1" ]]; then
    log "EVA_BENCH_SKIP_SYSTEM=1: skipping scripts/install_system.sh"
else
    log "Checking system prerequisites (scripts/install_system.sh; skip with EVA_BENCH_SKIP_SYSTEM=1)"
    bash "${ROOT}/scripts/install_system.sh"
fi

# 2. Virtualenv.
VPY="${VENV}/bin/python"
if [[ -x "${VPY}" ]] && "${VPY}" -c 'import sys' >/dev/null 2>&1; then
    state="$("${VPY}" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
    if "${VPY}" -m pip show eva-bench >/dev/null 2>&1 \
        && torch_ver="$("${VPY}" -c 'import torch; print(torch.__version__)' 2>/dev/null)"; then
        log "Virtualenv ${VENV} exists (Python ${state}, eva-bench installed, torch ${torch_ver}): reusing it"
    else
        log "Virtualenv ${VENV} exists (Python ${state}) but the install is incomplete: completing it"
    fi
else
    if [[ -e "${VENV}" ]] && [[ -n "$(ls -A "${VENV}" 2>/dev/null)" ]]; then
        die "${VENV} exists but is not a working virtualenv (${VPY} does not run). Remove it (make clean, or rm -rf ${VENV}) and re-run"
    fi
    command -v "${PYTHON}" >/dev/null 2>&1 || die "${PYTHON} not found; install Python >= 3.10 or set PYTHON=/path/to/python3"
    "${PYTHON}" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
        || die "$("${PYTHON}" --version 2>&1) is too old: eva-bench needs Python >= 3.10 (set PYTHON=/path/to/python3.10+)"
    "${PYTHON}" -c 'import ensurepip, venv' >/dev/null 2>&1 \
        || die "$("${PYTHON}" --version 2>&1) cannot create virtualenvs (no ensurepip). On Debian/Ubuntu: sudo apt-get install python3-venv"
    log "Creating virtualenv ${VENV} with $("${PYTHON}" --version 2>&1) ($(command -v "${PYTHON}"))"
    "${PYTHON}" -m venv "${VENV}"
fi

# 3. Python packages.
log "Upgrading pip"
"${VPY}" -m pip install --quiet --upgrade pip

log "Installing ${TORCH_SPEC} first (set TORCH_SPEC to override)"
"${VPY}" -m pip install "${TORCH_SPEC}"

log "Installing eva-bench in editable mode with dev extras: pip install -e \".[dev]\""
"${VPY}" -m pip install -e ".[dev]"

# 4. Report.
"${VPY}" - <<'EOF'
import importlib.metadata as md

import torch

print(f"[eva-bench] torch {torch.__version__} (CUDA available: {torch.cuda.is_available()})")
for dist in ("sapien", "mplib", "eva-bench"):
    print(f"[eva-bench] {dist} {md.version(dist)}")
EOF
[[ -x "${VENV}/bin/eva-bench" ]] || die "${VENV}/bin/eva-bench was not created"
log "Done. Use ${VENV}/bin/eva-bench, or: source ${VENV}/bin/activate"
