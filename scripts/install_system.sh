#!/usr/bin/env bash
# System prerequisites for eva-bench: a working Vulkan device for SAPIEN 3.
#
# Without a GPU, SAPIEN renders on the CPU through Mesa's lavapipe Vulkan driver, which must be
# Mesa >= 24.3 (older lavapipe fails with "failed to find a rendering device"). On Debian 12 that
# means mesa-vulkan-drivers from bookworm-backports. With an NVIDIA driver the Mesa step is skipped.
#
# Idempotent: it checks everything first and only touches apt when something is missing or too old.
set -euo pipefail

MIN_MESA="24.3"
BACKPORTS_FILE="/etc/apt/sources.list.d/eva-bench-backports.sources"
NVIDIA_ICD="/usr/share/vulkan/icd.d/nvidia_icd.json"

log() { echo "[eva-bench] $*"; }
die() { echo "[eva-bench] ERROR: $*" >&2; exit 1; }

# --- privileges: root, or sudo when available ----------------------------------------------------
SUDO=()
need_root() {
    # Called only when something actually has to be changed.
    if [[ ${EUID} -eq 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        die "need root to $1, but this is not root and sudo is not installed. Re-run this script as root (e.g. su -c '$0')"
    fi
}
as_root() { "${SUDO[@]}" "$@"; }

# --- Vulkan device check (used by every path) ----------------------------------------------------
# Prints the device names listed by `vulkaninfo --summary`, one per line; empty if none.
vulkan_devices() {
    command -v vulkaninfo >/dev/null 2>&1 || return 0
    vulkaninfo --summary 2>/dev/null | sed -n 's/^[[:space:]]*deviceName[[:space:]]*=[[:space:]]*//p' || true
}

verify_vulkan() {
    command -v vulkaninfo >/dev/null 2>&1 || die "vulkaninfo not found (package vulkan-tools); cannot verify the Vulkan device"
    local devices
    devices="$(vulkan_devices)"
    if [[ -z "${devices}" ]]; then
        echo "[eva-bench] 'vulkaninfo --summary' output:" >&2
        vulkaninfo --summary >&2 || true
        die "vulkaninfo lists no Vulkan device; SAPIEN will fail with 'failed to find a rendering device'"
    fi
    while IFS= read -r dev; do
        log "Vulkan device: ${dev}: OK"
    done <<<"${devices}"
}

nvidia_present() {
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1 && [[ -f "${NVIDIA_ICD}" ]]
}

# --- non-Debian systems: check, never guess a package manager ------------------------------------
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    log "apt-get/dpkg not found: not a Debian/Ubuntu system, so nothing will be installed automatically"
    devices="$(vulkan_devices)"
    if [[ -n "${devices}" ]]; then
        while IFS= read -r dev; do
            log "Vulkan device: ${dev}: OK"
        done <<<"${devices}"
        log "A Vulkan device is usable; for CPU rendering make sure it is Mesa lavapipe/llvmpipe from Mesa >= ${MIN_MESA}"
        exit 0
    fi
    cat >&2 <<EOF
[eva-bench] ERROR: no usable Vulkan device found ('vulkaninfo --summary' is missing or lists no device).
[eva-bench] SAPIEN 3 needs one of:
[eva-bench]   - an NVIDIA GPU with its driver (nvidia-smi working, ${NVIDIA_ICD} present)
[eva-bench]     plus the Vulkan loader (libvulkan.so.1), or
[eva-bench]   - Mesa's lavapipe CPU Vulkan driver from Mesa >= ${MIN_MESA}, plus the Vulkan loader.
[eva-bench] Install, with your package manager, the Vulkan loader, Mesa's Vulkan drivers (>= ${MIN_MESA})
[eva-bench] and vulkaninfo, e.g.:
[eva-bench]   Fedora/RHEL:  dnf install vulkan-loader mesa-vulkan-drivers vulkan-tools
[eva-bench]   Arch:         pacman -S vulkan-icd-loader vulkan-swrast vulkan-tools
[eva-bench]   openSUSE:     zypper install libvulkan1 libvulkan_lvp vulkan-tools
[eva-bench] then check that 'vulkaninfo --summary' lists a device, and re-run this script.
EOF
    exit 1
fi

# --- Debian/Ubuntu --------------------------------------------------------------------------------
CODENAME=""
if [[ -r /etc/os-release ]]; then
    CODENAME="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
fi
log "System: $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}") (codename: ${CODENAME:-unknown})"

# Installed version of a package, empty when not installed (ignores removed-but-configured 'rc').
pkg_version() {
    local status
    status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null || true)"
    [[ "${status}" == ii* ]] || return 0
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true
}
# 1:25.0.7-2~bpo12+1 -> 25.0.7
upstream_version() { local v="${1#*:}"; echo "${v%%-*}"; }

backports_configured() {
    local files=()
    [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
    shopt -s nullglob
    files+=(/etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
    shopt -u nullglob
    ((${#files[@]})) || return 1
    grep -qsE '^[^#]*\bbookworm-backports\b' "${files[@]}"
}

APT_UPDATED=0
apt_update() {
    if [[ ${APT_UPDATED} -eq 0 ]]; then
        log "Running apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        APT_UPDATED=1
    fi
}
apt_install() {
    apt_update
    log "Running apt-get install -y $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

CHANGED=0

# 1. Mesa lavapipe (skipped when an NVIDIA driver provides Vulkan).
SKIP_MESA=0
if nvidia_present; then
    log "NVIDIA driver found (nvidia-smi works, ${NVIDIA_ICD} present): skipping the Mesa lavapipe step"
    SKIP_MESA=1
fi

MESA_TARGET=()   # extra apt-get args for the Mesa install (e.g. -t bookworm-backports)
MESA_NEEDED=0
if [[ ${SKIP_MESA} -eq 0 ]]; then
    mesa_ver="$(pkg_version mesa-vulkan-drivers)"
    if [[ -z "${mesa_ver}" ]]; then
        log "Mesa lavapipe (mesa-vulkan-drivers) not installed: will install (need >= ${MIN_MESA})"
        MESA_NEEDED=1
    elif dpkg --compare-versions "${mesa_ver}" ge "${MIN_MESA}~"; then
        log "Mesa lavapipe $(upstream_version "${mesa_ver}") found (>= ${MIN_MESA}): OK"
    else
        log "Mesa lavapipe $(upstream_version "${mesa_ver}") found, but SAPIEN needs >= ${MIN_MESA}: will upgrade"
        MESA_NEEDED=1
    fi

    if [[ ${MESA_NEEDED} -eq 1 ]]; then
        if [[ "${CODENAME}" == "bookworm" ]]; then
            # Debian 12 ships Mesa 22.x; a new enough Mesa comes from bookworm-backports.
            if backports_configured; then
                log "APT source for bookworm-backports found: OK"
            else
                need_root "add the bookworm-backports APT source"
                log "Adding APT source bookworm-backports: ${BACKPORTS_FILE}"
                as_root tee "${BACKPORTS_FILE}" >/dev/null <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
                CHANGED=1
            fi
            MESA_TARGET=(-t bookworm-backports)
        else
            log "Not Debian 12 (bookworm): trying mesa-vulkan-drivers from the default APT sources"
        fi
    fi
fi

# 2. Vulkan loader and vulkaninfo (always needed, NVIDIA or not).
TO_INSTALL=()
for pkg in libvulkan1 vulkan-tools; do
    ver="$(pkg_version "${pkg}")"
    if [[ -n "${ver}" ]]; then
        log "${pkg} ${ver} found: OK"
    else
        log "${pkg} not installed: will install"
        TO_INSTALL+=("${pkg}")
    fi
done

# 3. Python venv support for the distribution's python3 (Debian splits ensurepip into python3-venv).
if [[ "$(command -v python3 || true)" == /usr/bin/python3 ]]; then
    if /usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        log "python3 venv support (ensurepip) found: OK"
    else
        log "python3 venv support (ensurepip) missing: will install python3-venv"
        TO_INSTALL+=(python3-venv)
    fi
fi

if [[ ${MESA_NEEDED} -eq 1 || ${#TO_INSTALL[@]} -gt 0 ]]; then
    need_root "install system packages with apt-get"
    if [[ ${MESA_NEEDED} -eq 1 ]]; then
        # Install loader and tools in the same transaction so the versions match.
        apt_install "${MESA_TARGET[@]}" mesa-vulkan-drivers libvulkan1 vulkan-tools
        mesa_ver="$(pkg_version mesa-vulkan-drivers)"
        if [[ -z "${mesa_ver}" ]] || ! dpkg --compare-versions "${mesa_ver}" ge "${MIN_MESA}~"; then
            die "mesa-vulkan-drivers ${mesa_ver:-(not installed)} is still older than ${MIN_MESA}; install Mesa >= ${MIN_MESA} (e.g. from your distribution's backports) and re-run"
        fi
        log "Mesa lavapipe $(upstream_version "${mesa_ver}") installed (>= ${MIN_MESA}): OK"
        # Whatever is left (python3-venv) comes from the default release.
        rest=()
        for pkg in "${TO_INSTALL[@]}"; do
            [[ "${pkg}" == libvulkan1 || "${pkg}" == vulkan-tools ]] || rest+=("${pkg}")
        done
        ((${#rest[@]} == 0)) || apt_install "${rest[@]}"
    else
        apt_install "${TO_INSTALL[@]}"
    fi
    CHANGED=1
fi

# 4. Final check: SAPIEN needs vulkaninfo to list a device.
verify_vulkan

if [[ ${CHANGED} -eq 0 ]]; then
    log "System prerequisites already satisfied: nothing changed"
else
    log "System prerequisites installed"
fi
